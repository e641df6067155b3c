"""Map rendering without a browser: the HTML page, its safety, its reproducibility, the spec."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import importlib.util
import json
import re
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo.analysis.stats import STAT_KEYS
from geo.build import build_from_spec
from geo.data.bundled import bundled_dir
from geo.data.layers import load_layer
from geo.errors import GeoError, SpecError
from geo.render.assets import asset_text, strip_cdn_links, use_offline_assets
from geo.render.corridor_map import build_map, route_map
from geo.render.page import render_html, save_html
from geo.render.spec import MAX_SPEC_BYTES, SPEC_KEYS, ExportsSpec, MapSpec, load_spec
from geo.render.style import (
    ROUTE_FIELDS,
    STAT_LABELS,
    fmt,
    fmt_column,
    main_group,
    main_groups,
    script_json,
    value_colors,
)

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("map_fixtures", DATA / "map_fixtures.py")
assert _spec is not None and _spec.loader is not None
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)

HOSTILE_RAW = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(2)>",
    "</script><script>alert(4)</script>",
    '<a href="javascript:alert(1)">',
)

# Everything a page would fetch by itself: scripts, styles, images, CSS imports and urls.
LOADS = re.compile(
    r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc\s*=\s*['\"]?\s*(?:https?:)?//"
    r"|<link\b[^>]*\bhref\s*=\s*['\"]?\s*(?:https?:)?//"
    r"|url\(\s*['\"]?\s*(?:https?:)?//"
    r"|@import\s+(?:url\()?\s*['\"]?\s*(?:https?:)?//",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def frames() -> dict[str, object]:
    return fx.frames(n_deposits=300)


@pytest.fixture(scope="module")
def page(frames: dict[str, object]) -> str:
    return render_html(build_map(fx.SPEC, **frames))  # type: ignore[arg-type]


def test_page_has_legend_stats_and_layers(page: str) -> None:
    assert 'id="cm-legend"' in page
    assert 'class="cm-panel cm-legend"' in page
    assert 'id="cm-stats"' in page
    for name in ("TITR: Xi&#x27;an – Istanbul via Caspian", "Northern: Dostyk – Duisburg"):
        assert name in page  # the statistics panel lists every reference route
    assert "3,350" in page  # Russia km of the northern route, as the statistics say
    assert "L.markerClusterGroup" in page and "L.control.scale" in page
    assert "<title>Test map: TITR &amp; alternatives</title>" in page


def test_page_loads_nothing_from_the_network(page: str) -> None:
    assert not LOADS.findall(page)
    low = page.lower()
    for banned in ("awesome-markers", "awesome_markers", "glyphicon", "cdn.jsdelivr", "cdnjs",
                   "code.jquery.com", "bootstrapcdn", "sourcemappingurl"):  # fmt: skip
        assert banned not in low, banned
    # The only http(s) URLs: optional tile templates, attributions, data sources, namespaces.
    allowed = re.compile(
        r"https://(\{s\}\.basemaps\.cartocdn\.com|tile\.openstreetmap\.org|www\.openstreetmap\.org"
        r"|carto\.com|leafletjs\.com|example\.org)|http://www\.w3\.org/2000/svg"
    )
    for url in re.findall(r"https?://[^\s\"'<>\\)]+", page):
        assert allowed.match(url), url


def test_hostile_values_are_escaped(page: str) -> None:
    for raw in HOSTILE_RAW:
        assert raw not in page, raw
    assert "javascript:alert" not in page.split("<body>")[1].split("<script>")[0]  # not in HTML
    assert "\\u003cscript\\u003ealert(1)" in page  # the text is there, as inert JSON
    # Layer names are HTML-escaped, then JSON-escaped: "&lt;b&gt;" with "&" as \u0026.
    assert "\\u0026lt;b\\u0026gt;Hostile\\u0026lt;/b\\u0026gt; layer" in page
    # Nothing but our own scripts: every <script> in the page is one we wrote.
    scripts = re.findall(r"<script\b[^>]*>", page, re.IGNORECASE)
    assert set(scripts) == {"<script>"}


def test_embedded_json_cannot_close_the_script(frames: dict[str, object]) -> None:
    page = render_html(build_map(fx.SPEC, **frames))  # type: ignore[arg-type]
    script = page.split("</head>", 1)[1]
    for call in re.findall(r"CorridorMap\.add\(map_\w+, (.*)\);\n", script):
        assert "</" not in call and "<!--" not in call
        json.loads(call)  # valid JSON, so no code can hide in it


def test_two_builds_are_byte_identical(frames: dict[str, object], tmp_path: Path) -> None:
    a = save_html(build_map(fx.SPEC, **frames), tmp_path / "a.html")  # type: ignore[arg-type]
    b = save_html(build_map(fx.SPEC, **fx.frames(n_deposits=300)), tmp_path / "b.html")  # type: ignore[arg-type]
    assert a.read_bytes() == b.read_bytes()
    assert not re.search(r"_[0-9a-f]{32}\b", a.read_text())  # no random folium ids left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]  # no temp files


def test_inputs_are_not_modified(frames: dict[str, object]) -> None:
    before = {k: v.copy() for k, v in frames.items() if hasattr(v, "copy") and k != "user_layers"}
    build_map(fx.SPEC, **frames)  # type: ignore[arg-type]
    for k, v in before.items():
        assert frames[k].equals(v), k  # type: ignore[attr-defined]


def test_russia_segments_are_drawn_apart(page: str) -> None:
    assert "#7a1212" in page  # the Russia colour (segments with km in RUS), petropavl_moscow
    assert "Through Russia<" in page and "Through Russia / Belarus" not in page
    assert '"dashArray":"9 7"' in page and '"dashArray":"1 7"' in page  # status line styles


def test_coordinates_are_rounded(page: str) -> None:
    assert not re.search(r"\d+\.\d{6,}", page.split("</head>", 1)[1])


def test_empty_inputs_still_render() -> None:
    m = build_map(fx.SPEC, countries=None, segments=None, nodes=None, deposits=None, routes=None)
    page = render_html(m)
    assert "cm-legend" in page and "cm-stats" not in page.split("<body>")[1].split("<script>")[0]


def test_large_deposit_layer_stays_compact() -> None:
    deposits = fx.deposits(20_000)
    page = render_html(
        build_map(
            fx.SPEC, countries=None, segments=None, nodes=None, deposits=deposits, routes=None
        )
    )
    assert len(page) < 200_000 + 20_000 * 120  # compact arrays, not one marker object each


def test_fmt() -> None:
    assert fmt(None) == "" and fmt(float("nan")) == ""
    assert fmt(["a", "b"]) == "a, b"
    assert fmt(12.0) == "12" and fmt(12345.0) == "12,345"


# Values a layer column may hold (validated layers, and frames handed to the Python API).
_SCALARS = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.sampled_from([12345, 12345.0, 1, 1.0, True, -0.0, 0.005, 1e20]),
    st.floats(allow_nan=False, width=64),
    st.text(max_size=6),
    st.dates(),
    st.decimals(places=2, allow_nan=False),
)
_CELLS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, max_size=12) | st.lists(_SCALARS, max_size=12))
def test_fmt_column_is_fmt_of_each_value(values: list[object]) -> None:
    assert fmt_column(values).tolist() == [fmt(v) for v in values]


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1.5, None, 10000.0, 1.5]),
        pd.Series([3, 1, 3]),
        pd.Series([True, False, True]),
        pd.Series(["a", None, "a"], dtype="str"),
        pd.Series(["b", None, "", "  ", "b"], dtype="string"),
        pd.Series([1, None], dtype="Int64"),
        pd.Series([True, None], dtype="boolean"),
        pd.Series(pd.to_datetime(["2020-01-01", None])),
        pd.Series(["x", "y", "x"], dtype="category"),
        pd.Series(
            [["copper", "gold"], [], None, np.array(["zinc"]), "coal"], index=[4, 2, 9, 0, 1]
        ),
    ],
)
def test_fmt_column_of_typed_columns(column: pd.Series) -> None:
    assert fmt_column(column).tolist() == [fmt(v) for v in column.tolist()]


def test_main_groups_is_main_group_of_each_value() -> None:
    values = [["copper", "gold"], "uranium", [], None, float("nan"), ("coal",),
              np.array(["oil"]), [None], [["lithium"]], {"copper": 1}, 5]  # fmt: skip
    assert main_groups(values).tolist() == [main_group(v) for v in values]


def _reference_json(obj: object) -> str:
    """script_json as it was written with json alone (the text it must keep)."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        s = s.replace(a, b)
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-05, -3e-05, 1e-06, 1.5e-09, 1e-10, 1e16, 0.0001, 12.34567, 3e-08])
    | st.text(st.characters(codec="utf-8") | st.sampled_from('<>&\u2028\u2029\x00\x7f\n"\\')),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_JSON)
