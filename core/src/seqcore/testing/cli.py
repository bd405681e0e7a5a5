"""Running ``seqcore`` commands in-process, output captured, for tests."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
import random
import signal
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import redirect_stderr, redirect_stdout
from typing import Any
from unittest import mock

from seqcore import loader, registry
from seqcore.cli import plugin_commands
from seqcore.cli.main import cli, main

# What a process reads once, when it starts or loads its plug-ins: a run in-process cannot be
# given these, so run_cli refuses them (start a subprocess to test them).
PROCESS_ENV = {
    "PYTHONPATH",
    loader.ENV_ONLY,
    loader.ENV_DISABLE,
    loader.ENV_NO_AUTOLOAD,
    loader.ENV_STRICT,
}


@dataclasses.dataclass
class CliResult:
    """What :func:`run_cli` saw: the fields of a ``subprocess.CompletedProcess`` that tests
    read, so that a test moves from a subprocess to :func:`run_cli` by changing the call alone."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
) -> CliResult:
    """``seqcore ARGS`` in this process (``seqcore.cli.main.main``), output captured.

    Much faster than a subprocess (no interpreter, torch and plug-ins to load again), and a bug
    shows as the exception's traceback instead of a subprocess's stderr. Each run sees what a
    fresh ``python -m seqcore`` would: the environment without the caller's ``SEQCORE_*``
    variables, plus ``env``; the working directory ``cwd``; help laid out 80 columns wide; the
    installed plug-ins and nothing an earlier run added (a ``--user-dir``'s components, modules
    and hooks, plug-in commands); Python's default warning filters, warnings printed to stderr.
    Whatever the run changes is undone afterwards: the environment, the working directory, the
    ``seqcore`` logger's handlers and level, the SIGINT/SIGTERM handlers, the global random
    generators (Python's, numpy's, torch's), torch's thread count, default dtype and grad mode.

    Start a process where the process is what is tested: start-up time and imports, signals,
    torchrun, installs, exit statuses from signals, and what a process reads once when it starts
    (``PYTHONPATH``, ``--disable-plugin`` and the plug-in selection variables, which run_cli
    refuses with a ValueError rather than silently ignoring)."""
    given = dict(env or {})
    refused = sorted(PROCESS_ENV & set(given)) + [a for a in args if a == "--disable-plugin"]
    if refused:
        raise ValueError(
            f"run_cli cannot give a run {', '.join(refused)}: it is read when a process starts "
            "or loads its plug-ins; test it in a subprocess (support.run_seqcore)"
        )
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ))  # every change undone at the end
        for key in [k for k in os.environ if k.startswith("SEQCORE_")]:
            del os.environ[key]
        loader.load_plugins()  # the installed plug-ins, as every process has them
        stack.enter_context(_plugins_restored())
        os.environ.update(given)
        os.environ["COLUMNS"] = "80"
        stack.enter_context(contextlib.chdir(os.getcwd() if cwd is None else cwd))
        stack.enter_context(_global_state_restored())
        stack.enter_context(_process_warnings())
        stack.enter_context(_logging_to(err))
        stack.enter_context(mock.patch("sys.stdin", io.StringIO(input or "")))
        stack.enter_context(redirect_stdout(out))
        stack.enter_context(redirect_stderr(err))
        try:
            main(list(args))
        except SystemExit as e:
            code = e.code
    if isinstance(code, int):
        returncode = code
    else:  # sys.exit("message") prints the message and exits with 1, as in a process
        returncode = 0 if code is None else 1
        if code is not None:
            err.write(f"{code}\n")
    return CliResult(returncode, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _plugins_restored() -> Iterator[None]:
    """Undo what a run adds to the plug-in state: user dirs (their modules, hooks, components),
    plug-in commands, registrations."""
    state = loader._get_state()
    registries = [(r, r._state()) for r in registry.ALL]
    plugins, by_name = dict(state.plugins), dict(state.by_pluggy_name)
    user_dirs, hooked = list(state.user_dirs), set(state.manager.get_plugins())
    commands, added = dict(cli.commands), cli._plugin_commands_added
    clashes = dict(plugin_commands.COMMAND_CLASHES)
    imported = set(sys.modules)
    try:
        yield
    finally:
        for key in set(state.plugins) - set(plugins):
            for module in state.plugins[key].entry_points:  # those the run imported
                for name in [n for n in sys.modules if n == module or n.startswith(module + ".")]:
                    if name not in imported:
                        del sys.modules[name]
        for obj in set(state.manager.get_plugins()) - hooked:
            state.manager.unregister(obj)
        state.plugins, state.by_pluggy_name, state.user_dirs = plugins, by_name, user_dirs
        for reg, saved in registries:
            reg._restore(saved)
        cli.commands, cli._plugin_commands_added = commands, added
        plugin_commands.COMMAND_CLASHES.clear()
        plugin_commands.COMMAND_CLASHES.update(clashes)


@contextlib.contextmanager
def _global_state_restored() -> Iterator[None]:
    """Random generators, torch's process-wide settings, signal handlers."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    py_random = random.getstate()
    numpy = sys.modules.get("numpy")
    np_random = numpy.random.get_state() if numpy is not None else None
    torch = sys.modules.get("torch")
    torch_state: dict[str, Any] = {}
    if torch is not None:
        torch_state = {
            "rng": torch.get_rng_state(),
            "threads": torch.get_num_threads(),
            "dtype": torch.get_default_dtype(),
            "grad": torch.is_grad_enabled(),
            "deterministic": torch.are_deterministic_algorithms_enabled(),
        }
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        random.setstate(py_random)
        if np_random is not None:
            numpy.random.set_state(np_random)
        if torch_state:
            torch.set_rng_state(torch_state["rng"])
            torch.set_num_threads(torch_state["threads"])
            torch.set_default_dtype(torch_state["dtype"])
            torch.set_grad_enabled(torch_state["grad"])
            torch.use_deterministic_algorithms(torch_state["deterministic"])


@contextlib.contextmanager
def _process_warnings() -> Iterator[None]:
    """A process's default warning filters, warnings printed to (the redirected) stderr: a test
    runner's own filters and capture would hide from a test what a user sees."""
    with warnings.catch_warnings():
        warnings.resetwarnings()  # also forgets which warnings were shown once already
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _logging_to(stream: io.StringIO) -> Iterator[None]:
    """seqcore's console handler pointed at ``stream`` during the run; the handlers, level and
    propagation of the ``seqcore`` logger as they were afterwards."""
    logger = logging.getLogger("seqcore")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate

    def consoles() -> list[logging.StreamHandler]:
        return [h for h in logger.handlers if getattr(h, "seqcore_console", False)]

    # not setStream, which flushes the old stream: a test runner may have closed it
    streams = {}
    for handler in consoles():
        streams[handler], handler.stream = handler.stream, stream
    try:
        yield
    finally:
        for handler in consoles():  # made by this run when it is the process's first
            handler.stream = streams.get(handler, sys.stderr)
        for handler in [h for h in logger.handlers if h not in handlers]:
            if not getattr(handler, "seqcore_console", False):
                logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
