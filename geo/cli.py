"""The ``corridor`` command line: thin wrappers over the Python API.

A user's mistake (:class:`GeoError`) is printed as one line per problem on stderr with a
non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from .data.schema import KINDS, describe
from .errors import GeoError, RouteError

app = typer.Typer(
    name="corridor",
    help="Maps and route statistics for Central Asia's corridors: the Trans-Caspian route "
    "(Middle Corridor), its Russia-crossing alternatives, and the region's deposits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True, highlight=False)

KIND_HELP = "Layer kind (detected when omitted):\n\n" + "\n\n".join(describe(k) for k in KINDS)


SublayerOpt = Annotated[
    str | None,
    typer.Option(
        "--sublayer",
        metavar="NAME",
        help="The layer to read from a GeoPackage or zip that holds several.",
    ),
]


@app.callback()
def _root() -> None:
    """Maps and route statistics for Central Asia's corridors."""


def shown(path: str | Path) -> str:
    """A path as a user reads it: relative to the current folder, else with ~ for home."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        home = str(Path.home())
        text = str(p)
        return "~" + text[len(home) :] if text.startswith(home + "/") else text


def say(console: Console, text: object) -> None:
    """Print one line of plain text: control characters escaped, no rich markup read."""
    from .data.text import terminal_text

    console.print(terminal_text(text), markup=False, highlight=False)


def fail(e: GeoError) -> None:
    """Print a user's mistake, one line per problem on stderr, and exit non-zero."""
    for line in e.lines():
        say(err, line)
    raise typer.Exit(e.exit_code)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Layer files to check.")],
    kind: Annotated[str | None, typer.Option(help=KIND_HELP)] = None,
    sublayer: SublayerOpt = None,
) -> None:
    """Check layer files against the schema and report every problem, one line each.

    Exit 0 when all are valid, 1 when any is invalid, 2 when any cannot be read.
    """
    from .data.layers import load_layer

    code = 0
    for f in files:
        try:
            gdf = load_layer(f, kind=kind, layer=sublayer)
        except GeoError as e:  # unreadable (2) or invalid (1): one line per problem
            for line in e.lines():
                say(err, line)
            code = max(code, e.exit_code)
        else:
            say(out, f"{f}: valid {gdf.attrs['kind']} layer, {len(gdf)} features")
    raise typer.Exit(code)


@app.command()
def schema(
    kind: Annotated[str | None, typer.Argument(help="segment, node, deposit or area.")] = None,
) -> None:
    """Print the layer schema: every kind's geometry and properties."""
    if kind is not None and kind not in KINDS:
        fail(GeoError(f"unknown kind '{kind}'; use one of {', '.join(KINDS)}"))
    for k in [kind] if kind else KINDS:
        out.print(describe(k) + "\n", markup=False, highlight=False)


# --- output formats ----------------------------------------------------------------------------

FORMATS = ("table", "json", "csv", "markdown")
Format = Annotated[str, typer.Option("--format", "-f", help="table, json, csv or markdown.")]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        fail(GeoError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}"))


def _emit_rows(rows: list[dict[str, object]], fmt: str, title: str | None = None) -> None:
    from .report import print_rows

    print_rows(rows, fmt, out, title=title)


Avoid = Annotated[
    list[str] | None,
    typer.Option("--avoid", help="Alpha-3 country codes and sea passages to avoid, comma-separated "
                 "(suez, panama, babalmandab, bosporus, hormuz, malacca, gibraltar, cape) and "
                 "seas (caspian, black_sea)."),
]  # fmt: skip
Modes = Annotated[
    str | None,
    typer.Option(
        "--modes",
        help="Comma-separated subset of rail,road,ferry,sea (and pipeline, with --commodity).",
    ),
]
Status = Annotated[
    str | None,
    typer.Option("--status", help="Statuses that count as usable (default operational; 'all' adds "
                 "under_construction, planned, proposed, suspended)."),
]  # fmt: skip
By = Annotated[
    str,
    typer.Option("--by", help="What the route minimises: km, days, cost (USD per TEU) or co2 "
                 "(kg CO2e per TEU), by the typical values of layers/transit.toml and costs.toml."),
]  # fmt: skip
BufferKm = Annotated[
    float, typer.Option("--buffer-km", help="Deposits within this many km count as nearby.")
]
LayerOpt = Annotated[
    list[Path] | None, typer.Option("--layer", help="Extra layer file for this run (repeatable).")
]


