"""Corridor Map against what users would pick instead, measured side by side in one run.

Run from the repository root::

    python tests/benchmarks/run.py               # everything, about 15 minutes on 2 cores
    python tests/benchmarks/run.py --quick       # small sizes, to check the script itself
    python tests/benchmarks/run.py --only store  # one section (repeatable), printed only
    python tests/benchmarks/run.py --only map --map-points 100000  # one size of a section
    python tests/benchmarks/run.py --only map --map-points 100000 --no-explore  # ours only
    python tests/benchmarks/run.py --supply-points 20000  # a smaller supply layer (see RESULTS.md)

It prints one table and writes it as Markdown to ``tests/benchmarks/RESULTS.md``. Nothing here
is a test: pytest does not collect this file, and no number is asserted. Every measurement runs
in this one invocation on the same generated data (fixed seeds), so the two sides of a row only
differ in the tool.

What is measured
----------------
Map
    A synthetic deposit layer (1k, 10k, 100k points; random but seeded, inside the five Central
    Asian countries, valid per the deposit schema) drawn by ``corridor map --layer FILE --out
    OUT`` (the whole main map plus the layer) and by ``GeoDataFrame.explore(popup=True)`` of the
    same file saved to HTML. *Build* is the wall time of a fresh process that reads the file and
    writes the HTML, the best of three builds per side taken alternately (imports included on both sides; the bundled layers' validated copy and
    the built network are already cached, as after a user's first command). *Drawn* is measured in headless Chromium
    from navigation start to the first animation frame, after the page's ``load`` event, in which
    every point is on the map: for Corridor Map, the layer's cluster group holds all N markers
    and its cluster icons are in the DOM; for explore(), N marker ``<path>`` elements exist.
    Requests other than ``file:``/``data:`` are blocked; explore() links Leaflet from CDNs, so the
    copy opened in the browser points those links at the same files on disk (the size reported
    is the file explore() wrote).
Popups
    Corridor Map builds popups on click from a column table, so the check is: the HTML payload
    holds N points and N rows in every column, and the names are exactly the file's; in the
    page the cluster group holds N markers with distinct row indexes 0..N-1; 200 random markers
    open a popup naming their deposit (a click event fired on the group); and one real mouse
    click on a marker (zoomed to with ``zoomToShowLayer``) opens its popup. explore(): the
    GeoJSON layer holds N features with a bound popup, the same 200-marker sample, and one real
    mouse click on a circle.
Proximity
    ``geo.analysis.stats.deposits_near`` for 1M points against each of the reference routes, against
    the straightforward geopandas way (project to EPSG:3857, buffer the routes by 100 km,
    ``sjoin`` within). Each method runs in its own process; memory is that process's peak RSS
    during the timed part above its RSS before it. Agreement counts (point, route) pairs.
Payloads
    The page payload of the 100k-point map layer, in one process on the loaded layer: the whole
    map without network and statistics (``build_map`` of the bundled countries and the layer, then
    ``render_html``), and its parts side by side with the way they were written before issue 19:
    formatting every property cell (``fmt_column`` per column against ``fmt`` per cell) and
    encoding the layer's JSON (``script_json``, orjson, against ``json.dumps``). Best of 3.
Map at 1M points
    The same build and drawing measures without explore() (see the notes), with peak memory of
    each build (the kernel's maximum RSS of the process) and the worst frame of four pans and a
    zoom step after the map is drawn.
Store
    Commands with a stored 100k and 1M-point layer against an empty store (``store_costs``).
Supply
    ``corridor exports`` of a 100k-deposit ``--layer`` to one market, and the supply map
    (``maps/exports.toml``) built with it: seconds, peak memory, HTML MB, seconds to draw.
Validate
    ``corridor validate`` of the 100k and 1M-point files: seconds and peak memory.
Routing
    1,000 random pairs of named places (every node of the network the package builds today,
    ``geo.analysis.network.load_network``, but the rail junctions) through
    ``geo.analysis.routing.find_route``, and again with the full ``route_stats`` of each answer.
    The first query (which builds the name index and the constrained subgraph) is reported
    apart.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CENTRAL_ASIA = ("KAZ", "UZB", "KGZ", "TJK", "TKM")
CHROMIUM = os.environ.get("CORRIDOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic"]  # fmt: skip
VIEWPORT = {"width": 1400, "height": 850}
SEED = 20240601
BUFFER_KM = 100.0
POPUP_SAMPLE = 200


# --- machine ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        ram = f"{kb / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu, "cores": str(cores), "RAM": ram, "OS": platform.platform(terse=True),
        "Python": platform.python_version(),
        **{p: version(p) for p in ("geopandas", "shapely", "folium", "numpy", "networkx")},
    }  # fmt: skip


# --- synthetic data ---------------------------------------------------------------------------


def central_asia_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random lon/lat points (5 decimals) inside the Central Asian countries, and their codes."""
    import shapely

    from geo.data.countries import countries, countries_at

    ca = countries().loc[list(CENTRAL_ASIA)]
    minx, miny, maxx, maxy = ca.total_bounds
    union = shapely.union_all(ca.geometry.values)
    shapely.prepare(union)
    rng = np.random.default_rng(seed)
    xs, ys, cs = [], [], []
    have = 0
    while have < n:
        m = int((n - have) * 1.9) + 1000
        x = np.round(rng.uniform(minx, maxx, m), 5)
        y = np.round(rng.uniform(miny, maxy, m), 5)
        keep = shapely.contains_xy(union, x, y)
        x, y = x[keep], y[keep]
        code = countries_at(x, y)
        ok = np.isin(code.astype(str), CENTRAL_ASIA)
        xs.append(x[ok])
        ys.append(y[ok])
        cs.append(code[ok])
        have += int(ok.sum())
    return (np.concatenate(xs)[:n], np.concatenate(ys)[:n], np.concatenate(cs)[:n].astype(str))


def deposit_name(i: int) -> str:
    return f"Synthetic deposit {i:06d}"


def write_deposit_layer(path: Path, n: int, seed: int) -> None:
    """A valid deposit layer of ``n`` points (GeoJSON written directly: fast and exact).

    A mineral database like the ones users load (MRDS, ICMM): mines and deposits of every
    commodity but oil, condensate and gas. Those travel by their own pipelines, each field
    routed on its own (the bundled layer's 35 fields cover them); thousands of synthetic
    fields would measure that one path, not the supply table's shared groups.
    """
    from geo.analysis.commodities import commodity_table
    from geo.data.schema import COMMODITIES, DEPOSIT_KINDS, DEPOSIT_STATUSES

    minerals = tuple(c for c in COMMODITIES if commodity_table().rule(c).fuel is None)

    x, y, code = central_asia_points(n, seed)
    rng = np.random.default_rng(seed + 1)
    first = rng.integers(0, len(minerals), n)
    second = rng.integers(0, len(minerals), n)
    two = rng.random(n) < 0.4
    kind = rng.integers(0, len(DEPOSIT_KINDS), n)
    status = rng.integers(0, len(DEPOSIT_STATUSES), n)
    exact = rng.random(n) < 0.5
    year = rng.integers(2015, 2025, n)
    with path.open("w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        for i in range(n):
            comm = [minerals[first[i]]]
            if two[i] and second[i] != first[i]:
                comm.append(minerals[second[i]])
            props = {
                "id": f"syn{i:06d}", "name": deposit_name(i), "commodities": comm,
                "kind": DEPOSIT_KINDS[kind[i]], "status": DEPOSIT_STATUSES[status[i]],
                "country": code[i], "location_precision": "exact" if exact[i] else "approximate",
                "source": f"https://mrdata.usgs.gov/mrds/show-mrds.php?dep_id={10_000_000 + i}",
                "as_of": f"{year[i]}-01-01",
            }  # fmt: skip
            feat = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x[i], y[i]]},
                    "properties": props}  # fmt: skip
            f.write(json.dumps(feat, separators=(",", ":")))
            f.write(",\n" if i < n - 1 else "\n")
        f.write("]}\n")


