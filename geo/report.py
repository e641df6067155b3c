"""What the CLI prints and writes: tables of statistics, and map builds with a progress bar."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from rich.console import Console

from .analysis.stats import STAT_KEYS, flat_stats
from .data.bundled import bundled_dir
from .data.text import UNSAFE, terminal_text
from .errors import GeoError, SpecError

# json.dumps escapes C0 controls itself; a raw newline in its output is its own indentation.
_JSON_UNSAFE = re.compile(UNSAFE.pattern.replace("\x00-\x1f", ""))


def json_text(data: Any, *, indent: int | None = 2, default: Any = None) -> str:
    r"""JSON for a terminal or a file, with no character that could mislead a terminal.

    What :func:`json.dumps` leaves raw with ``ensure_ascii=False`` (DEL, C1 controls,
    separators, bidi overrides, lone surrogates) is written as a ``\uXXXX`` escape, which reads
    back as the same string.

    >>> json_text({"n": "a\u202eb"}, indent=None)
    '{"n": "a\\u202eb"}'
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=default)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# OWASP, CSV injection: a cell that starts with one of these is read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(v: Any) -> tuple[str, bool]:
    """A value as CSV text, and whether it was neutralised (then it must be quoted).

    Numbers are written as they are (``-12.5`` stays a number); text that a spreadsheet would
    read as a formula gets a leading single quote, as the OWASP guidance on CSV injection says.

    >>> csv_cell(-12.5), csv_cell("=HYPERLINK(1)"), csv_cell("-12.5"), csv_cell("Almaty")
    (('-12.5', False), ("'=HYPERLINK(1)", True), ('-12.5', False), ('Almaty', False))
    """
    if isinstance(v, int | float) and not isinstance(v, bool):
        return cell(v), False
    return _text_cell(cell(v))


def _text_cell(raw: str) -> tuple[str, bool]:
    """:func:`csv_cell` of a value that is not a number, from its :func:`cell` text."""
    text = terminal_text(raw)  # a leading tab or CR is escaped, but still neutralised below
    if raw.startswith(_FORMULA_START) and not _NUMBER.fullmatch(raw):
        return "'" + text, True
    return text, False


