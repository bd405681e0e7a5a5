"""``seqcore plot``: loss curves of one or more training runs as a picture."""

from __future__ import annotations

from pathlib import Path

import click

from seqcore.evaluation.curves import draw, read_curves


@click.command("plot")
@click.argument("logs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("curves.png"),
    show_default=True,
    help="The picture to write (png, svg, pdf: from the suffix).",
)
def plot_command(logs: tuple[Path, ...], output: Path) -> None:
    """Draw training and validation loss (and the learning rate) against updates from the logs
    of `seqcore train` (its --log-file, or the output of --log-format json), several runs
    overlaid. Needs matplotlib (pip install 'seqcore-toolkit[plot]')."""
    runs = [read_curves(log, label=_label(log, logs)) for log in logs]
    click.echo(f"wrote {draw(runs, output)}")


def _label(log: Path, logs: tuple[Path, ...]) -> str:
    """The file's stem, or its folder and name where two logs share a stem."""
    if sum(other.stem == log.stem for other in logs) > 1:
        return f"{log.parent.name}/{log.stem}"
    return log.stem