# --- validation -------------------------------------------------------------------------------
# validate_raw on the synthetic 100k-point deposit layer (same 2-core machine, other work running;
# best of 2, same process, old and new side by side): 6.8-9.9 s before (value by value; 4.8 s of
# it the point-in-country STRtree query), 2.2-2.4 s after (per column, issue 14); without the
# country check 2.3-3.2 s before, 1.8-2.0 s after. The target of 5x is not met yet: gathering
# the dicts into columns and to_list/tag passes remain per cell.


def validation(work: Path, n: int) -> dict[str, float]:
    """Seconds to read and to validate a synthetic deposit layer of ``n`` points (best of 2)."""
    from geo.data.readers import read_raw
    from geo.data.validate import validate_raw

    layer = work / f"deposits_{n}.geojson"
    if not layer.exists():
        write_deposit_layer(layer, n, SEED + n)
    started = time.perf_counter()
    raw = read_raw(layer)
    read_s = time.perf_counter() - started
    times = []
    for _ in range(2):
        started = time.perf_counter()
        validate_raw(raw)
        times.append(time.perf_counter() - started)
    return {"points": n, "read_s": read_s, "validate_s": min(times)}


# --- store: what a stored layer costs every later command -----------------------------------
# Issue 19 (one run, 2 shared cores, load about 2.5): with a 100k-point deposit layer stored,
# `corridor route Almaty Tashkent` took 15.9 s (3.3 s with an empty store) and `corridor layers`
# 28.2 s, because every command read and validated the whole store again. With the checksummed
# read (same machine, load about 1): empty store 3.1 s; 100k stored 7.7 s (`layers --format csv`
# no slower than empty); 1M stored 36.9 s against 160 s before (of it: parsing the 353 MB stored
# GeoJSON and building columns about 28 s, the id clash check 2.5 s, the network 0.7 s). The
# target (within 2 s of the empty store at 1M) needs a binary columnar copy, not GeoJSON.
# With the columnar copy (NAME.columns), the slim network (route, stats and bypass read only
# the deposit columns the analysis uses) and id_clashes without per-row Python, by hand with
# 1M points stored (best of 2, user+sys CPU seconds because the 2 cores were shared, load 2-3;
# wall within 0.1 s of CPU): `corridor route Almaty Tashkent` 5.3 s against 2.5 s empty
# (+2.8 s; the same build before: 43.2 s CPU, 54.4 s wall); reading the stored layer 1.3 s
# (slim) or 1.8 s (every column) CPU; id_clashes 0.14 s against 1.7 s. Later, at load 0.7:
# 4.8 s against 2.1 s (+2.7 s: the target is not met; what is left is building ids, names and
# commodity lists as a million Python objects each, the deposits near the route, and freeing
# it all at exit, about 0.5 s). `--only store --store-points 1000000` (load about 2): route 5.62
# s (2.10 s empty), `layers --format csv` 1.78 s (1.72 s), reading the copy 2.18 s against 33.8
# s for the checked GeoJSON, the slim read 1.55 s, the clash check with bundled ids 0.85 s,
# `layers add` 448 s. Writing the 1M layer and adding it take most of that run (about 13 min).


VALIDATE_AT_MOST = 200_000  # the validating read of a bigger layer takes minutes: not timed


def best_of(cmd: list[str], env: dict[str, str], cwd: Path, runs: int = 2) -> float:
    return min(timed_run(cmd, env, cwd) for _ in range(runs))


STORED_MAP_AT_MOST = 100_000  # the main map is built with the stored layer up to this size


def store_costs(work: Path, n: int, env: dict[str, str]) -> dict[str, Any]:
    """Seconds of commands with an ``n``-point deposit layer stored, and with an empty store."""
    from geo.analysis.network import DEPOSIT_COLUMNS
    from geo.data import store
    from geo.data.layers import load_layer

    layer = work / f"deposits_{n}.geojson"
    if not layer.exists():
        write_deposit_layer(layer, n, SEED + n)
    corridor = [sys.executable, "-m", "geo"]
    empty = {**env, "CORRIDOR_HOME": str(work / f"store-empty-{n}")}
    full = {**env, "CORRIDOR_HOME": str(work / f"store-{n}")}
    out: dict[str, Any] = {"points": n}
    out["add_s"] = timed_run(
        [*corridor, "layers", "add", str(layer), "--name", "deposits"], full, ROOT
    )
    for key, args in (
        ("route", ["route", "Almaty", "Tashkent"]),
        ("layers", ["layers", "--format", "csv"]),
    ):
        out[key] = {"empty_s": best_of([*corridor, *args], empty, ROOT),
                    "stored_s": best_of([*corridor, *args], full, ROOT)}  # fmt: skip
    if n <= STORED_MAP_AT_MOST:  # the main map with the stored layer in "Your layers"
        args = ["map", "--out", str(work / f"store-map-{n}.html")]
        out["map"] = {"empty_s": best_of([*corridor, *args], empty, ROOT),
                      "stored_s": best_of([*corridor, *args], full, ROOT)}  # fmt: skip
    saved = os.environ.get("CORRIDOR_HOME")
    os.environ["CORRIDOR_HOME"] = full["CORRIDOR_HOME"]
    try:
        started = time.perf_counter()
        (gdf,) = store.user_layers()
        out["read_columns_s"] = time.perf_counter() - started
        started = time.perf_counter()
        store.user_layers(by_kind={"deposit": frozenset(DEPOSIT_COLUMNS)})
        out["read_network_columns_s"] = time.perf_counter() - started
        started = time.perf_counter()
        parts = store.checked_meta(Path(gdf.attrs["path"]).read_bytes())
        assert parts is not None
        store.checked_frame(*parts)
        out["read_checked_s"] = time.perf_counter() - started
        if n <= VALIDATE_AT_MOST:
            started = time.perf_counter()
            load_layer(Path(gdf.attrs["path"]), kind="deposit", check_countries=False)
            out["read_validating_s"] = time.perf_counter() - started
        started = time.perf_counter()
        store.id_clashes([gdf])
        out["id_clashes_s"] = time.perf_counter() - started
    finally:
        if saved is None:
            os.environ.pop("CORRIDOR_HOME")
        else:
            os.environ["CORRIDOR_HOME"] = saved
    return out


# --- map: build -------------------------------------------------------------------------------


def timed_run(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        msg = f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}"
        raise RuntimeError(msg)
    return dt


# Runs `-m MODULE ARGS` or `-c CODE ARGS` and writes the process's peak resident memory (VmHWM,
# kB) to a file at exit. The kernel's rusage of a child is no good here: its maximum RSS starts
# from the parent's at fork, and this script holds a million-point layer by the end.
PEAK_WRAPPER = r"""
import atexit, runpy, sys

def _peak(path=sys.argv[1]):
    with open('/proc/self/status') as f:
        kb = next(line.split()[1] for line in f if line.startswith('VmHWM:'))
    with open(path, 'w') as f:
        f.write(kb)

atexit.register(_peak)
args = sys.argv[2:]
if args[0] == '-m':
    sys.argv = [args[1], *args[2:]]
    runpy.run_module(args[1], run_name='__main__', alter_sys=True)
else:
    sys.argv = ['-c', *args[2:]]
    exec(compile(args[1], '<benchmark>', 'exec'), {'__name__': '__main__'})
"""