@example(5.960464477539063e-08)  # orjson writes e-8: a one-digit exponent at the very end
@example([1e-07])
def test_script_json_writes_what_json_dumps_wrote(obj: object) -> None:
    assert script_json(obj) == _reference_json(obj)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float64("nan")])
def test_script_json_refuses_non_finite_numbers(bad: float) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        script_json({"p": [[1.0, bad, 2]]})


def test_script_json_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        script_json({"when": dt.date(2024, 1, 1)})  # orjson would write it; json never did
    assert script_json({1: np.float64(0.5)}) == '{"1":0.5}'  # json's way, not orjson's refusal


def test_offline_assets_replace_cdn_links() -> None:
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    use_offline_assets(m)
    page = m.get_root().render()
    assert not LOADS.findall(page)
    assert "L.MarkerClusterGroup" in page or "markerClusterGroup" in page
    assert "data:image/png;base64," in page  # Leaflet's layer icon, inlined


def test_unknown_plugin_link_is_refused() -> None:
    m = folium.Map(tiles=None)
    el = folium.MacroElement()
    el.default_js = [("mystery", "https://cdn.example.com/x.js")]  # type: ignore[attr-defined]
    m.add_child(el)
    with pytest.raises(GeoError, match="no offline copy"):
        strip_cdn_links(m.get_root())