def _extra(layers: list[Path] | None) -> list[object]:
    from .data.layers import load_layer

    return [load_layer(p) for p in layers or []]


@app.command()
def route(
    origin: Annotated[
        str, typer.Argument(help="Node id or name (any case/accents), or a deposit.")
    ],
    destination: Annotated[str, typer.Argument(help="Node id or name.")],
    via: Annotated[
        list[str] | None, typer.Option("--via", help="Pass through this node (repeatable).")
    ] = None,
    avoid: Avoid = None,
    modes: Modes = None,
    status: Status = None,
    by: By = "km",
    fmt: Format = "table",
    buffer_km: BufferKm = 100.0,
    map_file: Annotated[
        Path | None, typer.Option("--map", help="Write a map of the route to FILE.")
    ] = None,
    png: PngOpt = None,
    size: SizeOpt = None,
    layer: LayerOpt = None,
    commodity: Annotated[
        str | None,
        typer.Option(
            "--commodity",
            help="What travels: oil and gas may take their pipelines (layers/commodities.toml).",
        ),
    ] = None,
    near: Annotated[
        float | None,
        typer.Option(
            "--near",
            help="List the deposits within this many km of the route, with "
            "names, commodities and distances (sets --buffer-km).",
        ),
    ] = None,
    alternatives: Annotated[
        int | None,
        typer.Option(
            "--alternatives",
            min=1,
            help="The N best routes that differ materially (each shares at most 70 % of its "
            "km with those before it), each with its statistics; --map draws the first.",
        ),
    ] = None,
) -> None:
    """Shortest route between two places under constraints, with its statistics."""
    from . import api

    _check_format(fmt)
    try:
        if png is not None and map_file is None:
            msg = "--png: a picture is taken of the route's map; give --map FILE.html too"
            raise GeoError(msg)
        if map_file is not None:
            from .report import check_output_path

            check_output_path(map_file, "--map")
            _check_png(png, size)
        kw: dict[str, Any] = {
            "via": via or [], "avoid": avoid or [], "modes": modes, "status": status,
            "buffer_km": buffer_km if near is None else near, "extra_layers": _extra(layer),
            "commodity": commodity, "by": by,
            # only JSON, --near and --map show the deposits near the route one by one: the
            # others print their count, so each one's exact km is not worked out for them
            "nearby_limit": None if fmt == "json" or near is not None or map_file else 0,
        }  # fmt: skip
        frames = ([api.route(origin, destination, **kw)] if alternatives is None
                  else api.alternatives(origin, destination, alternatives, **kw))  # fmt: skip
        result = frames[0]
        if map_file is not None:
            from .report import write_route_map

            write_route_map(result, map_file)
            if png is not None:
                from .report import write_png

                write_png(map_file, png, size)
    except GeoError as e:
        fail(e)
    from .report import print_route, print_routes

    if alternatives is not None:
        print_routes(frames, fmt, out)
        return
    print_route(result, fmt, out)
    if near is not None and fmt in ("table", "markdown"):
        found = result.attrs["stats"]["deposits_nearby"]["list"]
        rows = [{"deposit": d["id"], "name": d["name"], "commodities": ", ".join(d["commodities"]),
                 "km": d["km"]} for d in found]  # fmt: skip
        _emit_rows(rows, fmt, f"Deposits within {near:g} km of the route ({len(rows)})")