def measured_run(py_args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of ``python PY_ARGS`` in a fresh process."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        cmd = [sys.executable, "-c", PEAK_WRAPPER, str(peak), *py_args]
        t = time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err,
                           check=False, timeout=1800)  # fmt: skip
        dt = time.perf_counter() - t
        if r.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:].decode("utf-8", "replace")
            msg = f"{' '.join(py_args)} failed ({r.returncode}):\n{tail}"
            raise RuntimeError(msg)
        return dt, int(peak.read_text()) / 1024


EXPLORE = """
import sys, geopandas as gpd
gdf = gpd.read_file(sys.argv[1])
gdf.explore(popup=True).save(sys.argv[2])
"""


BUILD_RUNS = 3  # builds timed per side where explore() runs too, alternating: the best counts


def build_maps(layer: Path, work: Path, env: dict[str, str], explore: bool) -> dict[str, Any]:
    """Both builds of the layer (explore() only when ``explore``): seconds, peak MB, HTML MB.

    With explore(), each side is built :data:`BUILD_RUNS` times, the two alternating, and the
    fastest build of each counts (this VM's speed wanders by half from minute to minute; the
    fastest run is the one least slowed, and alternating gives both sides the same minutes);
    peak memory is the highest of a side's runs.
    """
    ours, theirs = work / f"{layer.stem}_corridor.html", work / f"{layer.stem}_explore.html"
    runs: dict[str, list[tuple[float, float]]] = {"ours": [], "theirs": [], "base": []}
    base = work / "main_map_alone.html"
    for _ in range(BUILD_RUNS if explore else 1):
        runs["ours"].append(measured_run(
            ["-m", "geo", "map", "--layer", str(layer), "--out", str(ours)], env, ROOT))  # fmt: skip
        if explore:
            runs["theirs"].append(measured_run(["-c", EXPLORE, str(layer), str(theirs)], env, ROOT))
            # the same main map without the layer: what the layer itself costs is the difference
            runs["base"].append(measured_run(["-m", "geo", "map", "--out", str(base)], env, ROOT))
    out: dict[str, Any] = {"ours": ours, "build_ours": min(t for t, _ in runs["ours"]),
                           "rss_ours": max(m for _, m in runs["ours"]),
                           "builds_ours": [t for t, _ in runs["ours"]],
                           "mb_ours": ours.stat().st_size / 1e6, "theirs": None}  # fmt: skip
    if explore:
        out.update(theirs=theirs, build_theirs=min(t for t, _ in runs["theirs"]),
                   rss_theirs=max(m for _, m in runs["theirs"]),
                   builds_theirs=[t for t, _ in runs["theirs"]],
                   mb_theirs=theirs.stat().st_size / 1e6,
                   build_base=min(t for t, _ in runs["base"]),
                   builds_base=[t for t, _ in runs["base"]])  # fmt: skip
    return out


def offline_copy(html: Path) -> Path:
    """explore()'s page with its CDN links pointed at the same libraries on disk."""
    from geo.render.assets import asset_path

    local = {
        r"https://cdn\.jsdelivr\.net/npm/leaflet@[^\"']+/dist/leaflet\.js": "leaflet",
        r"https://cdn\.jsdelivr\.net/npm/leaflet@[^\"']+/dist/leaflet\.css": "leaflet_css",
        r"https://code\.jquery\.com/jquery-[^\"']+\.min\.js": "jquery",
        r"https://cdn\.jsdelivr\.net/npm/bootstrap@[^\"']+/bootstrap\.bundle\.min\.js": "bootstrap",
        r"https://cdn\.jsdelivr\.net/npm/bootstrap@[^\"']+/bootstrap\.min\.css": "bootstrap_css",
        r"https://cdn\.jsdelivr\.net/npm/@fortawesome/[^\"']+/all\.min\.css": "font_awesome_css",
    }
    text = html.read_text(encoding="utf-8")
    for pattern, name in local.items():
        text = re.sub(pattern, asset_path(name).resolve().as_uri(), text)
    out = html.with_name(html.stem + "_offline.html")
    out.write_text(text, encoding="utf-8")
    return out


def payload_check(html: Path, n: int) -> str | None:
    """Problems with the deposit layer's data in Corridor Map's HTML (None: every point has its row)."""
    sys.path.insert(0, str(HERE.parent))
    from helpers import column_values  # the tests' decoder of page columns (corridor.js's column)

    text = html.read_text(encoding="utf-8")
    dec = json.JSONDecoder()
    for m in re.finditer(r"CorridorMap\.add\(\w+, ", text):
        try:
            spec, _ = dec.raw_decode(text, m.end())
        except json.JSONDecodeError:
            continue
        if spec.get("kind") != "deposits" or len(spec.get("p", [])) != n:
            continue
        lengths = {len(column_values(c)) for c in spec["data"]}
        if lengths != {n}:
            return f"columns hold {sorted(lengths)} rows for {n} points"
        names = column_values(spec["data"][spec["cols"].index("Name")])
        if names != [deposit_name(i) for i in range(n)]:
            return "names in the payload differ from the file's"
        return None
    return f"no deposit layer of {n} points in the HTML"


# --- map: browser -----------------------------------------------------------------------------

DRAWN_JS = """
(() => {
  const N = __N__, MODE = "__MODE__";
  function ours() {
    const m = window.CorridorMap && CorridorMap.map;
    if (!m || !m._cm) return false;
    return m._cm.layers.some(o => {
      const g = o.layer;
      return g._topClusterLevel && g._topClusterLevel._childCount >= N && g._featureGroup &&
        g._featureGroup.getLayers().some(c => c._icon && c._icon.isConnected);
    });
  }
  function theirs() {
    return document.querySelectorAll("path.leaflet-interactive").length >= N;
  }
  function page() {
    const m = window.CorridorMap && CorridorMap.map;
    return !!(m && m._cm && document.querySelector(".leaflet-marker-icon"));
  }
  const ready = MODE === "ours" ? ours : MODE === "page" ? page : theirs;
  function tick() {
    let ok = false;
    try { ok = ready(); } catch (e) { ok = false; }
    if (ok) { window.__drawnAt = performance.now(); } else { requestAnimationFrame(tick); }
  }
  window.addEventListener("load", () => {
    window.__loadAt = performance.now();
    requestAnimationFrame(tick);
  });
})();
"""

# Whether the map stays usable: four pans and one zoom step without animation, each timed until
# the second animation frame after it (marker clustering runs on moveend, within that time).
PAN_JS = """
async () => {
  const m = CorridorMap.map;
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const out = [];
  const steps = [() => m.panBy([400, 0], {animate: false}), () => m.panBy([0, 300], {animate: false}),
    () => m.panBy([-400, 0], {animate: false}), () => m.panBy([0, -300], {animate: false}),
    () => m.setZoom(m.getZoom() + 1, {animate: false})];
  for (const step of steps) {
    const t = performance.now();
    step();
    await frame(); await frame();
    out.push(performance.now() - t);
  }
  return out;
}
"""

