"""The ``seqcore`` command group and the process entry point.

Core commands are imported only when run, and plug-ins are loaded only when a command needs them,
so ``seqcore --help`` and ``seqcore --version`` import neither torch nor any plug-in. User errors
(:class:`seqcore.errors.SeqcoreError` and click's usage errors) are printed as one line,
``seqcore: error: ...``, with a non-zero exit status and no traceback; ``--debug`` (or
``SEQCORE_DEBUG=1``) prints the full traceback of every error as well.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback

import click

from seqcore._version import __version__
from seqcore.cli.memory import restart_with_training_allocator
from seqcore.errors import RegistrationError, SeqcoreError

# name -> (module:attribute, one-line help); imported on use only.
CORE_COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("seqcore.cli.config:config_command", "Print the resolved configuration as TOML."),
    "plugins": ("seqcore.cli.plugins:plugins_command", "List plug-ins and their components."),
    "preprocess": ("seqcore.cli.preprocess:preprocess", "Binarize text into a data-bin folder."),
    "train": ("seqcore.cli.train:train_command", "Train a model."),
    "generate": (
        "seqcore.cli.generate:generate_command",
        "Translate a binarized split with a trained model and score it (BLEU).",
    ),
    "interactive": (
        "seqcore.cli.interactive:interactive_command",
        "Translate raw sentences from stdin as they come.",
    ),
    "eval-lm": ("seqcore.cli.eval_lm:eval_lm_command", "Evaluate a language model (perplexity)."),
    "score": ("seqcore.cli.score:score_command", "Compute BLEU of a system output."),
    "average-checkpoints": (
        "seqcore.cli.average_checkpoints:average_checkpoints_command",
        "Average the weights of several checkpoints.",
    ),
    "import-fairseq": (
        "seqcore.cli.import_fairseq:import_fairseq_command",
        "Convert a fairseq checkpoint into a seqcore one (no pickled code runs).",
    ),
    "export-fairseq": (
        "seqcore.cli.import_fairseq:export_fairseq_command",
        "Convert a seqcore checkpoint into a fairseq one.",
    ),
    "new-plugin": (
        "seqcore.cli.new_plugin:new_plugin_command",
        "Write a new plug-in to start from.",
    ),
    "plot": ("seqcore.cli.plot:plot_command", "Draw loss curves of json training logs."),
}


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        os.environ["SEQCORE_DEBUG"] = "1"  # worker processes and the plug-in loader read it


def _disable_plugins(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    if value:
        from seqcore.loader import disable_plugins

        disable_plugins(value)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from seqcore.loader import discovered_distributions

    click.echo(f"seqcore {__version__}")
    for name, version in discovered_distributions():
        click.echo(f"  {name} {version}")
    ctx.exit()


class SeqcoreGroup(click.Group):
    """A group whose core commands load lazily and whose other commands come from plug-ins."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._plugin_commands_added = False

    def add_plugin_commands(self) -> None:
        """Call every plug-in's ``seqcore_add_commands`` hook once (loading plug-ins)."""
        if self._plugin_commands_added:
            return
        self._plugin_commands_added = True
        from seqcore.cli.plugin_commands import add_plugin_commands

        add_plugin_commands(self, set(CORE_COMMANDS))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*CORE_COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in CORE_COMMANDS:
            module, _, attr = CORE_COMMANDS[name][0].partition(":")
            return getattr(importlib.import_module(module), attr)
        if name not in self.commands:
            self.add_plugin_commands()
        from seqcore.cli.plugin_commands import COMMAND_CLASHES

        if name in COMMAND_CLASHES:
            raise RegistrationError(COMMAND_CLASHES[name])
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in sorted(CORE_COMMANDS.items())]
        rows += [(n, c.get_short_help_str()) for n, c in sorted(self.commands.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        formatter.write_paragraph()
        formatter.write_text(
            "Plug-ins may add commands; 'seqcore plugins' lists them. "
            "'seqcore COMMAND --help' shows a command's options."
        )


@click.group(cls=SeqcoreGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version of seqcore and of every installed plug-in, then exit.",
)
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Print the full traceback of any error and of every plug-in that fails to load "
    "(also SEQCORE_DEBUG=1).",
)
@click.option(
    "--disable-plugin",
    multiple=True,
    metavar="NAME",
    expose_value=False,
    callback=_disable_plugins,
    help="Do not load this plug-in (distribution or entry-point name); repeatable. Also "
    "SEQCORE_DISABLE_PLUGINS=NAME[,NAME...]; SEQCORE_PLUGINS=NAME[,NAME...] loads only those.",
)
def cli() -> None:
    """seqcore: sequence modeling (translation, language modeling) with plug-ins.

    Models, criterions, tasks, optimizers and learning-rate schedulers come from plug-ins:
    installed distributions (pip install seqcore-plugin-NAME) or your own modules (--user-dir).
    """


def _configure_logging() -> None:
    """seqcore's console handler (INFO and up, to stderr) on the ``seqcore`` logger, made once
    per process and found again by its mark: a handler somebody else put there (a ``--log-file``
    of a run that is still open, a test's capture) does not stand in for it, so a command's lines
    are never lost to the root logger."""
    root = logging.getLogger("seqcore")
    if not any(getattr(h, "seqcore_console", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.seqcore_console = True
        handler.setFormatter(_Formatter())
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            message = f"seqcore: {record.levelname.lower()}: {message}"
        if record.exc_info:  # only under --debug: the plug-in loader passes it then
            message += "\n" + self.formatException(record.exc_info)
        return message


def _debug() -> bool:
    return os.environ.get("SEQCORE_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def _print_traceback() -> None:
    if _debug():
        traceback.print_exc(file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its status."""
    if argv is None:  # the process's own command line: its memory settings come first
        restart_with_training_allocator(sys.argv[1:])
    _configure_logging()
    try:
        cli.main(args=argv, prog_name="seqcore", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("seqcore: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as e:
        _print_traceback()
        where = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
        click.echo(f"seqcore: error: {e.format_message()}{where}".replace("\n", " "), err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        _print_traceback()
        click.echo(f"seqcore: error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except SeqcoreError as e:
        _print_traceback()
        click.echo(f"seqcore: error: {e}".replace("\n", " "), err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("seqcore: interrupted", err=True)
        sys.exit(130)
    sys.exit(0)
