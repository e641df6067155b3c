"""Helpers shared by the tests (imported as a plain module from tests/)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from pyproj import Geod

from geo.analysis.routing import Constraints, find_route
from geo.analysis.stats import route_stats
from geo.errors import RouteError
from geo.render.supply_map import NO_TEU

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="WGS84")


def seg_km(*ids: str) -> float:
    """Geodesic km of the hand-built fixture segments, summed from their coordinates."""
    feats = {
        f["properties"]["id"]: f
        for f in json.loads((DATA / "net_segments.geojson").read_text())["features"]
    }
    total = 0.0
    for i in ids:
        coords = feats[i]["geometry"]["coordinates"]
        total += sum(GEOD.inv(*a, *b)[2] for a, b in itertools.pairwise(coords)) / 1000
    return total


def assert_row_matches_route(row: Any, net: Any, constraints: Constraints) -> Any:
    """An exports row says what find_route and route_stats say; returns the route (or None)."""
    try:
        r = find_route(net, row.deposit, row.market, constraints=constraints)
    except RouteError as e:
        assert row.blocked == str(e)
        return None
    s = route_stats(r, network=net)
    assert (row.km, row.countries, row.transits_russia) == (
        s["length_km"],
        s["countries"],
        s["transits_russia"],
    )
    for figure in ("transit_days", "cost_usd_per_teu", "co2e_kg_per_teu"):
        span = s[figure] or {}  # None: a pipeline leg, no figure per TEU (NaN in the frame)
        for case in ("low", "typical", "high"):
            got = getattr(row, f"{figure}_{case}")
            want = span.get(case)
            assert (got is None or got != got) if want is None else got == want, (figure, case)
    return r


# --- hostile template text (issue 13) ---------------------------------------------------------

HOSTILE_TEMPLATE = {
    kind: DATA / f"hostile_template_{kind}.geojson" for kind in ("deposits", "nodes", "segments")
}
# Deposits whose names and properties carry script payloads (issue 5's hostile layer).
HOSTILE_DEPOSITS = DATA / "hostile_deposits.geojson"
# Files that a template payload in the fixtures would create in the working folder if it ran.
PWNED_MARKERS = ("cm_pwned_marker", "cm_pwned_marker2", "cm_pwned_title")
HOSTILE_SPEC = """\
title = "Spec {{ 7*7 }} {{ lipsum.__globals__['os'].popen('touch cm_pwned_title').read() }} \
</title><script>alert('title')</script>"
center = [43.0, 70.0]
zoom = 4
layers = ["countries", "nodes", "trans_caspian"]
highlight = "{{ 7*7 }}<b>TITR</b>"
"""


def build_hostile_pages(work: Path) -> dict[str, Path]:
    """Every page a stranger's layer can reach, built through the real CLI in ``work``.

    The three hostile template layers are stored (``layers add``, the deposits coloured by a
    hostile property, the segments by their hostile corridor), and the deposits whose names are
    script payloads; one is also passed with ``--layer`` under a hostile file name. The corridor
    map, a hostile spec, the exports map and a route map between two hostile places are built.
    Returns the pages by name.
    """
    import os
    import shutil

    from typer.testing import CliRunner

    from geo.cli import app
    from geo.data.bundled import bundled_dir

    runner = CliRunner()

    def run(*args: str) -> None:
        r = runner.invoke(app, list(args))
        assert r.exit_code == 0 and r.exception is None, (args, r.stdout, r.stderr, r.exception)

    work.mkdir(parents=True, exist_ok=True)
    old = Path.cwd()
    old_home = os.environ.get("CORRIDOR_HOME")
    os.environ["CORRIDOR_HOME"] = str(work / "home")  # the layers stored here stay here
    os.chdir(work)
    try:
        run("layers", "add", str(HOSTILE_TEMPLATE["deposits"]), "--name", "tpl-deps",
            "--color-by", "grade")  # fmt: skip
        run("layers", "add", str(HOSTILE_TEMPLATE["nodes"]), "--name", "tpl-nodes")
        run("layers", "add", str(HOSTILE_TEMPLATE["segments"]), "--name", "tpl-segs",
            "--color-by", "corridor")  # fmt: skip
        run("layers", "add", str(HOSTILE_DEPOSITS), "--name", "script-deps")
        odd = work / "{{ 7*7 }}<img src=x onerror=alert(9)>.geojson"
        shutil.copyfile(HOSTILE_TEMPLATE["deposits"], odd)
        spec = work / "hostile.toml"
        spec.write_text(HOSTILE_SPEC, encoding="utf-8")
        maps = bundled_dir("maps")
        pages = {
            "corridor": work / "corridor.html",
            "spec": work / "spec.html",
            "exports": work / "exports.html",
            "route": work / "route.html",
        }
        run("map", str(maps / "corridor.toml"), "--out", str(pages["corridor"]), "--layer",
            str(odd))  # fmt: skip
        run("map", str(spec), "--out", str(pages["spec"]))
        run("map", str(maps / "exports.toml"), "--out", str(pages["exports"]))
        run("route", "tplville", "tplburg", "--status", "all", "--map", str(pages["route"]))
    finally:
        os.chdir(old)
        if old_home is None:
            os.environ.pop("CORRIDOR_HOME", None)
        else:
            os.environ["CORRIDOR_HOME"] = old_home
    return pages


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``corridor ARGS`` in process: (exit code, stdout, stderr); never a traceback."""
    from typer.testing import CliRunner

    from geo.cli import app

    r = CliRunner().invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    return r.exit_code, r.stdout, r.stderr