def test_assets_cannot_close_their_element() -> None:
    for name in ("leaflet", "markercluster", "leaflet_css"):
        assert "</script" not in asset_text(name).lower()


# --- map specs -------------------------------------------------------------------------------


def test_bundled_spec_loads() -> None:
    spec = load_spec(bundled_dir("maps") / "corridor.toml")
    assert spec.highlight == "TITR"
    assert spec.stats_routes is None  # "all"
    assert "countries" in spec.layers and spec.zoom == 4
    assert spec.max_zoom >= spec.zoom


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('center = [44, 58]\nzoom = 4\nlayers = ["countries"]', "title"),
        ('title = "t"\ncenter = [44]\nzoom = 4\nlayers = []', "center"),
        ('title = "t"\ncenter = [44, 58]\nzoom = "4"\nlayers = []', "zoom"),
        ('title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = "countries"', "layers"),
        ('title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\ncolour = 1', "colour"),
        (
            'title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\n[stats]\nroutes = 3',
            "stats.routes",
        ),
        ('title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\ntiles = ["Bing"]', "tiles"),
        ('title = "t"\ncenter = [44, 58]\nzoom = 15\nlayers = []', "zoom"),
        ('title = "t"\ncenter = [44, 58', None),
        ('title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\nshade = ["ZZZ"]', "shade"),
        (
            'title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\n[stats]\nshow = ["nosuch"]',
            "stats.show",
        ),
        (
            'title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\n[stats]\nroutes = ["x"]',
            "stats.routes",
        ),
        (
            'title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\nx = ' + "[" * 5000 + "]" * 5000,
            None,
        ),
    ],
)
def test_bad_spec_names_file_and_key(tmp_path: Path, text: str, key: str | None) -> None:
    p = tmp_path / "map_bad.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_spec(p)
    assert str(p) in str(e.value)
    if key:
        assert f": {key}:" in str(e.value)