@app.command()
def stats(
    route_ids: Annotated[
        list[str] | None, typer.Argument(help="Reference route ids (all by default).")
    ] = None,
    fmt: Format = "table",
    buffer_km: BufferKm = 100.0,
    layer: LayerOpt = None,
) -> None:
    """Statistics of the reference routes (layers/routes.toml), side by side."""
    from . import api
    from .report import stats_rows

    _check_format(fmt)
    try:
        ids = list(dict.fromkeys(route_ids or [])) or None  # a repeated id is listed once
        frame = api.reference_stats(ids, buffer_km=buffer_km, extra_layers=_extra(layer))
    except GeoError as e:
        fail(e)
    if fmt == "json":
        _emit_rows(stats_rows(frame, full=True), "json")
    else:
        _emit_rows(stats_rows(frame, full=False), fmt, "Reference routes")


@app.command()
def bypass(
    to: Annotated[str, typer.Option("--to", help="Destination node.")] = "Duisburg",
    avoid: Avoid = None,
    status: Status = None,
    by: By = "km",
    fmt: Format = "table",
    layer: LayerOpt = None,
) -> None:
    """The price of bypassing Russia: best route against the best avoiding RUS."""
    from . import api

    _check_format(fmt)
    from rich.progress import Progress, TaskID

    # started at the first origin, so a refused option prints its one line and nothing else
    progress = Progress(console=err, transient=True)
    task: list[TaskID] = []

    def tick(done: int, total: int) -> None:
        if not task:
            progress.start()
            task.append(progress.add_task("routing origins", total=total))
        progress.update(task[0], completed=done, total=total)

    try:
        frame = api.bypass(to=to, avoid=avoid or [], status=status,
                           extra_layers=_extra(layer), progress=tick, by=by)  # fmt: skip
    except GeoError as e:
        if task:  # Progress.stop() prints a blank line when it never started
            progress.stop()
        fail(e)
    if task:
        progress.stop()
    from .report import bypass_rows

    _emit_rows(
        bypass_rows(frame),
        fmt,
        f"Bypassing {', '.join(frame.attrs['avoid'])} to {frame.attrs['to']}"
        + ("" if by == "km" else f" (routes by typical {by})"),
    )


@app.command()
def exports(
    market: Annotated[
        list[str] | None,
        typer.Option("--market", help="Market node (repeatable; default: all market ports)."),
    ] = None,
    commodity: Annotated[
        list[str] | None,
        typer.Option("--commodity", help="Only deposits with this commodity (repeatable)."),
    ] = None,
    avoid: Avoid = None,
    status: Status = None,
    by: By = "km",
    fmt: Format = "table",
    summary: Annotated[
        bool,
        typer.Option(
            "--summary/--no-summary",
            help="Also print the summary by commodity and country (tables).",
        ),
    ] = True,
    layer: LayerOpt = None,
) -> None:
    """Every deposit's best route to each market, with and without Russia and China."""
    from .analysis.supply import exports as run_exports
    from .analysis.supply import exports_summary
    from .api import network
    from .report import export_columns, export_rows, summary_rows

    _check_format(fmt)
    try:
        frame = run_exports(markets=market or None, commodities=commodity or None,
                            avoid=avoid or [], status=status, by=by,
                            network=network(_extra(layer)))  # fmt: skip
    except GeoError as e:
        fail(e)
    if fmt == "json":
        from .report import json_text

        summ = exports_summary(frame)
        print(json_text({"routes": export_rows(frame, full=True), "summary": summary_rows(summ)},
                        default=str))  # fmt: skip
        return
    if fmt == "csv" and len(frame):  # column by column: no dict per row
        from .report import write_csv_columns

        cols = export_columns(frame)
        write_csv_columns(sys.stdout, list(cols), list(cols.values()))
        return
    avoided = ", ".join(frame.attrs.get("avoid") or []) or "nothing"
    by_text = "" if by == "km" else f", by typical {by}"
    names = list(dict.fromkeys(frame["market_name"]))
    where = names[0] if len(names) == 1 else "market"
    _emit_rows(
        export_rows(frame, full=fmt == "csv"), fmt,
        f"Best routes to {where} (avoiding {avoided}{by_text}): typical days, USD and kg CO2e "
        "per TEU; RUS-free +: added by avoiding Russia",
    )  # fmt: skip
    if summary and fmt != "csv":
        print()
        _emit_rows(
            summary_rows(exports_summary(frame), full=False),
            fmt,
            "Summary: Russia-free and Russia-and-China-free paths",
        )