def column_values(col: dict[str, Any]) -> list[str]:
    """The values of a page column table (corridor.js's ``column``, in Python)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
    if "d" in col:
        codes = [digits.index(ch) for ch in col["c"]] if "c" in col else col["i"]
        return [col["d"][i] for i in codes]
    if "v" in col:
        return list(col["v"])
    out, prev = [], ""
    shared = [digits.index(ch) for ch in col["g"]] if "g" in col else col["f"]
    for k, rest in zip(shared, col["s"], strict=True):
        prev = prev[:k] + rest
        out.append(prev)
    return out


# --- the exports map's comparison (tests/test_exports_map.py and its browser test) ----------


def figure(v: float | None, unit: str, decimals: int, extra: bool) -> str:
    """exports.js's figure(): thousands separated, its unit, an extra with its sign."""
    if v is None:
        return "—"
    sign = ("−" if v < 0 else "+") if extra else ""
    return f"{sign}{abs(v):,.{decimals}f} {unit}"


NUMBER_ROWS = (0, 1, 2, 3, 8, 9, 10, 11)


def numbers(column: list[str]) -> list[str]:
    """A comparison column's number cells (distance, days, USD, kg CO2e and their extras)."""
    return [column[k] for k in NUMBER_ROWS]


def exports_numbers(row: object, prefix: str, extra: str | None) -> list[str]:
    """The same cells written from an exports row: ``prefix`` picks the route's columns,
    ``extra`` its extra_* columns (None: the unconstrained route, which adds nothing)."""

    def get(name: str) -> float | None:
        v = getattr(row, name)
        return None if v is None or v != v else float(v)

    figures = [
        ("km", "km", 0),
        ("transit_days_typical", "days", 1),
        ("cost_usd_per_teu_typical", "USD", 0),
        ("co2e_kg_per_teu_typical", "kg", 0),
    ]
    out = [figure(get(prefix + k), unit, d, False) for k, unit, d in figures]
    for k, unit, d in figures:
        if get(prefix + k) is None:
            out.append("—")
        else:
            out.append(figure(0.0 if extra is None else get(extra + k), unit, d, True))
    return [NO_TEU if k in (2, 3) and v == "—" else v for k, v in enumerate(out)]
