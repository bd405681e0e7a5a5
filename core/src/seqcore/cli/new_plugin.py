"""``seqcore new-plugin``: write a plug-in distribution to start from."""

from __future__ import annotations

from pathlib import Path

import click

from seqcore.scaffold import KINDS, write_plugin


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="A component to include (repeat for several; default: a model with one architecture).",
)
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder to write seqcore-plugin-NAME in.",
)
def new_plugin_command(name: str, kinds: tuple[str, ...], parent: Path) -> None:
    """Write seqcore-plugin-NAME: pyproject.toml with the seqcore entry point, package
    seqcore_NAME with a small working component of each kind, a README, and tests that use the
    seqcore.testing kit."""
    dest = write_plugin(name, kinds, parent)
    click.echo(f"wrote {dest}")
    click.echo(f"next: pip install -e '{dest}[test]' && pytest {dest / 'tests'}")
