"""The ``corridor`` command line: thin wrappers over the Python API.

A user's mistake (:class:`GeoError`) is printed as one line per problem on stderr with a
non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import GeoError, UnreadableError, ValidationError
from .schema import KINDS, describe

app = typer.Typer(
    name="corridor",
    help="Maps and route statistics for Central Asia's corridors: the Trans-Caspian route "
    "(Middle Corridor), its Russia-crossing alternatives, and the region's deposits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True, highlight=False)

KIND_HELP = "Layer kind (detected when omitted):\n\n" + "\n\n".join(describe(k) for k in KINDS)


@app.callback()
def _root() -> None:
    """Maps and route statistics for Central Asia's corridors."""


def fail(e: GeoError) -> None:
    for line in e.lines():
        err.print(line, markup=False)
    raise typer.Exit(e.exit_code)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Layer files to check.")],
    kind: Annotated[str | None, typer.Option(help=KIND_HELP)] = None,
) -> None:
    """Check layer files against the schema and report every problem, one line each.

    Exit 0 when all are valid, 1 when any is invalid, 2 when any cannot be read.
    """
    from .layers import load_layer

    code = 0
    for f in files:
        try:
            gdf = load_layer(f, kind=kind)
        except UnreadableError as e:
            for line in e.lines():
                err.print(line, markup=False)
            code = 2
        except ValidationError as e:
            for line in e.lines():
                err.print(line, markup=False)
            code = max(code, 1)
        else:
            out.print(f"{f}: valid {gdf.attrs['kind']} layer, {len(gdf)} features", markup=False)
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except GeoError as e:  # commands may raise instead of calling fail()
        for line in e.lines():
            err.print(line, markup=False)
        sys.exit(e.exit_code)