layers_app = typer.Typer(
    help="List, add and remove layers.", no_args_is_help=False, invoke_without_command=True
)
app.add_typer(layers_app, name="layers")


@app.command()
def places(
    query: Annotated[
        str | None, typer.Argument(help="Text to search for in ids, names and aliases.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="port, city, border_crossing, hub, terminal, deposit, seaport..."
        ),
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="Alpha-3 code.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows.")] = None,
    fmt: Format = "table",
    layer: LayerOpt = None,
) -> None:
    """List or search the places a route can use (nodes, deposits, seaports when searched)."""
    from . import api

    _check_format(fmt)
    try:
        frame = api.places(query, kind=kind, country=country, limit=limit,
                           extra_layers=_extra(layer))  # fmt: skip
    except GeoError as e:
        fail(e)
    if query and frame.empty:
        fail(RouteError(f"no place matches '{query}'; `corridor places` lists them all"))
    title = f"Places matching '{query}'" if query else "Places"
    if query and len(frame) and (frame["match"] == "suggestion").all():
        title = f"No place matches '{query}'; did you mean"
    _emit_rows(frame.to_dict("records"), fmt, title)


@app.command()
def capacity(
    commodity: Annotated[
        str, typer.Option("--commodity", help="oil, gas_condensate or gas.")
    ] = "oil",
    origin: Annotated[str, typer.Option("--from", help="Exporting country (alpha-3).")] = "KAZ",
    avoid: Avoid = None,
    status: Status = None,
    fmt: Format = "table",
) -> None:
    """Export capacity by pipeline and tanker (maximum flow), with and without --avoid."""
    from . import api

    _check_format(fmt)
    try:
        frame = api.capacity(commodity, origin, avoid=avoid or [], status=status)
    except GeoError as e:
        fail(e)
    rows = frame.to_dict("records")
    _emit_rows([{str(k): v for k, v in r.items()} for r in rows], fmt,
               f"{origin.upper()} {commodity} export capacity by pipeline and tanker")  # fmt: skip


@layers_app.callback()
def layers_list(ctx: typer.Context, fmt: Format = "table") -> None:
    """List the bundled layers and the user's layers."""
    if ctx.invoked_subcommand is not None:
        return
    from .data.store import list_layers, user_dir

    _check_format(fmt)
    try:
        listed = list_layers()
    except GeoError as e:
        fail(e)
    rows = [{"name": r["name"], "kind": r["kind"], "features": r["count"],
             "stored": "bundled" if r["bundled"] else "user" if r["problem"] is None
             else "user, broken", "path": shown(r["path"])}
            for r in listed]  # fmt: skip
    _emit_rows(rows, fmt, f"Layers (user layers in {shown(user_dir())})")
    broken = [str(r["problem"]) for r in listed if r["problem"] is not None]
    for line in broken:  # listed all the same, so the user can see and remove them
        err.print(line, markup=False)
    if broken:
        raise typer.Exit(1)
    # Only user lines and places change the network: a stored deposit layer (possibly a
    # million points) is listed from its metadata and never loaded here.
    if fmt == "table" and any(
        not r["bundled"] and r["kind"] in ("segment", "node") for r in listed
    ):
        try:
            _network_notes()
        except GeoError as e:
            fail(e)


def _network_notes() -> None:
    """What joining user lines to the network did: snapped ends and dangling segments."""
    from .api import network

    net = network(slim=True)  # the notes are about lines and places: no deposit column needed
    for line in net.snapped:
        say(err, f"note: {line}")
    for line in net.dangling:
        say(err, f"warning: {line}; the segment is left out of routing")