OURS_POPUPS_JS = """
async (sample) => {
  const map = CorridorMap.map;
  const g = map._cm.layers.map(o => o.layer).filter(l => l._topClusterLevel)
    .sort((a, b) => b._topClusterLevel._childCount - a._topClusterLevel._childCount)[0];
  const markers = g.getLayers();
  const byIndex = new Array(markers.length);
  let distinct = true;
  for (const mk of markers) {
    const i = mk.options.cmIndex;
    if (i === undefined || i < 0 || i >= markers.length || byIndex[i]) { distinct = false; continue; }
    byIndex[i] = mk;
  }
  let opened = 0;
  const wrong = [];
  for (const [i, name] of sample) {
    const mk = byIndex[i];
    g.fire("click", {layer: mk, latlng: mk.getLatLng()});
    // the popup now open on the map (a closed one fades out of the DOM later)
    const el = map._popup && map._popup.isOpen() && map._popup.getElement();
    if (el && el.textContent.includes(name)) opened++; else wrong.push(i);
    map.closePopup();
  }
  return {markers: markers.length, distinct: distinct, opened: opened, wrong: wrong.slice(0, 5)};
}
"""

OURS_CLICK_JS = """
(i) => new Promise(done => {
  const map = CorridorMap.map;
  const g = map._cm.layers.map(o => o.layer).filter(l => l._topClusterLevel)
    .sort((a, b) => b._topClusterLevel._childCount - a._topClusterLevel._childCount)[0];
  const mk = g.getLayers().find(m => m.options.cmIndex === i);
  // centre it: panels in the corners must not cover the marker the mouse clicks
  g.zoomToShowLayer(mk, () => {
    map.setView(mk.getLatLng(), map.getZoom(), {animate: false});
    setTimeout(() => { mk._icon.id = "bench-pick"; done(true); }, 300);
  });
})
"""

THEIRS_POPUPS_JS = """
async (sample) => {
  const gj = Object.values(window).find(v => v instanceof L.GeoJSON);
  const map = Object.values(window).find(v => v instanceof L.Map);
  const feats = gj.getLayers();
  const named = feats.filter(l => l.feature && l.feature.properties && l.feature.properties.name);
  const byName = new Map(named.map(l => [l.feature.properties.name, l]));
  let opened = 0;
  const wrong = [];
  for (const [i, name] of sample) {
    const l = byName.get(name);
    if (!l) { wrong.push(i); continue; }
    l.fire("click", {latlng: l.getLatLng()}, true);
    const el = map._popup && map._popup.isOpen() && map._popup.getElement();
    if (el && el.textContent.includes(name)) opened++; else wrong.push(i);
    map.closePopup();
  }
  return {markers: named.length, distinct: byName.size === named.length,
          bound: !!gj.getPopup(), opened: opened, wrong: wrong.slice(0, 5)};
}
"""

THEIRS_CLICK_JS = """
() => {
  const gj = Object.values(window).find(v => v instanceof L.GeoJSON);
  const map = Object.values(window).find(v => v instanceof L.Map);
  const size = map.getSize(), box = map.getContainer().getBoundingClientRect();
  const l = gj.getLayers().find(l => {
    const p = map.latLngToContainerPoint(l.getLatLng());
    return p.x > 200 && p.y > 200 && p.x < size.x - 200 && p.y < size.y - 200;
  });
  const p = map.latLngToContainerPoint(l.getLatLng());
  return [box.left + p.x, box.top + p.y];
}
"""


def open_page(browser: Any, html: Path, mode: str, n: int) -> tuple[Any, Any, dict[str, Any]]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    blocked: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(DRAWN_JS.replace("__N__", str(n)).replace("__MODE__", mode))
    page.goto(html.resolve().as_uri(), wait_until="load", timeout=300_000)
    page.wait_for_function("window.__drawnAt !== undefined", timeout=300_000, polling=100)
    times = page.evaluate("({load: window.__loadAt, drawn: window.__drawnAt})")
    return context, page, {"load_s": times["load"] / 1000, "drawn_s": times["drawn"] / 1000,
                           "blocked": len(blocked), "errors": errors}  # fmt: skip


def best_open(browser: Any, html: Path, mode: str, n: int) -> tuple[Any, Any, dict[str, Any]]:
    """:func:`open_page` twice; the page of the faster open is kept (the other is closed)."""
    first = open_page(browser, html, mode, n)
    second = open_page(browser, html, mode, n)
    keep, drop = sorted((first, second), key=lambda o: o[2]["drawn_s"])
    drop[0].close()
    return keep


def browse(browser: Any, maps: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    sample = [
        [int(i), deposit_name(int(i))] for i in rng.choice(n, min(POPUP_SAMPLE, n), replace=False)
    ]
    out: dict[str, Any] = {}
    # ours (the drawing time is the better of two opens, on both sides: one open varies by
    # a second or more on a shared machine)
    ctx, page, t = best_open(browser, maps["ours"], "ours", n)
    res = page.evaluate(OURS_POPUPS_JS, sample)
    pick = int(rng.integers(n))
    page.evaluate(OURS_CLICK_JS, pick)
    page.wait_for_timeout(400)
    page.locator("#bench-pick").click()
    pop = page.locator(".leaflet-popup-content")
    pop.wait_for(state="visible", timeout=5000)
    clicked = deposit_name(pick) in pop.inner_text()
    problem = payload_check(maps["ours"], n)
    ok = (problem is None and res["markers"] == n and res["distinct"]
          and res["opened"] == len(sample) and clicked)  # fmt: skip
    pan_ms = page.evaluate(PAN_JS)
    out["ours"] = {
        **t,
        "pan_ms": max(pan_ms),
        "popups_ok": ok,
        "popups": (
            f"payload {n} rows{'' if problem is None else ' (' + problem + ')'}; "
            f"{res['markers']} markers, indexes distinct {res['distinct']}; "
            f"{res['opened']}/{len(sample)} sampled popups; real click {'opened' if clicked else 'FAILED'}"
        ),
    }
    ctx.close()
    if maps["theirs"] is None:
        return out
    # explore()
    ctx, page, t = best_open(browser, offline_copy(maps["theirs"]), "theirs", n)
    res = page.evaluate(THEIRS_POPUPS_JS, sample)
    x, y = page.evaluate(THEIRS_CLICK_JS)
    page.mouse.click(x, y)
    pop = page.locator(".leaflet-popup-content")
    try:
        pop.wait_for(state="visible", timeout=5000)
        clicked = "Synthetic deposit" in pop.inner_text()
    except Exception:
        clicked = False
    ok = res["markers"] == n and res["bound"] and res["opened"] == len(sample) and clicked
    out["theirs"] = {
        **t,
        "popups_ok": ok,
        "popups": (
            f"{res['markers']} features, popup bound {res['bound']}; "
            f"{res['opened']}/{len(sample)} sampled popups; real click {'opened' if clicked else 'FAILED'}"
        ),
    }
    ctx.close()
    return out


# --- proximity --------------------------------------------------------------------------------


def _rss_kb(field: str) -> int:
    m = re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text())
    return int(m.group(1)) if m else 0