def write_csv(stream: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    r"""Write CSV (``\n`` line ends) through :func:`csv_cell`: every CSV the CLI writes.

    The rows are written column by column (:func:`write_csv_columns`).

    >>> import io
    >>> buf = io.StringIO()
    >>> write_csv(buf, ["id", "km"], [["=cmd", 1.5], ["a,b", None]])
    >>> buf.getvalue()
    'id,km\n"\'=cmd",1.5\n"a,b",\n'
    """
    columns = list(zip(*rows, strict=True)) or [() for _ in header]
    write_csv_columns(stream, header, columns)


def write_csv_columns(
    stream: IO[str], header: Sequence[str], columns: Sequence[Sequence[Any]]
) -> None:
    r"""Write CSV (``\n`` line ends) from columns of equal length, each cell by :func:`csv_cell`.

    Each column's texts are made at once: a column of numbers (None and NaN empty) as Python
    prints them, a column of one hashable type from the text of each distinct value, a list
    from the text of each distinct list object; a column of mixed types cell by cell, from a
    memo of the text each value gave, keyed by its type and value, so ``True`` and ``1`` stay
    apart.

    Parameters
    ----------
    stream
        Where the CSV goes.
    header
        The column names.
    columns
        One sequence of values per name of ``header``, all of one length.
    """
    texts = [_column_texts(col) for col in columns]
    stream.write(",".join(_cell_text(h) for h in header) + "\n")
    n = len(texts[0]) if texts else 0
    for start in range(0, n, CSV_CHUNK_ROWS):  # a few MB at a time, not the whole table
        part = [t[start : start + CSV_CHUNK_ROWS] for t in texts]
        stream.write("".join([",".join(r) + "\n" for r in zip(*part, strict=True)]))


CSV_CHUNK_ROWS = 4096  # rows joined into one write


def _cell_text(v: Any) -> str:
    """One CSV cell: :func:`csv_cell`'s text, quoted where it must be."""
    return _quoted(*csv_cell(v))


def _quoted(text: str, neutralised: bool) -> str:
    if neutralised or any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _list_cell(v: list[Any]) -> str:
    """One CSV cell of a list: its items joined (a list of texts without a call per item)."""
    if all(type(x) is str for x in v):  # cell() of a text is the text itself
        return _quoted(*_text_cell(", ".join(v)))
    return _cell_text(v)


_NUMBER_TYPES = frozenset({int, float, type(None)})
_ONE_TYPE = (frozenset({str, type(None)}), frozenset({bool, type(None)}))


def _column_texts(col: Sequence[Any]) -> list[str]:
    """The CSV cells of one column (see :func:`write_csv_columns`)."""
    kinds = set(map(type, col))
    if kinds <= _FLOAT_TYPES:
        return _float_texts(col)
    if kinds <= _NUMBER_TYPES:  # csv_cell writes a number as str() gives it, NaN and None empty
        return ["" if v is None or v != v else str(v) for v in col]
    if any(kinds <= k for k in _ONE_TYPE):  # no two distinct values of these are equal
        memo = {v: _cell_text(v) for v in dict.fromkeys(col)}
        return [memo[v] for v in col]
    if kinds <= {list, type(None)}:  # lists shared by rows (a country list) made once
        by_id = {id(v): "" if v is None else _list_cell(v)
                 for v in {id(v): v for v in col}.values()}  # fmt: skip
        return [by_id[id(v)] for v in col]
    return _mixed_texts(col)


_FLOAT_TYPES = frozenset({float, type(None)})


def _float_texts(col: Sequence[float | None]) -> list[str]:
    """The cells of a column of floats and None: ``str()`` of each distinct value, once.

    None and NaN are empty. Zeros are written by their sign (``-0.0`` equals ``0.0`` but
    prints apart).
    """
    arr = np.array(col, dtype=float)  # None as NaN
    out = np.full(len(arr), "", dtype=object)
    has = ~np.isnan(arr)
    uniq, inverse = np.unique(arr[has], return_inverse=True)
    texts = np.array([str(v) for v in uniq.tolist()], dtype=object)
    out[has] = texts[inverse.reshape(-1)]
    zero = arr == 0
    out[zero & np.signbit(arr)] = "-0.0"
    out[zero & ~np.signbit(arr)] = "0.0"
    texts_out: list[str] = out.tolist()
    return texts_out


def _mixed_texts(col: Sequence[Any]) -> list[str]:
    """The cells of a column of mixed types, each value's text memoised by type and value."""
    memo: dict[tuple[type, Any], str] = {}

    def field(v: Any) -> str:
        if isinstance(v, float) and v == 0:  # 0.0 and -0.0 are equal keys but print apart
            return _cell_text(v)
        try:
            key = (type(v), tuple(v) if isinstance(v, list) else v)
            hit = memo.get(key)
        except TypeError:  # unhashable: a dict, a list of lists
            return _cell_text(v)
        if hit is None:
            if len(memo) >= CSV_MEMO_SIZE:
                memo.clear()
            hit = memo[key] = _cell_text(v)
        return hit

    return [field(v) for v in col]


CSV_MEMO_SIZE = 1 << 18  # distinct cell values remembered while writing one CSV


def table_text(v: Any) -> Any:
    """A value as a rich table cell: plain text, never read as rich markup (``[bold]``)."""
    from rich.text import Text

    return Text(terminal_text(cell(v)))


def cell(v: Any) -> str:
    """A value as one table cell: lists joined, dicts compact, floats as printed by Python."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return ", ".join(cell(x) for x in v)
    if isinstance(v, dict):
        if set(v) == {"low", "high"}:
            return f"{v['low']}-{v['high']}"
        if set(v) == {"low", "typical", "high"}:
            return f"{v['low']}-{v['high']} (typical {v['typical']})"
        if "count" in v:
            return str(v["count"])
        return ", ".join(f"{k} {cell(x)}" for k, x in v.items())
    return str(v)


@contextlib.contextmanager
def attrs_set_aside(frame: pd.DataFrame) -> Iterator[None]:
    """The frame's ``attrs`` emptied for a while (put back afterwards).

    pandas deep-copies a frame's attrs into every frame or column made from it, and a route's
    attrs hold its statistics, every deposit nearby among them: 3 s per copy with a
    million-point layer stored.
    """
    attrs = frame.attrs
    frame.attrs = {}
    try:
        yield
    finally:
        frame.attrs = attrs


def route_json(legs: gpd.GeoDataFrame) -> dict[str, Any]:
    """The JSON object of `corridor route --format json`: the statistics, path and legs."""
    stats = legs.attrs["stats"]
    with attrs_set_aside(legs):
        rows = pd.DataFrame(legs.drop(columns="geometry")).to_dict("records")
    leg_rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                for row in rows]  # fmt: skip
    return {**{k: stats[k] for k in STAT_KEYS}, "path": legs.attrs["path"], "legs": leg_rows}


def print_route(legs: gpd.GeoDataFrame, fmt: str, console: Console) -> None:
    """Print a route's statistics and legs as a table, CSV, Markdown or JSON."""
    data = route_json(legs)
    if fmt == "json":
        print(json_text(data))
        return
    summary = [(k, cell(data[k])) for k in STAT_KEYS]
    summary[STAT_KEYS.index("border_crossings")] = (
        "border_crossings",
        f"{data['border_crossings']['count']}: "
        + ", ".join(f"{b['from']}>{b['to']}" for b in data["border_crossings"]["list"]),
    )
    for key in ("gauge_breaks", "transshipments"):
        v = data[key]
        at = f" ({', '.join(v['at'])})" if v["at"] else ""
        summary[STAT_KEYS.index(key)] = (key, f"{v['count']}{at}")
    summary[STAT_KEYS.index("lines")] = ("lines", "; ".join(line_text(x) for x in data["lines"]))
    for key in ("cost_usd_per_teu", "co2e_kg_per_teu"):  # whole dollars and kg
        v = data[key]
        summary[STAT_KEYS.index(key)] = (key, "not modelled (a pipeline leg)" if v is None else
                                         f"{v['low']:,.0f}-{v['high']:,.0f} "
                                         f"(typical {v['typical']:,.0f})")  # fmt: skip
    dn = data["deposits_nearby"]
    by = f" ({cell(dn['by_commodity'])})" if dn["count"] else ""
    summary[STAT_KEYS.index("deposits_nearby")] = ("deposits_nearby", f"{dn['count']}{by}")
    if fmt == "csv":
        print_routes_csv([legs])
        return
    if fmt == "markdown":
        print("| statistic | value |\n|---|---|")
        for k, v in summary:
            print(f"| {k} | {_md(v)} |")
        print("\n| # | from | to | mode | km | countries |\n|---|---|---|---|---|---|")
        for i, leg in enumerate(data["legs"], 1):
            cells = (i, leg["from"], leg["to"], leg["mode"], leg["length_km"], leg["countries"])
            print("| " + " | ".join(_md(c) for c in cells) + " |")
        return
    from rich.table import Table

    t = Table(title=table_text(" > ".join(data["path"])), show_header=False,
              title_justify="left")  # fmt: skip
    t.add_column("statistic", style="bold")
    t.add_column("value", overflow="fold")
    for k, v in summary:
        t.add_row(k, table_text(v))
    console.print(t)
    lt = Table(title="Legs", header_style="bold", title_justify="left")
    lines = any(leg.get("line") for leg in data["legs"])  # pipelines and tankers: name them
    for c in ("#", "from", "to", "mode", *(["line"] if lines else []), "km", "status",
              "countries"):  # fmt: skip
        lt.add_column(c, overflow="fold")
    for i, leg in enumerate(data["legs"], 1):
        row = (i, leg["from"], leg["to"], leg["mode"], *([leg.get("line")] if lines else []),
               leg["length_km"], leg["status"], leg["countries"])  # fmt: skip
        lt.add_row(*(table_text(v) for v in row))
    console.print(lt)


def route_row(legs: gpd.GeoDataFrame, number: int = 1) -> dict[str, Any]:
    """One route as one flat row: the query, the numbers as sortable columns, the path.

    The columns of :func:`geo.analysis.stats.flat_stats` (``km_<mode>``, ``russia_km``,
    ``belarus_km``, ``russia_belarus_km``, ``transit_days_*``, counts, ``traced_share``)
    between the query and the lists (countries, crossings, lines, path), which are joined text.
    """
    stats, query = legs.attrs["stats"], legs.attrs.get("query", {})
    return {
        "route": number, "from": query.get("from"), "to": query.get("to"),
        "constraints": query.get("constraints"), "commodity": query.get("commodity"),
        "length_km": stats["length_km"], "transits_russia": stats["transits_russia"],
        **flat_stats(stats),
        "countries": "-".join(stats["countries"]),
        "border_crossings": ", ".join(f"{b['from']}>{b['to']}"
                                      for b in stats["border_crossings"]["list"]),
        "lines": "; ".join(x["name"] for x in stats.get("lines", [])),
        "path": " > ".join(legs.attrs["path"]),
    }  # fmt: skip


def print_routes_csv(frames: Sequence[gpd.GeoDataFrame]) -> None:
    """Routes as CSV, one row per route with flat columns (:func:`route_row`)."""
    rows = [route_row(f, i) for i, f in enumerate(frames, 1)]
    write_csv(sys.stdout, list(rows[0]), [list(r.values()) for r in rows])


def print_routes(frames: Sequence[gpd.GeoDataFrame], fmt: str, console: Console) -> None:
    """Several routes (alternatives): a JSON list, CSV rows, or each route's tables in turn."""
    if fmt == "json":
        print(json_text([route_json(f) for f in frames]))
        return
    if fmt == "csv":
        print_routes_csv(frames)
        return
    for i, f in enumerate(frames, 1):
        s = f.attrs["stats"]
        head = (f"Route {i} of {len(frames)}: {s['length_km']:,.1f} km, "
                f"{'-'.join(s['countries'])}")  # fmt: skip
        if fmt == "markdown":
            print(f"\n### {_md(head)}\n")
        else:
            console.print(f"\n[bold]{table_text(head)}[/bold]")
        print_route(f, fmt, console)


def line_text(x: dict[str, Any]) -> str:
    """One pipeline or tanker leg of a route in words: name, km, countries, capacity, status."""
    cap = "capacity unknown" if x.get("capacity") is None else f"{x['capacity']:,g} {x['unit']}"
    where = "-".join(x.get("countries") or [])
    return f"{x['name']} ({x['mode']}, {x['km']:,.1f} km, {where}, {cap}, {x['status']})"


def _md(v: Any) -> str:
    """A value as one Markdown table cell: escaped controls, ``|`` escaped."""
    return terminal_text(cell(v)).replace("|", "\\|")


def print_rows(
    rows: Sequence[dict[str, Any]], fmt: str, console: Console, *, title: str | None = None
) -> None:
    r"""Print rows (dicts with the same keys) as a table, CSV, Markdown or JSON.

    The one renderer of the CLI's row output. Text from data is printed with control characters
    escaped and never as rich markup; CSV cells that a spreadsheet would read as formulas are
    neutralised (:func:`csv_cell`).

    Parameters
    ----------
    rows
        The rows; the first one's keys are the columns.
    fmt
        ``table`` (rich, on ``console``), ``csv``, ``markdown`` or ``json`` (on stdout).
    console
        Where a table goes.
    title
        A table's title.

    Examples
    --------
    >>> print_rows([{"id": "a|b", "km": 1.5}], "markdown", Console())
    | id | km |
    |---|---|
    | a\|b | 1.5 |
    """
    if fmt == "json":
        print(json_text(list(rows)))
        return
    cols = list(rows[0]) if rows else []
    if fmt == "csv":
        write_csv(sys.stdout, cols, ([r[c] for c in cols] for r in rows))
    elif fmt == "markdown":
        print("| " + " | ".join(terminal_text(c) for c in cols) + " |")
        print("|" + "|".join("---" for _ in cols) + "|")
        for r in rows:
            print("| " + " | ".join(_md(r[c]) for c in cols) + " |")
    else:
        from rich.table import Table

        t = Table(title=table_text(title) if title else None, show_lines=False,
                  header_style="bold")  # fmt: skip
        for c in cols:
            t.add_column(table_text(c), overflow="fold")
        for r in rows:
            t.add_row(*[table_text(r[c]) for c in cols], style=None)
        console.print(t)


def stats_rows(frame: gpd.GeoDataFrame, *, full: bool) -> list[dict[str, Any]]:
    """Rows of `corridor stats`: every key for JSON, a readable selection for tables."""
    rows = []
    for _, r in frame.iterrows():
        if full:
            rows.append({"id": r["id"], "name": r["name"], **{k: r[k] for k in STAT_KEYS},
                         "path": r["path"]})  # fmt: skip
            continue
        rows.append({
            "id": r["id"], "km": r["length_km"], "days": cell(r["transit_days"]),
            "countries": "-".join(r["countries"]), "RUS km": r["russia_km"],
            "borders": r["border_crossings"]["count"], "gauge breaks": r["gauge_breaks"]["count"],
            "sea km": r["sea_km"], "deposits": r["deposits_nearby"]["count"],
            "traced": f"{r['precision_share']['traced']:.0%}",
        })  # fmt: skip
    return rows


def bypass_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a bypass frame (:func:`geo.api.bypass`) for :func:`print_rows`, NaN as None.

    A missing number (an origin with no route, or none under the constraints) is then an empty
    cell, ``null`` in JSON, rather than ``NaN``, which is not JSON at all.
    """
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in frame.to_dict("records")]  # fmt: skip


# The page is written through a temporary file named ".NAME.XXXXXXXX.tmp" beside it, so the
# name may use what is left of the file system's 255 bytes.
MAX_NAME_BYTES = 255 - len(".") - len(".XXXXXXXX.tmp")


def check_output_path(path: Path, option: str) -> Path:
    """Refuse, before any slow work, an output path the page could not be written to.

    A folder (``''`` arrives as ``.``), an existing file that is not a regular file (a device
    would be replaced), a name too long for the file system, and a folder that cannot be
    created or written in (a file in the way, ``/proc``, no permission) each raise a GeoError
    naming the option and the path. Nothing is left behind: the write probe is removed.
    """
    shown = terminal_text(path)
    size = len(os.fsencode(path.name))
    if size > MAX_NAME_BYTES:  # checked first: stat() itself fails on such a name
        msg = (
            f"{option}: the file name is {size} bytes long; give a name of at most "
            f"{MAX_NAME_BYTES} bytes"
        )
        raise GeoError(msg)
    try:
        is_dir, exists, is_file = path.is_dir(), path.exists(), path.is_file()
    except OSError as e:  # a path too long as a whole, a loop of links
        msg = f"{option}: cannot use '{shown}': {e.strerror or e}; give another path"
        raise GeoError(msg) from e
    if is_dir:
        msg = f"{option}: '{shown}' is a folder; give a file name, e.g. {path / 'map.html'}"
        raise GeoError(msg)
    if exists and not is_file:
        msg = f"{option}: '{shown}' is not a regular file; give the path of a new .html file"
        raise GeoError(msg)
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        msg = (
            f"{option}: cannot create the folder of '{shown}': '{terminal_text(folder)}' is a "
            "file; give another path"
        )
        raise GeoError(msg)
    try:
        fd, probe = tempfile.mkstemp(prefix=".corridor-write-test.", dir=folder)
    except OSError as e:
        msg = (
            f"{option}: cannot write '{shown}': {e.strerror or e} in '{folder}'; give another path"
        )
        raise GeoError(msg) from e
    os.close(fd)
    Path(probe).unlink()
    return path


def write_failed(option: str, path: Path, e: OSError) -> Exception:
    """A GeoError for an OSError of a final write, naming the option and the path."""
    where = f" ({terminal_text(e.filename)})" if e.filename and str(e.filename) != str(path) else ""
    msg = (
        f"{option}: cannot write '{terminal_text(path)}': {e.strerror or e}{where}; "
        "give another path"
    )
    return GeoError(msg)


def write_route_map(legs: gpd.GeoDataFrame, path: Path) -> None:
    """A small map of one route: its legs and statistics (`corridor route --map FILE`)."""
    from .render.corridor_map import route_map
    from .render.page import save_html

    page = route_map(legs)
    try:
        save_html(page, path)
    except OSError as e:
        error = write_failed("--map", path, e)
        raise error from None


def write_png(html: Path, png: Path, size: str | None) -> Path:
    """A picture of the map page ``html`` (``--png FILE``, ``--size WxH``) in headless Chromium.

    Chromium is ``$CORRIDOR_CHROMIUM``, else Debian's ``/usr/bin/chromium``; Playwright is the
    optional ``png`` extra. Each missing piece is one GeoError line saying how to get it.
    """
    from .render.png import DEFAULT_SIZE, parse_size, save_png

    wanted = parse_size(size) if size is not None else DEFAULT_SIZE
    chromium = os.environ.get("CORRIDOR_CHROMIUM", "/usr/bin/chromium")
    try:
        return save_png(html, png, size=wanted, chromium=chromium)
    except OSError as e:
        error = write_failed("--png", png, e)
        raise error from None


def build_maps(
    spec: Path | None, out_file: Path | None, extra: Sequence[Any], console: Console
) -> list[Path]:
    """Build one spec or every spec (in ./maps when run in a checkout, else the bundled ones)."""
    from rich.progress import Progress

    from .build import build_from_spec

    if spec is not None:
        specs = [spec]
        if not spec.exists():
            msg = f"{terminal_text(spec)}: map spec not found"
            raise SpecError(msg)
        if not spec.is_file():  # a folder, a FIFO (reading it would wait for ever), a device
            what = "a folder" if spec.is_dir() else "not a regular file"
            msg = (
                f"{terminal_text(spec)}: the map spec is {what}; give a .toml file, "
                "e.g. maps/corridor.toml"
            )
            raise SpecError(msg)
    else:
        here = Path.cwd() / "maps"
        folder = here if any(here.glob("*.toml")) else bundled_dir("maps")
        specs = sorted(folder.glob("*.toml"))
        if out_file is not None:
            specs = [p for p in specs if p.stem == "corridor"] or specs[:1]
    written = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("building maps", total=len(specs))
        for s in specs:
            target = out_file if out_file is not None else _default_out(s)
            layers = [(_layer_name(g), g) for g in extra]
            try:
                written.append(build_from_spec(s, out=target, extra_layers=layers))
            except OSError as e:
                error = write_failed("--out" if out_file else "map", target, e)
                raise error from None
            progress.advance(task)
    return written


def _layer_name(gdf: gpd.GeoDataFrame) -> str:
    """The name a `--layer FILE` gets on the map: the file name without its extensions."""
    return str(gdf.attrs.get("path", "layer")).rsplit("/", 1)[-1].split(".")[0]


def _default_out(spec: Path) -> Path:
    """Beside the spec when that folder is writable (a checkout), else in the current folder."""
    target = spec.with_suffix(".html")
    if os.access(spec.parent, os.W_OK) and "site-packages" not in spec.parts:
        return target
    return Path.cwd() / target.name


def _clean_column(col: pd.Series) -> list[Any]:
    """A column's values as :func:`_clean` gives them, numeric columns converted at once."""
    if col.dtype.kind == "f":
        arr = col.to_numpy()
        obj = arr.astype(object)  # Python floats
        obj[np.isnan(arr)] = None
        floats: list[Any] = obj.tolist()
        return floats
    if col.dtype.kind in "iub":
        values: list[Any] = col.tolist()  # Python ints and bools
        return values
    return [_clean(v) for v in col.tolist()]


def _clean(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item") and not isinstance(v, list | dict | str):
        return v.item()
    return v


NOTE_CHARS = 40  # a table's note is cut here (whole in CSV and JSON): a long one wrapped 20 lines


def short_note(text: str | None, limit: int = NOTE_CHARS) -> str:
    """A routing message made short for a table cell (the row and title say the rest).

    "no route from A to B avoiding RUS ...: the reason" keeps its reason only, and a note
    longer than ``limit`` characters is cut with an ellipsis; CSV and JSON keep it whole.

    >>> short_note("no route from A to B avoiding RUS using operational links: every route "
    ...            "crosses RUS")
    'no route: every route crosses RUS'
    >>> short_note("x" * 100, 10)
    'xxxxxxxxx…'
    """
    if not text:
        return ""
    if text.startswith("no route") and ": " in text:
        text = "no route: " + text.rsplit(": ", 1)[1]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _export_note(r: dict[str, Any]) -> str:
    """Why a table row lacks figures: no route, a pipeline (no cost per TEU), no RUS-free route."""
    blocked, free = _clean(r["blocked"]), _clean(r["rus_free_blocked"])
    if blocked:
        return short_note(blocked)
    notes = []
    if _clean(r["cost_usd_per_teu_typical"]) is None:
        notes.append("pipeline: no USD or CO2e per TEU")
    if free:
        notes.append("RUS-free: " + short_note(free).removeprefix("no route: "))
    return "; ".join(notes)


def _whole(v: Any) -> Any:
    """A figure rounded to a whole number for a table (None and NaN stay empty)."""
    v = _clean(v)
    return None if v is None else round(v)


def export_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Every column of `corridor exports` as values for CSV and JSON (NaN as None).

    The columns of :func:`export_rows` with ``full``, without a dict per row: a CSV of
    100,000 rows is written from them column by column (:func:`write_csv_columns`).
    """
    return {str(k): _clean_column(frame[k]) for k in frame.columns}


def export_rows(frame: pd.DataFrame, *, full: bool) -> list[dict[str, Any]]:
    """Rows of `corridor exports`: every column for JSON/CSV, a readable selection for tables.

    The table shows what an analyst reads first (typical days, USD and kg CO2e per TEU, what
    avoiding Russia adds); the ranges and the Russia-and-China-free route are in CSV and JSON.
    A money or carbon cell is empty for a route with a pipeline leg (no cost per TEU).
    """
    if full:
        cols = export_columns(frame)
        return [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    one_market = frame["market"].nunique() <= 1  # then the title names it
    rows = []
    for r in frame.to_dict("records"):
        row: dict[str, Any] = {"deposit": r["name"], "commodities": r["commodities"]}
        if not one_market:
            row["market"] = str(r["market_name"]).removeprefix("Port of ")
        via = [_clean(r[k]) for k in ("transits_russia", "transits_china")]
        row.update({
            "km": _clean(r["km"]), "days": _clean(r["transit_days_typical"]),
            "USD/TEU": _whole(r["cost_usd_per_teu_typical"]),
            "kg CO2e/TEU": _whole(r["co2e_kg_per_teu_typical"]),
            "via RUS/CHN": "" if None in via else "/".join(cell(v) for v in via),
            "corridor": _clean(r["main_corridor"]),
            "RUS-free +km": _clean(r["rus_free_extra_km"]),
            "+USD": _whole(r["rus_free_extra_cost_usd_per_teu_typical"]),
            "+kg CO2e": _whole(r["rus_free_extra_co2e_kg_per_teu_typical"]),
            "note": _export_note(r),
        })  # fmt: skip
        rows.append(row)
    return rows


def summary_rows(summary: pd.DataFrame, *, full: bool = True) -> list[dict[str, Any]]:
    """Rows of the exports summary: every column, or a compact selection for tables.

    The table gives the medians of what avoiding adds, typical values: km, days, USD and kg
    CO2e per TEU; every case (low, typical, high) is in JSON.
    """
    rows = [{k: _clean(v) for k, v in r.items()} for r in summary.to_dict("records")]
    if full:
        return rows

    def extra(r: dict[str, Any], key: str) -> str:
        km, days = r[f"median_extra_km_{key}"], r[f"median_extra_transit_days_typical_{key}"]
        if km is None:
            return ""
        usd = r[f"median_extra_cost_usd_per_teu_typical_{key}"]
        kg = r[f"median_extra_co2e_kg_per_teu_typical_{key}"]
        parts = [f"{km:+,.0f} km", f"{days:+.1f} d"]
        parts += [] if usd is None else [f"{usd:+,.0f} USD"]
        parts += [] if kg is None else [f"{kg:+,.0f} kg CO2e"]
        return ", ".join(parts)

    return [{
        "by": r["by"], "group": r["group"], "market": r["market"], "deposits": r["deposits"],
        "with route": r["routes"], "RUS-free": r["rus_free"], "RUS+CHN-free": r["rus_chn_free"],
        "output": cell(r["output"]), "median extra, no RUS": extra(r, "rus"),
        "median extra, no RUS/CHN": extra(r, "rus_chn"),
    } for r in rows]  # fmt: skip
