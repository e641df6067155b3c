"""Map rendering without a browser: the HTML page, its safety, its reproducibility, the spec."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import folium
import folium.plugins
import pytest

from geo.assets import asset_text, strip_cdn_links, use_offline_assets
from geo.errors import GeoError, SpecError
from geo.layers import bundled_dir
from geo.maps import build_map, fmt, load_spec, render_html, save_html

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
    assert "#7a1212" in page  # the Russia/Belarus colour, used by petropavl_moscow
    assert "Through Russia / Belarus" in page
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


def test_missing_spec() -> None:
    with pytest.raises(SpecError, match="not found"):
        load_spec(DATA / "map_does_not_exist.toml")