def test_spec_table_documents_every_field() -> None:
    """SPEC_KEYS is the one description of a spec: every field, its default, a line of doc."""
    fields = {f.name: f for f in dataclasses.fields(MapSpec) if f.name != "path"}
    top = {k.field: k for k in SPEC_KEYS if not k.key.startswith("exports.") and k.field}
    assert set(top) == set(fields)
    exports = {f.name: f for f in dataclasses.fields(ExportsSpec)}
    sub = {k.field: k for k in SPEC_KEYS if k.key.startswith("exports.")}
    assert set(sub) == set(exports)
    for key, f in [*((top[n], f) for n, f in fields.items()),
                   *((sub[n], f) for n, f in exports.items())]:  # fmt: skip
        assert len(key.doc) > 10, key.key
        if key.required:
            assert f.default is dataclasses.MISSING, key.key
        else:
            assert key.default == f.default, key.key
    assert len({k.key for k in SPEC_KEYS}) == len(SPEC_KEYS)


def test_unknown_key_lists_the_table(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\n[exports]\nmarkt = "x"')
    with pytest.raises(SpecError) as e:
        load_spec(p)
    known = sorted(k.key.split(".")[1] for k in SPEC_KEYS if k.key.startswith("exports."))
    assert str(e.value) == f"{p}: exports.markt: unknown key; known keys are {', '.join(known)}"
    p.write_text('title = "t"\ncolour = 1')
    with pytest.raises(SpecError) as e:
        load_spec(p)
    top = sorted(k.key for k in SPEC_KEYS if "." not in k.key)
    assert str(e.value).endswith(f"colour: unknown key; known keys are {', '.join(top)}")
    assert "stats" in top and "exports" in top and "title" in top


def test_missing_spec() -> None:
    with pytest.raises(SpecError, match="not found"):
        load_spec(DATA / "map_does_not_exist.toml")


def test_spec_that_is_not_a_file(tmp_path: Path) -> None:
    for path in (tmp_path, Path("/dev/zero")):
        with pytest.raises(SpecError, match="not a regular file") as e:
            load_spec(path)
        assert str(e.value).startswith(str(path))


def test_spec_deep_nesting_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "deep.toml"
    p.write_text('title = "t"\nx = ' + "[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(SpecError, match="nested too deeply") as e:
        load_spec(p)
    assert "\n" not in str(e.value)


def test_over_large_spec_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "big.toml"
    p.write_text('title = "t"\n' + "# padding\n" * (MAX_SPEC_BYTES // 10 + 1), encoding="utf-8")
    with pytest.raises(SpecError, match="larger than 1,000,000 bytes") as e:
        load_spec(p)
    assert "\n" not in str(e.value) and str(e.value).startswith(str(p))


def test_spec_typo_gets_a_suggestion(tmp_path: Path) -> None:
    p = tmp_path / "typo.toml"
    p.write_text('title = "t"\ncenter = [44, 58]\nzoom = 4\nlayers = []\nshade = ["RUZ"]')
    with pytest.raises(SpecError, match=r"unknown country code 'RUZ'; did you mean .*RUS"):
        load_spec(p)


@pytest.mark.parametrize("target", ["folder", "proc", "long"])
def test_save_html_refuses_unwritable_targets(tmp_path: Path, target: str) -> None:
    m = build_map(fx.SPEC, countries=None, segments=None, nodes=None, deposits=None, routes=None)
    path = {"folder": tmp_path, "proc": Path("/proc/corridor.html"),
            "long": tmp_path / ("x" * 300 + ".html")}[target]  # fmt: skip
    with pytest.raises(GeoError, match="cannot write the map") as e:
        save_html(m, path)
    assert "\n" not in str(e.value)
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left behind


# --- user layers: colour-by, --layer, the network they join -----------------------------------

USER_DEPOSITS = DATA / "map_user_deposits.geojson"
# Values of "grade" in map_user_deposits.geojson, sorted as the map sorts them, with their colours.
GRADES = (("<b>unrated</b>", "#1f77b4"), ("high", "#ff7f0e"), ("low", "#2ca02c"),
          ("medium", "#d62728"))  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CORRIDOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _user_deposits(color_by: str | None = "grade") -> gpd.GeoDataFrame:
    gdf = load_layer(USER_DEPOSITS)
    gdf.attrs.update(name="prospects", color_by=color_by)
    return gdf


def _only_user(*layers: tuple[str, gpd.GeoDataFrame]) -> str:
    m = build_map(fx.SPEC, countries=None, segments=None, nodes=None, deposits=None, routes=None,
                  user_layers=list(layers))  # fmt: skip
    return render_html(m)


def _legend(page: str) -> str:
    return page.split('id="cm-legend"', 1)[1].split("</div></div>", 1)[0]


def test_color_by_deposits_get_a_legend_entry() -> None:
    page = _only_user(("prospects", _user_deposits()))
    legend = _legend(page)
    assert 'data-cm-layer="prospects"' in legend and "prospects, by grade" in legend
    for value, color in GRADES:
        row = f'<span class="cm-dot" style="background:{color}"></span><span>{html.escape(value)}'
        assert row in legend, value
    assert "<b>unrated</b>" not in page  # the value is escaped, in the legend and the payload
    payload = json.loads(re.findall(r"CorridorMap\.add\(map_\w+, (.*)\);\n", page)[-1])
    assert payload["cls"] == "cm-k" and payload["group"] == "Your layers"
    # Each deposit's colour class is the palette index of its grade.
    grade_of = {v: i for i, (v, _) in enumerate(GRADES)}
    grades = load_layer(USER_DEPOSITS)["grade"].tolist()
    assert [p[2] for p in payload["p"]] == [grade_of[g] for g in grades]
    assert ".cm-k1{background:#ff7f0e}" in page


@pytest.mark.parametrize("kind", ["node", "segment", "area"])
def test_color_by_works_for_every_kind(kind: str) -> None:
    gdf = {"node": fx.nodes, "segment": fx.segments, "area": fx.countries}[kind]()
    if kind == "area":
        gdf = gdf[gdf["id"].isin(["KAZ", "UZB", "TUR", "CHN"])].reset_index(drop=True)
        gdf.attrs["kind"] = "area"
    prop = {"node": "country", "segment": "corridor", "area": "continent"}[kind]
    gdf.attrs["color_by"] = prop
    page = _only_user(("mine", gdf))
    _, entries = value_colors(gdf, prop)
    legend = _legend(page)
    assert f"mine, by {prop}" in legend
    for value, color in entries:
        assert color in legend and f"<span>{html.escape(value)}</span>" in legend
    payload = json.loads(re.findall(r"CorridorMap\.add\(map_\w+, (.*)\);\n", page)[-1])
    used = json.dumps(payload)
    assert all(color in used for _, color in entries)  # every value's colour is drawn


def test_values_beyond_the_palette_share_other() -> None:
    gdf = gpd.GeoDataFrame({"v": [f"v{i:02d}" for i in range(13)] + [None]},
                           geometry=[shapely.Point(60, 45)] * 14, crs=4326)  # fmt: skip
    codes, entries = value_colors(gdf, "v")
    assert codes == [*range(10), 10, 10, 10, 10]
    assert len(entries) == 11 and entries[-1] == ("3 other values and no value", "#9e9e9e")
    with pytest.raises(GeoError, match="color_by: no property 'w'"):
        value_colors(gdf, "w")


def test_user_layer_without_color_by_is_listed() -> None:
    legend = _legend(_only_user(("prospects", _user_deposits(color_by=None))))
    assert "<span>prospects</span>" in legend and "cm-colorby" not in legend
    assert "Deposits, main commodity" in legend and "Uranium" in legend


def test_builds_with_user_layers_are_byte_identical(home: Path, tmp_path: Path) -> None:
    from geo.data.store import add_layer

    spec = bundled_dir("maps") / "corridor.toml"
    plain = build_from_spec(spec, out=tmp_path / "plain.html").read_text(encoding="utf-8")
    add_layer(USER_DEPOSITS, name="prospects", color_by="grade")
    a = build_from_spec(spec, out=tmp_path / "a.html", extra_layers=[USER_DEPOSITS])
    b = build_from_spec(spec, out=tmp_path / "b.html", extra_layers=[USER_DEPOSITS])
    assert a.read_bytes() == b.read_bytes()
    page = a.read_text(encoding="utf-8")
    assert 'data-cm-layer="prospects"' in _legend(page)  # the stored layer, coloured by grade
    assert "map_user_deposits (5)" in page  # the --layer file, named after it
    # The user's deposits joined the network: routes past them count more deposits nearby.
    assert _deposit_counts(page) != _deposit_counts(plain)
    assert sum(_deposit_counts(page)) > sum(_deposit_counts(plain))


def _deposit_counts(page: str) -> list[int]:
    """The 'deposits' column of the reference route comparison table."""
    table = page.split('id="cm-stats"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr data-cm-route=.*?</tr>", table)
    return [int(re.findall(r"<td[^>]*>([^<]*)</td>", r)[-1]) for r in rows]


# --- route maps ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def route_legs() -> gpd.GeoDataFrame:
    """Three hand-made legs with every statistic (made up) and a hostile place name."""
    a, b, c, d = (76.95, 43.24), (51.17, 43.60), (49.42, 39.95), (44.80, 41.72)
    legs = gpd.GeoDataFrame(
        {
            "segment_id": ["almaty-aktau", "aktau-alat", "alat-tbilisi"],
            "from": ["Almaty", "Aktau", "<script>alert(1)</script>"],
            "to": ["Aktau", "<script>alert(1)</script>", "Tbilisi"],
            "mode": ["rail", "ferry", "rail"],
            "status": ["operational", "operational", "under_construction"],
            "corridor": ["TITR"] * 3,
            "gauge_mm": [1520, None, 1520],
            "precision": ["schematic"] * 3,
            "length_km": [2400.5, 480.0, 550.2],
            "countries": [["KAZ"], ["KAZ", "AZE"], ["AZE", "GEO"]],
        },
        geometry=[shapely.LineString([a, b]), shapely.LineString([b, c]),
                  shapely.LineString([c, d])],
        crs=4326,
    )  # fmt: skip
    legs.attrs["stats"] = {
        "length_km": 3430.7, "length_km_by_mode": {"rail": 2950.7, "ferry": 480.0},
        "length_km_by_country": {"KAZ": 2640.5, "AZE": 520.2, "GEO": 270.0},
        "countries": ["KAZ", "AZE", "GEO"], "transits_russia": False, "russia_km": 0.0,
        "border_crossings": {"count": 2, "list": [
            {"from": "KAZ", "to": "AZE", "at": "between Aktau and <b>Alat</b>"},
            {"from": "AZE", "to": "GEO", "at": "Böyük Kəsik"}]},
        "gauge_breaks": {"count": 0, "at": []},
        "transshipments": {"count": 2, "at": ["Aktau", "<script>alert(1)</script>"]},
        "sea_km": 470.0, "chokepoints": [], "transit_days": {"low": 6.5, "high": 14.0},
        "deposits_nearby": {"count": 3, "by_commodity": {"copper": 1, "uranium": 2},
                            "ids": ["a", "b", "c"]},
        "precision_share": {"traced": 0.1, "schematic": 0.9, "straight": 0.0},
        "access": {"km": 63.0, "straight_km": 50.0, "detour_factor": 1.26,
                   "to": "<i>Shetpe</i>", "far": False},
        "cost_usd_per_teu": {"low": 2500.0, "typical": 4100.0, "high": 6900.0},
        "co2e_kg_per_teu": None,
        "lines": [{"name": "<b>BTC</b>", "mode": "pipeline", "fuel": "oil", "km": 1768.0,
                   "countries": ["AZE"], "status": "operational", "capacity": 1200.0,
                   "unit": "thousand barrels/day", "owner": None, "source": None}],
    }  # fmt: skip
    legs.attrs["path"] = ["Almaty", "Aktau", "<script>alert(1)</script>", "Tbilisi"]
    legs.attrs["query"] = {"from": "Almaty", "to": "Tbilisi", "via": [],
                           "constraints": "avoiding RUS"}  # fmt: skip
    return legs


@pytest.fixture(scope="module")
def route_page(route_legs: gpd.GeoDataFrame) -> str:
    return render_html(route_map(route_legs))


def test_every_statistic_has_a_label() -> None:
    assert [k for k, _ in STAT_LABELS] == [k for k, _ in ROUTE_FIELDS if k != "path"]
    assert {k for k, _ in STAT_LABELS} == set(STAT_KEYS)


def test_route_map_has_stats_box_and_legend(route_page: str) -> None:
    body = route_page.split("<body>", 1)[1]
    box = body.split('id="cm-stats"', 1)[1].split("</table>", 1)[0]
    assert 'class="cm-panel cm-stats cm-route-stats"' in body
    for key, label in STAT_LABELS:
        assert f'<tr data-cm-stat="{key}"><th>{html.escape(label)}</th>' in box, key
    for text in ("3,431", "rail 2,951; ferry 480", "KAZ 2,640; AZE 520; GEO 270", "KAZ AZE GEO",
                 "6.5–14", "KAZ→AZE between Aktau and &lt;b&gt;Alat&lt;/b&gt;",
                 "AZE→GEO at Böyük Kəsik", "3 (copper 1; uranium 2)", "traced 10%, schematic 90%",
                 ">470<", ">no<",
                 "63 km by road to &lt;i&gt;Shetpe&lt;/i&gt; (straight 50 km × 1.26)",
                 "&lt;b&gt;BTC&lt;/b&gt;: 1,768 km, 1,200 thousand barrels/day, operational"):  # fmt: skip
        assert text in box, text
    legend = body.split('id="cm-legend"', 1)[1]
    assert 'class="cm-panel cm-legend"' in body
    assert "<span>rail</span>" in legend and "<span>ferry</span>" in legend
    assert "<span>under construction</span>" in legend  # the dashed leg
    assert "Route avoiding RUS." in body
    assert "<title>Route: Almaty → Tbilisi</title>" in route_page
    assert "CorridorMap.fit(" in route_page


def test_route_map_loads_nothing_and_escapes(route_page: str) -> None:
    assert not LOADS.findall(route_page)
    for url in re.findall(r"https?://[^\s\"'<>\\)]+", route_page):
        assert re.match(r"https://(\{s\}\.basemaps\.cartocdn\.com|tile\.openstreetmap\.org"
                        r"|www\.openstreetmap\.org|carto\.com|leafletjs\.com)"
                        r"|http://www\.w3\.org/2000/svg", url), url  # fmt: skip
    for raw in HOSTILE_RAW:
        assert raw not in route_page, raw
    assert "<b>Alat</b>" not in route_page
    assert set(re.findall(r"<script\b[^>]*>", route_page, re.IGNORECASE)) == {"<script>"}
    assert not re.search(r"_[0-9a-f]{32}\b", route_page)  # stable ids


def test_route_map_is_reproducible(route_legs: gpd.GeoDataFrame, tmp_path: Path) -> None:
    before = route_legs.copy()
    a = save_html(route_map(route_legs), tmp_path / "a.html")
    b = save_html(route_map(route_legs.copy()), tmp_path / "b.html")
    assert a.read_bytes() == b.read_bytes()
    assert route_legs.equals(before)


def test_route_map_needs_statistics(route_legs: gpd.GeoDataFrame) -> None:
    with pytest.raises(GeoError, match="attrs\\['stats'\\]"):
        route_map(route_legs.iloc[0:0])
    bare = gpd.GeoDataFrame(route_legs.copy())
    bare.attrs = {}
    with pytest.raises(GeoError, match="'legs'"):
        route_map(bare)


def test_route_command_writes_a_map(home: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from geo.cli import app

    out = tmp_path / "route.html"
    r = CliRunner().invoke(app, ["route", "Xi'an", "Duisburg", "--avoid", "RUS", "--map", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert 'id="cm-stats"' in page and 'id="cm-legend"' in page and not LOADS.findall(page)
    assert "Transit time (days)" in page and "Russia (km)" in page