def proximity_worker(method: str, points: Path, routes: Path, out: Path) -> None:
    """One method in its own process: seconds, peak memory above the start, masks to ``out``."""
    import geopandas as gpd
    import shapely

    xy = np.load(points)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326)
    lines = shapely.from_wkb(np.load(routes, allow_pickle=True))
    del xy
    with contextlib.suppress(OSError):  # reset the peak-RSS mark so the peak is the timed part's
        Path("/proc/self/clear_refs").write_text("5")
    base = _rss_kb("VmRSS")
    t = time.perf_counter()
    if method == "ours":
        from geo.analysis.stats import deposits_near

        masks = np.stack([deposits_near(g, pts, BUFFER_KM) for g in lines])
    else:
        crs = {"3857": "EPSG:3857", "conic": "ESRI:102026"}[method]
        p = pts.to_crs(crs)
        zones = gpd.GeoDataFrame({"route": np.arange(len(lines))}, geometry=list(lines), crs=4326)
        zones = zones.to_crs(crs)
        zones["geometry"] = zones.buffer(BUFFER_KM * 1000)
        hits = gpd.sjoin(p, zones, predicate="within", how="inner")
        masks = np.zeros((len(lines), len(pts)), dtype=bool)
        masks[hits["route"].to_numpy(), hits.index.to_numpy()] = True
    seconds = time.perf_counter() - t
    peak = _rss_kb("VmHWM")
    np.save(out, np.packbits(masks, axis=1))
    print(json.dumps({"seconds": seconds, "peak_mb": (peak - base) / 1024, "rss_mb": peak / 1024}))


def proximity(work: Path, n: int, env: dict[str, str]) -> dict[str, Any]:
    import shapely

    from geo.analysis.stats import reference_routes

    routes = reference_routes()
    x, y, _ = central_asia_points(n, SEED + 7)
    np.save(work / "points.npy", np.c_[x, y])
    np.save(work / "routes.npy", shapely.to_wkb(routes.geometry.to_numpy()), allow_pickle=True)
    res: dict[str, Any] = {"routes": len(routes), "points": n}
    for method in ("ours", "3857", "conic"):
        out = work / f"mask_{method}.npy"
        r = subprocess.run([sys.executable, __file__, "_proximity", method, str(work / "points.npy"),
                            str(work / "routes.npy"), str(out)], env=env, capture_output=True,
                           text=True, timeout=900)  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"proximity {method} failed:\n{r.stderr[-2000:]}")
        res[method] = json.loads(r.stdout.strip().splitlines()[-1])
        res[method]["mask"] = np.unpackbits(np.load(out), axis=1, count=n).astype(bool)
    ours = res["ours"]["mask"]
    for method in ("3857", "conic"):
        m = res[method]["mask"]
        res[method]["agree"] = {
            "pairs": int(ours.size), "differ": int((m != ours).sum()),
            "only_theirs": int((m & ~ours).sum()), "only_ours": int((ours & ~m).sum()),
            "near_ours": int(ours.sum()), "near_theirs": int(m.sum()),
        }  # fmt: skip
    for method in ("ours", "3857", "conic"):
        del res[method]["mask"]
    return res


# --- routing ----------------------------------------------------------------------------------


def route_latency(net: Any, queries: int, seed: int, stats: bool = False) -> dict[str, Any]:
    """Milliseconds per ``find_route`` (and, with ``stats``, ``route_stats`` of its answer)."""
    from geo.analysis.routing import find_route
    from geo.analysis.stats import route_stats
    from geo.errors import RouteError

    def query(a: str, b: str) -> None:
        r = find_route(net, a, b)
        if stats:
            route_stats(r, network=net)

    # named places on a line (rail junctions and access points are not places a user names)
    nodes = [n for n, d in net.graph.nodes(data=True)
             if net.graph.degree(n) > 0 and d.get("kind") != "junction"]  # fmt: skip
    rng = np.random.default_rng(seed)
    pairs = [rng.choice(len(nodes), 2, replace=False) for _ in range(queries + 1)]
    t = time.perf_counter()
    with contextlib.suppress(RouteError):
        query(nodes[pairs[0][0]], nodes[pairs[0][1]])
    first = time.perf_counter() - t
    ms, blocked = [], 0
    for a, b in pairs[1:]:
        t = time.perf_counter()
        try:
            query(nodes[a], nodes[b])
        except RouteError:
            blocked += 1  # no route under the default constraints: still a query, still timed
        ms.append((time.perf_counter() - t) * 1000)
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
            "first_s": first, "blocked": blocked, "queries": queries, "places": len(nodes),
            "nodes": net.graph.number_of_nodes(), "edges": net.graph.number_of_edges()}  # fmt: skip


def sea_leg_latency(work: Path, runs: int = 3) -> dict[str, Any]:
    """Seconds for an on-demand sea leg (Shanghai - Piraeus): cold, from disk, from memory.

    Cold is searoute's search plus km by country (its graph already loaded, as after the first
    leg of a process); each cold run gets an empty cache folder. Best of ``runs``.
    """
    from geo.analysis.ports import find_port, port_index
    from geo.data import ports

    t = time.perf_counter()
    port_index()
    index_s = time.perf_counter() - t
    a, b = find_port("Shanghai"), find_port("Piraeus")
    ports.port_leg(find_port("Aktau"), find_port("AZBAK"))  # loads searoute's graph
    cold, disk, memory = [], [], []
    for i in range(runs):
        folder = work / f"sea_cache_{i}"
        ports.clear_memory_cache()
        t = time.perf_counter()
        ports.port_leg(a, b, cache_dir=folder)
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        ports.port_leg(a, b, cache_dir=folder)
        memory.append(time.perf_counter() - t)
        ports.clear_memory_cache()
        t = time.perf_counter()
        ports.port_leg(a, b, cache_dir=folder)
        disk.append(time.perf_counter() - t)
    return {"index_s": index_s, "cold_s": min(cold), "disk_s": min(disk),
            "memory_s": min(memory)}  # fmt: skip


# --- supply routes and validation at scale ---------------------------------------------------


def supply_costs(work: Path, n: int, env: dict[str, str], browser: Any) -> dict[str, Any]:
    """``corridor exports`` of an ``n``-deposit layer to one market, and the supply map of it."""
    layer = work / f"deposits_{n}.geojson"
    if not layer.exists():
        write_deposit_layer(layer, n, SEED + n)
    out: dict[str, Any] = {"points": n}
    out["exports_s"], out["exports_mb"] = measured_run(
        ["-m", "geo", "exports", "--market", "yokohama_port", "--layer", str(layer),
         "--format", "csv", "--no-summary"], env, ROOT)  # fmt: skip
    html = work / f"supply_{n}.html"
    out["map_s"], out["map_rss"] = measured_run(
        ["-m", "geo", "map", str(ROOT / "maps" / "exports.toml"), "--layer", str(layer),
         "--out", str(html)], env, ROOT)  # fmt: skip
    out["map_mb"] = html.stat().st_size / 1e6
    ctx, _page, t = open_page(browser, html, "ours", n)
    ctx.close()
    out.update(load_s=t["load_s"], drawn_s=t["drawn_s"], errors=len(t["errors"]))
    return out


def validation_costs(work: Path, n: int, env: dict[str, str]) -> dict[str, Any]:
    """``corridor validate`` of an ``n``-point deposit layer: seconds and peak memory."""
    layer = work / f"deposits_{n}.geojson"
    if not layer.exists():
        write_deposit_layer(layer, n, SEED + n)
    s, mb = measured_run(["-m", "geo", "validate", str(layer)], env, ROOT)
    return {"points": n, "seconds": s, "rss_mb": mb, "file_mb": layer.stat().st_size / 1e6}