@layers_app.command("add")
def layers_add(
    file: Annotated[
        Path,
        typer.Argument(help="GeoJSON, GeoPackage, Shapefile (.shp or .zip), FlatGeobuf or CSV."),
    ],
    name: Annotated[str | None, typer.Option(help="Layer name (default: file name).")] = None,
    kind: Annotated[str | None, typer.Option(help=KIND_HELP)] = None,
    color_by: Annotated[
        str | None, typer.Option("--color-by", help="Property that colours the layer on maps.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a user layer of that name.")
    ] = False,
    sublayer: SublayerOpt = None,
) -> None:
    """Validate a file and store a normalised copy as a user layer."""
    from .data.store import add_layer

    try:
        info = add_layer(file, name=name, kind=kind, color_by=color_by, force=force,
                         sublayer=sublayer)  # fmt: skip
    except GeoError as e:
        fail(e)
    say(
        out,
        f"added {info['kind']} layer '{info['name']}' ({info['count']} features) "
        f"to {shown(info['path'])}",
    )
    if info["kind"] in ("segment", "node"):
        try:
            _network_notes()
        except GeoError as e:  # the layer is stored; what spoils the network is another one
            for line in e.lines():
                err.print(f"warning: {line}", markup=False)


@layers_app.command("remove")
def layers_remove(name: Annotated[str, typer.Argument(help="User layer name.")]) -> None:
    """Remove a user layer."""
    from .data.store import remove_layer

    try:
        remove_layer(name)
    except GeoError as e:
        fail(e)
    say(out, f"removed user layer '{name}'")


PngOpt = Annotated[
    Path | None,
    typer.Option("--png", help="Also write a picture of the map to FILE.png (headless Chromium)."),
]
SizeOpt = Annotated[
    str | None, typer.Option("--size", help="The picture's WIDTHxHEIGHT in pixels (1600x1000).")
]


def _check_png(png: Path | None, size: str | None) -> None:
    """Refuse a bad --png path or --size before any slow work."""
    if png is None:
        if size is not None:
            msg = "--size: it sets the size of the --png picture; give --png FILE.png too"
            raise GeoError(msg)
        return
    from .render.png import parse_size
    from .report import check_output_path

    check_output_path(png, "--png")
    if size is not None:
        parse_size(size)


@app.command("map")
def map_cmd(
    spec: Annotated[
        Path | None, typer.Argument(help="A map spec (.toml); all specs in maps/ by default.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the main map (or SPEC) to FILE.")
    ] = None,
    layer: LayerOpt = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the result in the default browser.")
    ] = False,
    png: PngOpt = None,
    size: SizeOpt = None,
) -> None:
    """Build map specs into self-contained HTML (maps/corridor.toml -> maps/corridor.html)."""
    from .report import build_maps, check_output_path, write_png

    try:
        if out_file is not None:
            check_output_path(out_file, "--out")
        _check_png(png, size)
        written = build_maps(spec, out_file, _extra(layer), out)
        if png is not None and written:
            main = next((p for p in written if p.stem == "corridor"), written[0])
            written.append(write_png(main, png, size))
    except GeoError as e:
        fail(e)
    for p in written:
        say(out, f"wrote {shown(p)}")
    if open_browser and written:
        import webbrowser

        webbrowser.open(written[-1].resolve().as_uri())


def main() -> None:
    """Console-script entry point.

    A command runs with Python's cyclic garbage collector off (as it was afterwards, for callers
    in a longer-lived process). A command is one batch run over frames, arrays and dicts that
    hold no reference cycles; the collector would walk the millions of objects of a big layer
    again and again as they are made, finding nothing. Measured on a 2-core VM: `corridor map`
    with a 1M-point layer 65.6 -> 55.5 s of CPU, `corridor exports` of 100k deposits 26.7 ->
    16.3 s, the supply map with 10k deposits 26.5 -> 23.5 s; peak memory +0.5 to +2%.
    Objects are still freed by reference counting the moment they are no longer used.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        app()
    except GeoError as e:  # commands may raise instead of calling fail()
        for line in e.lines():
            say(err, line)
        sys.exit(e.exit_code)
    finally:
        if collecting:
            gc.enable()
