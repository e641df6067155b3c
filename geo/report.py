"""What the CLI prints and writes: tables of statistics, and map builds with a progress bar."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from rich.console import Console

from .stats import STAT_KEYS


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
        if "count" in v:
            return str(v["count"])
        return ", ".join(f"{k} {cell(x)}" for k, x in v.items())
    return str(v)


def route_json(legs: gpd.GeoDataFrame) -> dict[str, Any]:
    """The JSON object of `corridor route --format json`: the statistics, path and legs."""
    stats = legs.attrs["stats"]
    leg_rows = [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in pd.DataFrame(legs.drop(columns="geometry")).to_dict("records")
    ]
    return {**{k: stats[k] for k in STAT_KEYS}, "path": legs.attrs["path"], "legs": leg_rows}


def print_route(legs: gpd.GeoDataFrame, fmt: str, console: Console) -> None:
    import csv
    import sys

    data = route_json(legs)
    if fmt == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
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
    dn = data["deposits_nearby"]
    by = f" ({cell(dn['by_commodity'])})" if dn["count"] else ""
    summary[STAT_KEYS.index("deposits_nearby")] = ("deposits_nearby", f"{dn['count']}{by}")
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["statistic", "value"])
        w.writerows(summary)
        return
    if fmt == "markdown":
        print("| statistic | value |\n|---|---|")
        for k, v in summary:
            print(f"| {k} | {v} |")
        print("\n| # | from | to | mode | km | countries |\n|---|---|---|---|---|---|")
        for i, leg in enumerate(data["legs"], 1):
            countries = cell(leg["countries"])
            cells = (i, leg["from"], leg["to"], leg["mode"], leg["length_km"], countries)
            print("| " + " | ".join(str(c) for c in cells) + " |")
        return
    from rich.table import Table

    t = Table(title=" > ".join(data["path"]), show_header=False, title_justify="left")
    t.add_column("statistic", style="bold")
    t.add_column("value", overflow="fold")
    for k, v in summary:
        t.add_row(k, v)
    console.print(t)
    lt = Table(title="Legs", header_style="bold", title_justify="left")
    for c in ("#", "from", "to", "mode", "km", "status", "countries"):
        lt.add_column(c, overflow="fold")
    for i, leg in enumerate(data["legs"], 1):
        lt.add_row(str(i), leg["from"], leg["to"], leg["mode"], str(leg["length_km"]),
                   leg["status"], cell(leg["countries"]))  # fmt: skip
    console.print(lt)


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
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in frame.to_dict("records")]  # fmt: skip


def write_route_map(legs: gpd.GeoDataFrame, path: Path) -> None:
    """A small map of one route: its legs and statistics (`corridor route --map FILE`)."""
    from .render.corridor_map import route_map
    from .render.page import save_html

    save_html(route_map(legs), path)


def build_maps(
    spec: Path | None, out_file: Path | None, extra: Sequence[Any], console: Console
) -> list[Path]:
    """Build one spec or every spec (in ./maps when run in a checkout, else the bundled ones)."""
    from rich.progress import Progress

    from .build import build_from_spec
    from .errors import SpecError
    from .layers import bundled_dir

    if spec is not None:
        specs = [spec]
        if not spec.exists():
            msg = f"{spec}: map spec not found"
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
            written.append(build_from_spec(s, out=target, extra_layers=layers))
            progress.advance(task)
    return written


def _layer_name(gdf: gpd.GeoDataFrame) -> str:
    """The name a `--layer FILE` gets on the map: the file name without its extensions."""
    return str(gdf.attrs.get("path", "layer")).rsplit("/", 1)[-1].split(".")[0]


def _default_out(spec: Path) -> Path:
    """Beside the spec when that folder is writable (a checkout), else in the current folder."""
    import os

    target = spec.with_suffix(".html")
    if os.access(spec.parent, os.W_OK) and "site-packages" not in spec.parts:
        return target
    return Path.cwd() / target.name


def _clean(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item") and not isinstance(v, list | dict | str):
        return v.item()
    return v


def export_rows(frame: pd.DataFrame, *, full: bool) -> list[dict[str, Any]]:
    """Rows of `corridor exports`: every column for JSON/CSV, a readable selection for tables."""
    if full:
        return [{k: _clean(v) for k, v in r.items()} for r in frame.to_dict("records")]
    rows = []
    for r in frame.to_dict("records"):
        days = "" if r["km"] is None or r["km"] != r["km"] else f"{r['days_low']}-{r['days_high']}"
        rows.append({
            "deposit": r["name"], "commodities": r["commodities"], "market": r["market_name"],
            "km": _clean(r["km"]), "days": days, "countries": "-".join(r["countries"] or []),
            "via RUS": _clean(r["transits_russia"]), "via CHN": _clean(r["transits_china"]),
            "corridor": _clean(r["main_corridor"]), "RUS-free km": _clean(r["rus_free_km"]),
            "RUS+CHN-free km": _clean(r["rus_chn_free_km"]),
            "note": _clean(r["blocked"]) or "",
        })  # fmt: skip
    return rows


def summary_rows(summary: pd.DataFrame, *, full: bool = True) -> list[dict[str, Any]]:
    """Rows of the exports summary: every column, or a compact selection for tables."""
    rows = [{k: _clean(v) for k, v in r.items()} for r in summary.to_dict("records")]
    if full:
        return rows

    def rng(r: dict[str, Any], key: str) -> str:
        lo, hi = r[f"median_extra_days_low_{key}"], r[f"median_extra_days_high_{key}"]
        return "" if lo is None else f"{lo}-{hi}"

    return [{
        "by": r["by"], "group": r["group"], "market": r["market"], "deposits": r["deposits"],
        "with route": r["routes"], "RUS-free": r["rus_free"], "RUS+CHN-free": r["rus_chn_free"],
        "output": cell(r["output"]), "extra km (no RUS)": r["median_extra_km_rus"],
        "extra days (no RUS)": rng(r, "rus"), "extra km (no RUS/CHN)": r["median_extra_km_rus_chn"],
        "extra days (no RUS/CHN)": rng(r, "rus_chn"),
    } for r in rows]  # fmt: skip