def supply_rows(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for n, r in sorted(results.get("supply", {}).items()):
        rows.append([f"Supply, {n:,} user deposits", "corridor exports, one market s / peak MB",
                     f"{_f(r['exports_s'], 1)} / {_f(r['exports_mb'], 0)}", "", "", "seconds",
                     _met(r["exports_s"] < 60)])  # fmt: skip
        rows.append(["", "supply map: build s / HTML MB / peak MB",
                     f"{_f(r['map_s'], 1)} / {_f(r['map_mb'], 1)} / {_f(r['map_rss'], 0)}", "", "",
                     "", ""])  # fmt: skip
        rows.append(["", "supply map: drawn s (load)", f"{_f(r['drawn_s'])} ({_f(r['load_s'])})",
                     f"{r['errors']} page errors", "", "usable", _met(r["errors"] == 0)])  # fmt: skip
    for n, r in sorted(results.get("validation", {}).items()):
        rows.append([f"Validate {n:,} pts ({r['file_mb']:.0f} MB GeoJSON)", "s / peak MB",
                     f"{_f(r['seconds'], 1)} / {_f(r['rss_mb'], 0)}", "", "", "", ""])  # fmt: skip
    return rows


# --- payloads ---------------------------------------------------------------------------------
# Before issue 19 (same machine, 2 cores shared, load 3-4, 100k-point layer, one process): the
# layer payload (user_layer) took 4.3 s, of it 3.4 s formatting cells one by one; script_json of
# it 0.6 s; build_map of the countries and the layer 6.1 s, render_html 0.5 s.


def _best(f: Any, reps: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def payloads(work: Path, n: int) -> dict[str, Any]:
    """Seconds to turn a loaded ``n``-point deposit layer into its page payload and page."""
    from geo.data.countries import countries
    from geo.data.layers import load_layer
    from geo.render.corridor_map import build_map
    from geo.render.page import render_html
    from geo.render.payloads import property_columns, user_layer
    from geo.render.spec import MapSpec
    from geo.render.style import fmt, fmt_column, script_json

    path = work / f"deposits_{n}.geojson"
    if not path.exists():
        write_deposit_layer(path, n, SEED + n)
    gdf = load_layer(path)
    cols = property_columns(gdf, "deposit")
    cells_new, _ = _best(lambda: [fmt_column(gdf[c]) for c in cols])
    cells_old, _ = _best(lambda: [[fmt(v) for v in gdf[c].tolist()] for c in cols], reps=1)
    layer_s, layer = _best(lambda: user_layer(path.stem, gdf, 0))
    json_new, text = _best(lambda: script_json(layer))
    json_old, _ = _best(
        lambda: json.dumps(layer, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    )
    spec = MapSpec(title="payloads", center=(45.0, 68.0), zoom=4, layers=())
    base = countries().reset_index(drop=True)
    frames = {"segments": None, "nodes": None, "deposits": None, "routes": None}
    build_s, m = _best(
        lambda: build_map(spec, countries=base, user_layers=[(path.stem, gdf)], **frames), reps=2
    )
    render_s, page = _best(lambda: render_html(m), reps=2)
    return {"points": n, "cells_new": cells_new, "cells_old": cells_old, "layer_s": layer_s,
            "json_new": json_new, "json_old": json_old, "json_mb": len(text) / 1e6,
            "build_s": build_s, "render_s": render_s, "html_mb": len(page) / 1e6}  # fmt: skip


# --- report -----------------------------------------------------------------------------------


def _f(v: float, digits: int = 2) -> str:
    return f"{v:.{digits}f}"


def rows_of(results: dict[str, Any]) -> list[list[str]]:
    """Rows: what, measure, Corridor Map, alternative, ratio, target, met."""
    rows: list[list[str]] = []
    for n, r in sorted(results["map"].items()):
        rows.extend(map_rows(n, r))
    if "payloads" in results:
        q = results["payloads"]
        was = q["points"] == 100_000  # measured before issue 19 at this size only (see payloads)
        rows.append([f"Payloads {q['points']:,} pts", "format cells s", _f(q["cells_new"]),
                     f"{_f(q['cells_old'])} (fmt per cell)", f"{q['cells_old'] / q['cells_new']:.1f}x", "", ""])  # fmt: skip
        rows.append(["", f"JSON of the layer ({q['json_mb']:.1f} MB) s", _f(q["json_new"], 3),
                     f"{_f(q['json_old'], 3)} (json.dumps)", f"{q['json_old'] / q['json_new']:.1f}x", "", ""])  # fmt: skip
        rows.append(
            [
                "",
                "layer payload s" + (" (before: 4.3)" if was else ""),
                _f(q["layer_s"]),
                "",
                "",
                "",
                "",
            ]
        )
        rows.append(["", "build_map + render_html s" + (" (before: 6.1 + 0.5)" if was else ""),
                     f"{_f(q['build_s'])} + {_f(q['render_s'])}", "", "", "", ""])  # fmt: skip
    rows.extend(store_rows(results))
    rows.extend(supply_rows(results))
    rows.extend(proximity_rows(results))
    rows.extend(routing_rows(results))
    return rows


def proximity_rows(results: dict[str, Any]) -> list[list[str]]:
    p = results.get("proximity")
    if p is None:
        return []
    label = f"Proximity {p['points']:,} pts x {p['routes']} routes"
    o, m, c = p["ours"], p["3857"], p["conic"]
    rows = [[label, "seconds", _f(o["seconds"]), f"{_f(m['seconds'])} (3857) / {_f(c['seconds'])} (conic)",
             f"{m['seconds'] / o['seconds']:.1f}x", "≤3 s", "yes" if o["seconds"] <= 3 else "no"]]  # fmt: skip
    rows.append(["", "peak memory MB", _f(o["peak_mb"], 0), f"{_f(m['peak_mb'], 0)} / {_f(c['peak_mb'], 0)}",
                 f"{m['peak_mb'] / max(o['peak_mb'], 1):.1f}x", "", ""])  # fmt: skip
    for key, name in (("3857", "EPSG:3857"), ("conic", "ESRI:102026 conic")):
        a = p[key]["agree"]
        rows.append(["", f"pairs differing vs {name}", "(reference)",
                     f"{a['differ']:,} of {a['pairs']:,} ({a['differ'] / a['pairs']:.2%}): "
                     f"{a['only_theirs']:,} only theirs, {a['only_ours']:,} only ours", "", "", ""])  # fmt: skip
    return rows


def routing_rows(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    labels = (("traced", "Routing, traced network", False),
              ("traced_stats", "Routing + route_stats, traced network", True))  # fmt: skip
    for key, label, tgt in labels:
        r = results.get("routing", {}).get(key)
        if r is None:
            continue
        what = f"{label} ({r['nodes']:,} nodes, {r['edges']:,} edges, {r['places']} places)"
        rows.append([what, "p50 / p99 ms", f"{_f(r['p50'], 1)} / {_f(r['p99'], 1)}", "", "",
                     "p99 < 50 ms" if tgt else "", _met(r["p99"] < 50) if tgt else ""])  # fmt: skip
        rows.append(["", "first query s (index + subgraph)", _f(r["first_s"], 2),
                     f"{r['blocked']} of {r['queries']} had no route", "", "", ""])  # fmt: skip
    sea = results.get("routing", {}).get("sea_legs")
    if sea is not None:
        rows.append(["Sea leg on demand (Shanghai - Piraeus, searoute)",
                     "cold / from disk / from memory ms",
                     f"{_f(sea['cold_s'] * 1000, 1)} / {_f(sea['disk_s'] * 1000, 1)} / "
                     f"{_f(sea['memory_s'] * 1000, 3)}",
                     f"port index built in {_f(sea['index_s'], 2)} s", "", "", ""])  # fmt: skip
    return rows


def _met(ok: bool) -> str:
    return "yes" if ok else "no"


def map_rows(n: int, r: dict[str, Any]) -> list[list[str]]:
    """Rows of one map size: against explore() at 100k, against the absolute targets at 1M."""
    b, vs = r["browser"], r["theirs"] is not None
    tgt5 = n == 100_000 and vs  # the targets against explore()
    big = n >= 1_000_000  # the targets for a million points
    ours, theirs = b["ours"], b.get("theirs")

    def versus(label: str, mine: str, other: str, ratio: float) -> list[str]:
        target = {"build s": "≥5x faster", "HTML MB": "≤1/5 size", "drawn s (load)": "≥5x faster"}
        return ["", label, mine, other, f"{ratio:.1f}x", target[label] if tgt5 else "",
                _met(ratio >= 5) if tgt5 else ""]  # fmt: skip

    if vs:
        share = r["build_ours"] - r["build_base"]  # what the layer adds (noise at small sizes)
        rows = [
            versus("build s", _f(r["build_ours"], 1), f"{_f(r['build_theirs'], 1)} (explore())",
                   r["build_theirs"] / r["build_ours"]),
            ["", "of it: main map alone s / the layer's share s", f"{_f(r['build_base'], 1)} / "
             f"{_f(r['build_ours'] - r['build_base'], 1)}", _f(r["build_theirs"], 1),
             (f"{r['build_theirs'] / share:.1f}x (layer's share)" if share > 0.05 else "-"),
             "", ""],
            ["", "peak memory MB (build)", _f(r["rss_ours"], 0), _f(r["rss_theirs"], 0),
             f"{r['rss_theirs'] / r['rss_ours']:.1f}x", "", ""],
            versus("HTML MB", _f(r["mb_ours"], 1), _f(r["mb_theirs"], 1),
                   r["mb_theirs"] / r["mb_ours"]),
            versus("drawn s (load)", f"{_f(ours['drawn_s'])} ({_f(ours['load_s'])})",
                   f"{_f(theirs['drawn_s'])} ({_f(theirs['load_s'])})",
                   theirs["drawn_s"] / ours["drawn_s"]),
        ]  # fmt: skip
    else:
        rows = [
            ["", "build s", _f(r["build_ours"], 1), "explore() not run (see notes)", "",
             "< 60 s" if big else "", _met(r["build_ours"] < 60) if big else ""],
            ["", "peak memory MB (build)", _f(r["rss_ours"], 0), "", "", "< 2,048" if big else "",
             _met(r["rss_ours"] < 2048) if big else ""],
            ["", "HTML MB", _f(r["mb_ours"], 1), "", "", "", ""],
            ["", "drawn s (load)", f"{_f(ours['drawn_s'])} ({_f(ours['load_s'])})", "", "",
             "opens" if big else "", _met(True) if big else ""],
        ]  # fmt: skip
    rows.append(["", "worst pan/zoom frame ms", _f(ours["pan_ms"], 0), "", "",
                 "pannable" if big else "", _met(ours["pan_ms"] < 1000) if big else ""])  # fmt: skip
    ok = ours["popups_ok"] and (theirs is None or theirs["popups_ok"])
    rows.append(["", "every point has its popup", "yes" if ours["popups_ok"] else "NO",
                 ("yes" if theirs["popups_ok"] else "NO") if theirs else "",
                 "", "all" if (tgt5 or big) else "", _met(ok) if (tgt5 or big) else ""])  # fmt: skip
    rows[0][0] = f"Map {n:,} pts"
    return rows


def store_rows(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for n, r in sorted(results.get("store", {}).items()):
        route, listing = r["route"], r["layers"]
        extra = route["stored_s"] - route["empty_s"]
        rows.append([f"Store, {n:,} pts stored", "route s (empty store)",
                     f"{_f(route['stored_s'])} ({_f(route['empty_s'])})", "", f"{extra:+.2f} s",
                     "≤ empty + 2 s", "yes" if extra <= 2 else "no"])  # fmt: skip
        if "map" in r:
            m = r["map"]
            rows.append(["", "map s (empty store)", f"{_f(m['stored_s'], 1)} ({_f(m['empty_s'], 1)})",
                         "", f"{m['stored_s'] - m['empty_s']:+.1f} s", "", ""])  # fmt: skip
        rows.append(["", "layers s (empty store)",
                     f"{_f(listing['stored_s'])} ({_f(listing['empty_s'])})", "",
                     f"{listing['stored_s'] - listing['empty_s']:+.2f} s", "", ""])  # fmt: skip
        rows.append(["", "read stored layer s (columnar copy / checked GeoJSON)",
                     _f(r["read_columns_s"]), _f(r["read_checked_s"]),
                     f"{r['read_checked_s'] / r['read_columns_s']:.1f}x", "", ""])  # fmt: skip
        validating = r.get("read_validating_s")
        rows.append(["", "read network columns s (validating read)",
                     _f(r["read_network_columns_s"]),
                     "-" if validating is None else _f(validating), "", "", ""])  # fmt: skip
        rows.append(["", "id clash check s (incl. bundled ids) / layers add s", _f(r["id_clashes_s"]), _f(r["add_s"], 1),
                     "", "", ""])  # fmt: skip
    return rows


HEADER = ["benchmark", "measure", "Corridor Map", "alternative", "ratio", "target", "met"]


def markdown(results: dict[str, Any], rows: list[list[str]], seconds: float) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        "Produced by `python tests/benchmarks/run.py` (see its docstring for the exact method);",
        f"the whole run took {seconds / 60:.1f} minutes.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in m.items()) + ".",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows),
        "",
        "Notes:",
        "",
        "- *Map*: the alternative is `GeoDataFrame.explore(popup=True)` of the same layer file;"
        " Corridor Map's side is the whole main map (`corridor map --layer FILE --out OUT`) plus"
        " the layer. Build = wall time of a fresh process, file in, HTML out; where explore()"
        " runs, the fastest of three builds per side, the two sides alternating (this VM's speed"
        " wanders by up to half from minute to minute), every build listed here: "
        + "; ".join(
            f"{n:,} points: ours {', '.join(_f(t, 1) for t in r['builds_ours'])} s, explore() "
            f"{', '.join(_f(t, 1) for t in r['builds_theirs'])} s, the main map alone "
            f"{', '.join(_f(t, 1) for t in r.get('builds_base', []))} s"
            for n, r in sorted(results["map"].items())
            if r["theirs"] and "builds_ours" in r
        )
        + ". *Main map alone* is `corridor map --out OUT` without a layer, built alternating with"
        " the other two: everything explore() does not do (the network, the 13 reference routes"
        " and their statistics, the bundled layers, the panels); *the layer's share* is the"
        " difference, what adding the layer costs, set against explore()'s whole build. Drawn = seconds from"
        " navigation start to the first animation frame after `load` in which all N points are on"
        " the map (ours: the layer's cluster group holds N markers and its cluster icons are in"
        " the DOM; explore(): N marker paths exist; the faster of two opens); (load) is the `load`"
        " event.",
        "- *Popups*: "
        + "; ".join(
            f"{n:,} points: ours {r['browser']['ours']['popups']}"
            + (f"; explore() {r['browser']['theirs']['popups']}" if r["theirs"] else "")
            for n, r in sorted(results["map"].items())
        )
        + ".",
        "- *Proximity*: Corridor Map measures great-circle distance on the sphere. EPSG:3857"
        " stretches distances by 1/cos(latitude) (x1.3 to x1.8 between 40 and 55 N), so a 100 km"
        " buffer drawn in it covers only 55-75 km on the ground and misses points; the equidistant"
        " conic keeps distances true only along its meridians and standard parallels, so it is"
        " close in Central Asia but not exact. Memory is each process's peak RSS during the"
        " timed part above its RSS before it.",
        "- *Payloads*: the map layer's payload in one process on the loaded layer; ours is the"
        " code today, the alternative the way it was written before issue 19 (`fmt` cell by cell,"
        " `json.dumps`); the before figures in brackets were measured at 100k points on the same"
        " machine before the change.",
        "- *Store*: fresh processes (best of 2) with the synthetic deposit layer stored by"
        " `corridor layers add`, against an empty store; *map* is `corridor map --out OUT`, the"
        ' main map with the stored layer in "Your layers" (up to 100,000 points): the way to'
        " build a big layer's map again and again, since the store keeps it validated;"
        " *columnar copy* reads the layer's"
        " `NAME.columns`, *network columns* only the deposit columns the network keeps (what"
        " `corridor route` reads), *checked GeoJSON* parses the checksummed GeoJSON without"
        " validating it (the fallback), *validating* is what every command did before issue 19"
        " (not timed above 200k points).",
        "- *Routing*: `find_route` between random pairs of named places of the network the"
        " package builds (the traced rail network with its stations, hand-drawn lines, sea legs"
        " and pipelines; rail junctions are not places a user names), default constraints,"
        " operational links; queries with no route are timed too (the error names the blocking"
        " constraint). *+ route_stats* adds the full statistics of each answer (countries,"
        " borders, gauge breaks, days, cost, CO2, corridors, deposits nearby).",
        "- *Peak memory* is the measured process's own high-water resident memory"
        " (`VmHWM` at exit), imports included. explore() is not run at 1,000,000 points: at"
        " 100,000 it already needs the time and memory shown, and its page draws every point as"
        " an SVG path.",
        "- *Supply*: `corridor exports --market yokohama_port --layer FILE --format csv"
        " --no-summary` (every deposit's best route under each constraint set, bundled deposits"
        " included) and `corridor map maps/exports.toml --layer FILE`; drawn = the first frame"
        " after `load` with the map and a marker on it.",
        "- *Validate*: `corridor validate FILE` in a fresh process (read, check every feature,"
        " print the verdict).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_proximity":
        proximity_worker(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="small sizes (checks the script, not the code)"
    )
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="Markdown results file")
    ap.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run these sections only (repeatable; results printed, not written)",
    )
    ap.add_argument(
        "--store-points",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="sizes of the stored layer in the store section (default 100000 1000000)",
    )
    ap.add_argument(
        "--map-points",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="sizes of the map section (default 1000 10000 100000 1000000)",
    )
    ap.add_argument(
        "--supply-points",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="sizes of the user layer in the supply section (default 100000)",
    )
    ap.add_argument(
        "--no-explore",
        action="store_true",
        help="skip GeoDataFrame.explore() in the map section (a minute at 100k points); printed only",
    )
    args = ap.parse_args()
    sizes = Sizes.quick() if args.quick else Sizes()
    if args.no_explore:
        sizes = dataclasses.replace(sizes, explore_max=0)
    if args.supply_points:
        sizes = dataclasses.replace(sizes, supply=tuple(args.supply_points))
    if args.store_points:
        sizes = dataclasses.replace(sizes, store=tuple(args.store_points))
    if args.map_points:
        sizes = dataclasses.replace(sizes, maps=tuple(args.map_points))
    only = set(args.only or SECTIONS)
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "map": {}, "store": {}}
    with tempfile.TemporaryDirectory(prefix="corridor-bench-") as tmp:
        run_sections(results, only, sizes, Path(tmp), console)
    seconds = time.perf_counter() - started

    rows = rows_of(results)
    m = results["machine"]
    table = Table(title="Corridor Map benchmark", caption="; ".join(f"{k} {v}" for k, v in m.items()),
                  header_style="bold", title_justify="left")  # fmt: skip
    for h in HEADER:
        table.add_column(h, overflow="fold")
    for r in rows:
        table.add_row(*r)
    console.print(table)
    console.print(f"took {seconds / 60:.1f} min; load average now {os.getloadavg()[0]:.1f}")
    if args.only or args.no_explore:  # a partial run is printed, never written
        return
    args.out.write_text(markdown(results, rows, seconds), encoding="utf-8")
    console.print(f"wrote {args.out}")


SECTIONS = ("map", "payloads", "store", "supply", "validation", "proximity", "routing")


@dataclass(frozen=True)
class Sizes:
    """How big each section runs (``--quick`` checks the script, not the code)."""

    maps: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    explore_max: int = 100_000  # explore() of 1M points takes many minutes: not run (noted)
    payload: int = 100_000
    store: tuple[int, ...] = (100_000, 1_000_000)
    supply: tuple[int, ...] = (100_000,)
    validation: tuple[int, ...] = (100_000, 1_000_000)
    proximity: int = 1_000_000
    queries: int = 1_000

    @classmethod
    def quick(cls) -> Sizes:
        return cls((1_000, 5_000), 5_000, 5_000, (5_000,), (2_000,), (5_000,), 50_000, 100)


def run_sections(
    results: dict[str, Any], only: set[str], sizes: Sizes, work: Path, console: Any
) -> None:
    env = {**os.environ, "CORRIDOR_HOME": str(work / "home"), "PYTHONHASHSEED": "0"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # An installed package carries its modules' bytecode (pip compiles it); a checkout writes
    # it on first import, unless PYTHONDONTWRITEBYTECODE is set (as on this machine), when every
    # run compiles the package again (0.3-0.5 s). Write it once, as an install would.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "geo")], check=True)
    # A user's first command validates the bundled layers and builds the network, and caches
    # both (CORRIDOR_HOME/cache); every later one reads the cache. Warm it once, so no
    # section's first run pays for it.
    timed_run([sys.executable, "-m", "geo", "layers", "--format", "csv"], env, ROOT)
    timed_run([sys.executable, "-m", "geo", "route", "almaty", "tashkent"], env, ROOT)
    if only & {"map", "supply"}:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            results["machine"]["Chromium"] = browser.version
            for n in sizes.maps if "map" in only else ():
                console.log(f"map: {n:,} points")
                layer = work / f"deposits_{n}.geojson"
                if not layer.exists():
                    write_deposit_layer(layer, n, SEED + n)
                r = build_maps(layer, work, env, explore=n <= sizes.explore_max)
                r["browser"] = browse(browser, r, n, SEED)
                results["map"][n] = r
            for n in sizes.supply if "supply" in only else ():
                console.log(f"supply: {n:,} deposits")
                results.setdefault("supply", {})[n] = supply_costs(work, n, env, browser)
            browser.close()
    if "payloads" in only:
        console.log(f"payloads: {sizes.payload:,} points")
        results["payloads"] = payloads(work, sizes.payload)
    for n in sizes.store if "store" in only else ():
        console.log(f"store: {n:,} points")
        results["store"][n] = store_costs(work, n, env)
    for n in sizes.validation if "validation" in only else ():
        console.log(f"validation: {n:,} points")
        results.setdefault("validation", {})[n] = validation_costs(work, n, env)
    if "proximity" in only:
        console.log(f"proximity: {sizes.proximity:,} points")
        results["proximity"] = proximity(work, sizes.proximity, env)
    if "routing" in only:
        console.log("routing")
        from geo.analysis.network import load_network

        net = load_network()
        results["routing"] = {
            "traced": route_latency(net, sizes.queries, SEED),
            "traced_stats": route_latency(net, sizes.queries, SEED, stats=True),
            "sea_legs": sea_leg_latency(work),
        }


if __name__ == "__main__":
    main()
