"""Map styles and display text: colour tables, symbols, swatches, and values as text.

Everything here is a constant or a pure function. Colours and SVG symbols are constants: no
data is ever formatted into them. Values become text with :func:`fmt` and are escaped with
:func:`esc` (HTML) or :func:`script_json` (JSON inside ``<script>``).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd

from ..data.values import is_missing as is_missing  # the one test, shared with the panels
from ..errors import GeoError

CORRIDORS: dict[str, tuple[str, str]] = {
    # corridor -> (label, colour of its Russia-avoiding segments)
    "TITR": ("TITR / Middle Corridor", "#d81b60"),
    "CKU": ("China–Kyrgyzstan–Uzbekistan", "#1e73be"),
    "INSTC": ("INSTC (North–South)", "#2e9d4a"),
    "Southern": ("Southern Corridor (Iran–Türkiye)", "#e08214"),
    "Maritime": ("Sea route (Suez / Cape)", "#3f51b5"),
    "Northern": ("Northern Corridor", "#8d6e63"),
    "TransSiberian": ("Trans-Siberian", "#7e57c2"),
    "Regional": ("Regional feeder line", "#00838f"),
    # TITR track used without crossing the Caspian (layers/corridors.toml, [[name_rule]])
    "LandBridge": ("New Eurasian Land Bridge (via China)", "#0055ff"),
}
# Unnamed corridors: apart from the named corridors, the Russia colour and the commodities.
OTHER_COLORS = ("#f9a825", "#9e9d24", "#6d4c41", "#00b8d4", "#455a64", "#b39ddb")
RUSSIA_COLOR = "#7a1212"  # every segment with russia_km > 0, whatever its corridor
SHADE_COLOR = "#e9b8b0"
ROUTE_COLORS = ("#d81b60", "#1e73be", "#2e9d4a", "#e08214", "#7e57c2", "#00838f", "#8d6e63")
USER_COLORS = ("#6a1b9a", "#00695c", "#bf360c", "#283593", "#4e342e")

STATUS_DASH: dict[str, str | None] = {
    "operational": None,
    "under_construction": "9 7",
    "planned": "1 7",
    "proposed": "1 7",
    "suspended": "3 9",
}
# How each mode is drawn, whatever its colour: (legend text, width as a share of a rail line's,
# dash). A mode without a dash of its own shows its status by the status dash; one with its own
# dash is drawn faint when not operational (tests/test_palette.py: every mode apart).
MODE_LINES: dict[str, tuple[str, float, str | None]] = {
    "rail": ("rail", 1.0, None),
    "ferry": ("ferry (train or truck ferry)", 0.75, "14 4 3 4"),
    "sea": ("sea route", 0.5, None),
    "road": ("road (access)", 0.6, "2 4"),
    "pipeline": ("pipeline", 0.69, None),
}
NOT_OPERATING_OPACITY = 0.5


def mode_style(color: str, weight: float, mode: str, status: str) -> dict[str, Any]:
    """The Leaflet style of a line of ``mode`` and ``status``; ``weight``: a rail line's width.

    >>> mode_style("#c00", 4, "ferry", "operational")["dashArray"]
    '14 4 3 4'
    >>> mode_style("#c00", 4, "rail", "planned")["dashArray"], mode_style("#c00", 4, "sea", "")
    ('1 7', {'color': '#c00', 'weight': 2.0, 'opacity': 0.95})
    """
    _, share, dash = MODE_LINES.get(mode, MODE_LINES["rail"])
    opacity = NOT_OPERATING_OPACITY if status == "suspended" else 0.95
    if dash is None:
        dash = STATUS_DASH.get(status)
    elif status not in ("operational", ""):
        opacity = NOT_OPERATING_OPACITY
    return line_style(color, round(weight * share, 1), dash, opacity)


def status_group(status: Any) -> str:
    """The filter group of a line's status: operational, under_construction, planned, suspended.

    Proposed lines count as planned; a missing status as operational (the schema's default).

    >>> status_group("proposed"), status_group(None), status_group("under_construction")
    ('planned', 'operational', 'under_construction')
    """
    text = fmt(status) or "operational"
    return "planned" if text == "proposed" else text


def status_groups(values: Any) -> list[str]:
    """:func:`status_group` of every value of a column, each distinct value looked up once.

    >>> status_groups(["proposed", "operational", None, "proposed"])
    ['planned', 'operational', 'operational', 'planned']
    """
    codes, uniques = pd.factorize(pd.Series(_object_array(values)), use_na_sentinel=False)
    groups = np.array([status_group(u) for u in uniques], dtype=object)
    out: list[str] = groups[codes].tolist() if len(codes) else []
    return out


STATUS_LABEL = {
    "operational": "operational",
    "under_construction": "under construction",
    "planned": "planned / proposed",
    "suspended": "suspended",
}

# Node symbols (16 px SVG, constants only: no data ever goes into them).
_S = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{w}" viewBox="{v}">{b}</svg>'
NODE_SHAPES: dict[str, tuple[str, str]] = {
    "port": ('<rect x="2.5" y="2.5" width="11" height="11" rx="2" fill="#0b4f8a"/>', "port"),
    "dry_port": ('<path d="M8 1.5 14.5 8 8 14.5 1.5 8Z" fill="#00897b"/>', "dry port"),
    "border_crossing": ('<path d="M8 1.8 14.6 14H1.4Z" fill="#37474f"/>', "border crossing"),
    "hub": ('<circle cx="8" cy="8" r="5" fill="#263238"/>', "hub (station, junction)"),
    "terminal": ('<rect x="4" y="4" width="8" height="8" fill="#5d4037"/>', "terminal"),
    "city": (
        '<circle cx="8" cy="8" r="4.3" fill="#fff" stroke="#222" stroke-width="2"/>',
        "city",
    ),
}
_NODE_OUTLINE = ' stroke="#fff" stroke-width="1.4"'
GAUGE_RING = '<circle cx="8" cy="8" r="7.2" fill="none" stroke="#ff8f00" stroke-width="2.2"/>'

# Deposits: coloured by the family of their first (main) commodity, in colours apart from every
# line colour (corridors, Russia, pipelines: CIE76 distance 20 or more, tests/test_palette.py).
COMMODITY_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Uranium", "#8bc34a", ("uranium",)),
    ("Rare earths, rare metals", "#8e24aa", ("rare_earths", "rare_metals")),
    ("Battery metals (Li, Ni, Co)", "#f48fb1", ("lithium", "nickel", "cobalt")),
    ("Copper", "#e65100", ("copper",)),
    ("Gold & silver", "#ffeb3b", ("gold", "silver")),
    (
        "Base & minor metals",
        "#b0bec5",
        ("zinc", "lead", "tin", "antimony", "aluminium"),
    ),
    (
        "Iron & ferro-alloys",
        "#8d5524",
        ("iron", "chromium", "manganese", "tungsten", "molybdenum", "vanadium", "titanium"),
    ),
    ("Industrial minerals", "#80cbc4", ("fluorspar", "phosphate", "potash")),
    ("Coal", "#3e2723", ("coal",)),
    ("Oil", "#111111", ("oil",)),
    ("Gas & condensate", "#29b6f6", ("gas", "gas_condensate")),
)
OTHER_COMMODITY = ("Other", "#eeeeee")
GROUP_OF = {c: i for i, (_, _, cs) in enumerate(COMMODITY_GROUPS) for c in cs}


def lab(color: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a ``#rrggbb`` colour.

    >>> [round(v) for v in lab("#ffffff")]
    [100, 0, 0]
    """
    rgb = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return float(t ** (1 / 3)) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def color_distance(a: str, b: str) -> float:
    """CIE76 distance of two ``#rrggbb`` colours: about 2.3 is just noticeable, 20 is plain.

    >>> round(color_distance("#d81b60", "#ec407a"))  # the TITR and the old lithium pink
    9
    """
    return float(sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5)


def node_symbol(kind: str, *, gauge_change: bool = False, size: int = 16) -> str:
    """SVG markup of a node symbol; a gauge change adds an orange ring."""
    shape = NODE_SHAPES.get(kind, NODE_SHAPES["terminal"])[0]
    shape = shape.replace("/>", _NODE_OUTLINE + "/>", 1) if kind != "city" else shape
    body = shape + (GAUGE_RING if gauge_change else "")
    w = size + 6 if gauge_change else size
    view = "-3 -3 22 22" if gauge_change else "0 0 16 16"
    return _S.format(w=w, v=view, b=body)


# Colour-by (`corridor layers add --color-by PROPERTY`): one colour per distinct value, in sorted
# order; values beyond the palette, and missing values, share the neutral OTHER_VALUE_COLOR.
VALUE_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#17becf", "#bcbd22", "#393b79")  # fmt: skip
OTHER_VALUE_COLOR = "#9e9e9e"

# The supply map's three routes of a clicked deposit, one per column of its comparison table
# (avoiding Russia, avoiding Russia and China, unconstrained): solid in the colour of the
# route's corridor, black dots, grey dashes; drawn in that order, so each stays visible where
# they share track.
SUPPLY_LINES: dict[str, dict[str, Any]] = {
    "one": {"weight": 5, "opacity": 0.95},  # colour: the route's corridor's
    "both": {"color": "#1b1b1b", "weight": 6, "opacity": 0.9, "dashArray": "0.1 10",
             "lineCap": "round"},
    "shortest": {"color": "#37474f", "weight": 3, "opacity": 0.9, "dashArray": "8 6"},
}  # fmt: skip

# Route maps (`corridor route --map FILE`): legs coloured by mode.
MODE_COLORS = {"rail": "#d81b60", "road": "#e08214", "ferry": "#1e73be", "sea": "#3f51b5"}


# Pipelines (layers/pipelines.geojson): one colour per fuel, chosen apart from every corridor,
# route, mode and commodity colour above (CIE76 distance 20 or more; tests/test_pipelines_map.py),
# drawn thinner than the rail corridors and beneath them.
PIPELINE_FUELS: dict[str, tuple[str, str]] = {
    # fuel -> (legend label, colour)
    "oil": ("Oil pipeline", "#556b2f"),
    "gas": ("Gas pipeline", "#6200ea"),
    "ngl": ("Natural gas liquids pipeline", "#b8860b"),
}
PIPELINE_OTHER_COLOR = "#555"  # a fuel the palette does not know (a user's layer)
PIPELINE_WEIGHT = 2.2  # px; rail corridors are 3.2, the highlighted one 5.5
PIPELINE_STATUS: dict[str, tuple[str, str | None, float]] = {
    # status -> (text, dash, opacity): operating solid, under construction dashed, proposed
    # dotted (round caps make the 1 px dashes dots), suspended faint
    "operational": ("operating", None, 0.75),
    "under_construction": ("under construction", "7 5", 0.85),
    "proposed": ("proposed", "1 6", 0.9),
    "planned": ("proposed", "1 6", 0.9),
    "suspended": ("suspended", None, 0.35),  # GEM: shelved, idle or mothballed
}
PIPELINE_ATTRIBUTION = (
    "Global Energy Monitor, Global Oil Infrastructure Tracker and Global Gas Infrastructure "
    "Tracker, CC BY 4.0."
)


def pipeline_style(fuel: str, status: str) -> dict[str, Any]:
    """The Leaflet style of a pipeline of ``fuel`` and ``status``.

    >>> pipeline_style("oil", "proposed")["dashArray"]
    '1 6'
    >>> pipeline_style("gas", "suspended")["opacity"]
    0.35
    """
    color = PIPELINE_FUELS.get(fuel, ("", PIPELINE_OTHER_COLOR))[1]
    _, dash, opacity = PIPELINE_STATUS.get(status, PIPELINE_STATUS["operational"])
    return line_style(color, PIPELINE_WEIGHT, dash, opacity)


CAPACITY_UNITS = {
    # GEM's units as a reader says them
    "bpd": "barrels/day",
    "mtpa": "million tonnes/year",
    "bcm/y": "bcm/year",
    "mill.Sm3/day": "million m³/day",
    "MMcf/d": "million cubic feet/day",
}


def _number(v: float) -> str:
    """A capacity figure: thousands separated, at most two decimals, no trailing zeros."""
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def capacity_text(kbd: Any, bcm_y: Any, capacity: Any = None, units: Any = None) -> str:
    """A pipeline's capacity with its units, as GEM gives it; "" when GEM gives none.

    Oil in thousand barrels a day, gas in billion cubic metres a year; GEM's own figure follows
    in brackets when it was in other units.

    >>> capacity_text(1340.0, None, 1340000.0, "bpd")
    '1,340 thousand barrels/day'
    >>> capacity_text(None, 40.0, 40.0, "bcm/y")
    '40 bcm/year'
    >>> capacity_text(602.7, None, 30.0, "mtpa")
    '602.7 thousand barrels/day (GEM: 30 million tonnes/year)'
    >>> capacity_text(None, None)
    ''
    """
    unit = str(units) if not is_missing(units) else ""
    if not is_missing(kbd):
        text, own = f"{_number(float(kbd))} thousand barrels/day", "bpd"
    elif not is_missing(bcm_y):
        text, own = f"{_number(float(bcm_y))} bcm/year", "bcm/y"
    elif not is_missing(capacity) and unit:
        return f"{_number(float(capacity))} {CAPACITY_UNITS.get(unit, unit)}"
    else:
        return ""
    if unit and unit != own and not is_missing(capacity):
        text += f" (GEM: {_number(float(capacity))} {CAPACITY_UNITS.get(unit, unit)})"
    return text


PUBLISHERS: tuple[tuple[str, str, str], ...] = (
    # (host, path prefix, name): a source link is named by its publisher, never shown as a URL
    ("gem.wiki", "", "Global Energy Monitor (GEM wiki)"),
    ("github.com", "/GlobalEnergyMonitor", "Global Energy Monitor (GitHub)"),
    ("wikipedia.org", "", "Wikipedia"),
    ("newscentralasia.net", "", "News Central Asia"),
    ("bp.com", "", "bp"),
    ("openstreetmap.org", "", "OpenStreetMap"),
    ("geonames.org", "", "GeoNames"),
    ("railwaygazette.com", "", "Railway Gazette"),
    ("railwaymagazine.co.uk", "", "The Railway Magazine"),
    ("tass.com", "", "TASS"),
    ("trend.az", "", "Trend"),
    ("inform.kz", "", "Kazinform"),
    ("qazinform.com", "", "Kazinform"),
    ("uic.org", "", "UIC"),
    ("report.az", "", "Report.az"),
    ("menafn.com", "", "MENAFN"),
    ("portergeo.com.au", "", "PorterGeo"),
    ("egtre.info", "", "EGTRE"),
    ("interfax.com", "", "Interfax"),
    ("usgs.gov", "", "USGS"),
    ("world-nuclear.org", "", "World Nuclear Association"),
)
SOURCES_SHOWN = 5  # links in a popup; the rest are counted under its "data notes"
# Copies of encyclopaedia articles on other sites: cited in the data, but not what a reader can
# cite. Kept under a popup's "data notes", never among its sources.
_MIRROR_HOSTS = ("osmarks.net", "piglix.com", "memim.com", "eudic.net", "nina.az", "mdict.net",
                 "clateway.com", "blip.land", "zproxy.org", "classicistranieri.com")  # fmt: skip
_REAL_WIKIS = ("wikipedia.org", "gem.wiki", "wikimedia.org", "wikidata.org")


def is_mirror(host: str) -> bool:
    """Whether a host serves copies of encyclopaedia articles (not a source a reader can cite).

    >>> is_mirror("de.zxc.wiki"), is_mirror("perceptiode.com"), is_mirror("en.wikipedia.org")
    (True, True, False)
    >>> is_mirror("ru.wikipedia-on-ipfs.org"), is_mirror("www.gem.wiki")
    (True, False)
    """
    host = host.lower().removeprefix("www.")
    if any(host == h or host.endswith("." + h) for h in _REAL_WIKIS):
        return False
    return "wiki" in host or host.startswith("perceptio") or host.endswith(_MIRROR_HOSTS)


def _host_text(host: str) -> str:
    """A host as a reader reads it: no "www.", internationalised names decoded."""
    host = host.lower().removeprefix("www.").rstrip(".")
    try:
        return host.encode("ascii").decode("idna") if "xn--" in host else host
    except UnicodeError:
        return host


def _publisher(host: str, path: str) -> str:
    named = (n for h, pre, n in PUBLISHERS
             if (host == h or host.endswith("." + h)) and path.startswith(pre))  # fmt: skip
    name = next(named, _host_text(host))
    lang = host.split(".")[0]
    if name == "Wikipedia" and lang not in ("en", "wikipedia", "m") and len(lang) <= 3:
        name = f"Wikipedia ({lang})"
    return name


def source_links(text: Any) -> list[list[str]]:
    """The http(s) URLs of a ``source`` value as ``[name, url]`` links, in order, once each.

    A link is named by its publisher (:data:`PUBLISHERS`), else by its host; the text around
    the URLs (e.g. "Global Energy Monitor, project P6119:") is left out.

    >>> source_links("https://www.gem.wiki/Caspian_Pipeline")
    [['Global Energy Monitor (GEM wiki)', 'https://www.gem.wiki/Caspian_Pipeline']]
    >>> source_links("see https://en.wikipedia.org/wiki/Supsa ; https://www.example.org/x.")
    [['Wikipedia', 'https://en.wikipedia.org/wiki/Supsa'], ['example.org', 'https://www.example.org/x']]
    """
    out: list[list[str]] = []
    for part in re.split(r"[\s;]+", fmt(text)):
        url = part.rstrip(".,)]")
        m = re.fullmatch(r"https?://([^/\s?#:@]+)(/[^\s<>\"']*)?", url, re.IGNORECASE)
        if not m:
            continue
        host = m.group(1).lower().removeprefix("www.").rstrip(".")
        name = _publisher(host, m.group(2) or "")
        if not any(u == url for _, u in out):
            out.append([name, url])
    return out


CITATION_CHARS = 150  # a source cited without a URL, as shown; the whole text is in the notes


def reader_sources(text: Any) -> tuple[list[list[str]], str]:
    """A ``source`` value for readers: what to show, and a note on what is left out.

    The value's parts (separated by ``;``) become links ``[name, url]`` named by their
    publisher, or, cited without a URL, ``[text]`` (a URL that cannot be a link shows as its
    host). Links to copies of encyclopaedia articles (:func:`is_mirror`) and links beyond
    :data:`SOURCES_SHOWN` are left out and named in the note; two links of one publisher are
    told apart by a number.

    >>> links, note = reader_sources(
    ...     "https://en.wikipedia.org/wiki/A ; https://de.zxc.wiki/wiki/A ; "
    ...     "https://en.wikipedia.org/wiki/B ; Railway atlas (2023)")
    >>> links  # doctest: +NORMALIZE_WHITESPACE
    [['Wikipedia', 'https://en.wikipedia.org/wiki/A'],
     ['Wikipedia (2)', 'https://en.wikipedia.org/wiki/B'], ['Railway atlas (2023)']]
    >>> note
    'Also cited (copies of encyclopaedia articles): de.zxc.wiki'
    >>> reader_sources("see http://x.org/<b> ; javascript:alert(1)")[0]
    [['see x.org'], ['javascript:alert(1)']]
    """
    shown: list[list[str]] = []
    cited: list[list[str]] = []
    mirrors: list[str] = []
    first_mirror: list[str] = []
    rest: list[str] = []
    notes = []
    for part in fmt(text).split(";"):
        links = source_links(part)
        if not links:
            words = " ".join(part.split())
            words = re.sub(r"https?://([^/\s?#:@<>]+)\S*", r"\1", words, flags=re.IGNORECASE)
            if len(words) > CITATION_CHARS:
                notes.append(f"Source: {words}")
                words = words[: CITATION_CHARS - 1].rstrip() + "…"
            if words and [words] not in cited:
                cited.append([words])
            continue
        for name, url in links:
            host = _host_text(re.sub(r"^https?://([^/?#:@]+).*$", r"\1", url, flags=re.I))
            if is_mirror(host):
                mirrors.append(host)
                first_mirror = first_mirror or [host, url]
            elif any(u == url for _, u in shown):
                continue
            elif len(shown) < SOURCES_SHOWN:
                same = sum(1 for n, _ in shown if n == name or n.startswith(name + " ("))
                shown.append([f"{name} ({same + 1})" if same else name, url])
            else:
                rest.append(name)
    if rest:
        notes.append(f"{len(rest)} more source{'s' if len(rest) > 1 else ''}: "
                     + ", ".join(dict.fromkeys(rest)))  # fmt: skip
    if mirrors:
        notes.append("Also cited (copies of encyclopaedia articles): "
                     + ", ".join(dict.fromkeys(mirrors)))  # fmt: skip
    if not shown and not cited and first_mirror:  # only copies: the first, not nothing
        shown = [first_mirror]
    return shown + cited, "; ".join(notes)


def user_symbol(kind: str, color: str, size: int = 16) -> str:
    """A node of the user's own layer: the kind's shape hollow, outlined in ``color``.

    ``color`` must be a constant of this module (:data:`USER_COLORS`), never data.

    >>> 'fill="#fff" stroke="#6a1b9a"' in user_symbol("port", USER_COLORS[0])
    True
    """
    shape = NODE_SHAPES.get(kind, NODE_SHAPES["terminal"])[0]
    shape = re.sub(r' stroke(-width)?="[^"]*"', "", shape)
    shape = re.sub(r'fill="[^"]*"', f'fill="#fff" stroke="{color}" stroke-width="2.6"', shape)
    return _S.format(w=size, v="0 0 16 16", b=shape)


def value_symbol(color: str, size: int = 16) -> str:
    """A node of a colour-by layer: a filled circle of a palette colour."""
    dot = f'<circle cx="8" cy="8" r="5.2" fill="{color}"{_NODE_OUTLINE}/>'
    return _S.format(w=size, v="0 0 16 16", b=dot)


def palette_css() -> str:
    """Marker classes: ``cm-c{i}`` per commodity group, ``cm-k{i}`` per colour-by value."""
    groups = [*((n, c) for n, c, _ in COMMODITY_GROUPS), OTHER_COMMODITY]
    values = [*VALUE_PALETTE, OTHER_VALUE_COLOR]
    return "".join(f".cm-c{i}{{background:{c}}}" for i, (_, c) in enumerate(groups)) + "".join(
        f".cm-k{i}{{background:{c}}}" for i, c in enumerate(values)
    )


def _value_order(text: str) -> tuple[int, float, str]:
    """Numbers in numeric order first, then text in code-point order."""
    try:
        return (0, float(text.replace(",", "")), text)
    except ValueError:
        return (1, 0.0, text)


def value_colors(gdf: gpd.GeoDataFrame, prop: str) -> tuple[list[int], list[tuple[str, str]]]:
    """Colour codes of a colour-by layer and its legend entries.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer; ``gdf[prop]`` holds the values (compared as the text the map shows).
    prop : str
        The property to colour by.

    Returns
    -------
    codes : list of int
        Per feature, an index into ``VALUE_PALETTE``; ``len(VALUE_PALETTE)`` means "other".
    entries : list of (str, str)
        ``(value, colour)`` in legend order (raw text: escape it when writing HTML).

    Examples
    --------
    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"status": ["b", "a", "b", None]}, geometry=[None] * 4)
    >>> value_colors(g, "status")
    ([1, 0, 1, 10], [('a', '#1f77b4'), ('b', '#ff7f0e'), ('no value', '#9e9e9e')])
    """
    if prop not in gdf.columns:
        name = gdf.attrs.get("name", "layer")
        have = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
        msg = f"user layer '{name}': color_by: no property '{prop}'; use one of {have}"
        raise GeoError(msg)
    texts = fmt_column(gdf[prop]).tolist()
    values = sorted({t for t in texts if t}, key=_value_order)
    index = {v: i for i, v in enumerate(values[: len(VALUE_PALETTE)])}
    other = len(VALUE_PALETTE)
    codes = [index.get(t, other) for t in texts]
    entries = [(v, VALUE_PALETTE[i]) for v, i in index.items()]
    rest = len(values) - len(index)
    missing = "" in texts
    if rest or missing:
        label = f"{rest} other value{'s' if rest > 1 else ''}" if rest else ""
        label = " and ".join(x for x in (label, "no value" if missing else "") if x)
        entries.append((label, OTHER_VALUE_COLOR))
    return codes, entries


def line_style(
    color: str, weight: float, dash: str | None, opacity: float = 0.95
) -> dict[str, Any]:
    """A Leaflet path style: ``weight`` in pixels, ``dash`` an SVG dash array or None (solid).

    >>> line_style("#c00", 3, "6 4")
    {'color': '#c00', 'weight': 3, 'opacity': 0.95, 'dashArray': '6 4', 'lineCap': 'round'}
    """
    s: dict[str, Any] = {"color": color, "weight": weight, "opacity": opacity}
    if dash:
        s["dashArray"] = dash
        s["lineCap"] = "round"
    return s


def corridor_color(corridor: str, others: list[str]) -> str:
    """The line colour of a corridor: its own for a named corridor (:data:`CORRIDORS`).

    Any other corridor takes a colour by its place in ``others`` (the unnamed corridors of the
    map, sorted), so the same map always gives it the same colour; grey if it is not listed.
    """
    if corridor in CORRIDORS:
        return CORRIDORS[corridor][1]
    if corridor in others:
        return OTHER_COLORS[others.index(corridor) % len(OTHER_COLORS)]
    return "#555"


def through_russia(v: Any) -> bool:
    """Whether a km value through Russia (``russia_km``, or with Belarus) is above zero.

    >>> through_russia(12.5), through_russia(0.0), through_russia(None)
    (True, False, False)
    """
    return not is_missing(v) and float(v) > 0


def main_group(commodities: Any) -> int:
    """The index in :data:`COMMODITY_GROUPS` of a deposit's first commodity.

    ``commodities`` is a list, array or single string; a missing or unknown commodity gives
    ``len(COMMODITY_GROUPS)``, the "other" group.

    >>> main_group(["copper", "gold"]) == GROUP_OF["copper"]
    True
    >>> main_group([]) == main_group(["unobtainium"]) == len(COMMODITY_GROUPS)
    True
    """
    if isinstance(commodities, np.ndarray):
        commodities = commodities.tolist()
    if isinstance(commodities, str):
        commodities = [commodities]
    if not isinstance(commodities, list | tuple) or not commodities:
        return len(COMMODITY_GROUPS)
    return GROUP_OF.get(str(commodities[0]), len(COMMODITY_GROUPS))


def main_groups(values: Any) -> np.ndarray:
    """:func:`main_group` of every deposit's ``commodities``, as an integer array.

    >>> main_groups([["copper", "gold"], "uranium", [], None]).tolist() == [
    ...     GROUP_OF["copper"], GROUP_OF["uranium"], len(COMMODITY_GROUPS), len(COMMODITY_GROUPS)]
    True
    """
    arr = _object_array(values) if not isinstance(values, pd.Series) else values.to_numpy(object)
    other = len(COMMODITY_GROUPS)
    items = arr.tolist()
    types = set(map(type, items))
    if types <= {list, tuple, str, float, *_NONE_TYPES}:  # a first item is one index away
        get = GROUP_OF.get

        def group(v: Any) -> int:
            t = type(v)
            if t is str:
                return get(v, other)
            if (t is list or t is tuple) and v:
                f = v[0]
                if type(f) is str:
                    return get(f, other)
                return other if f is None else get(str(f), other)
            return other

        # one pass, no list of first items (a million points: a third of the time)
        return np.fromiter(map(group, items), dtype=np.int64, count=len(items))
    if not types <= {list, tuple, np.ndarray, str, float, *_NONE_TYPES}:
        return np.array([main_group(v) for v in arr], dtype=np.int64)
    flat = pd.Series(arr).explode()  # a string stays whole: main_group reads it as one item
    first = flat[~flat.index.duplicated()].to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(first, use_na_sentinel=True)
    except TypeError:  # an unhashable first item (a nested list): never a commodity
        return np.array([main_group(v) for v in arr], dtype=np.int64)
    groups = [GROUP_OF.get(str(u), other) for u in uniques]
    out: np.ndarray = np.array([*groups, other], dtype=np.int64)[codes]
    return out


def swatch_line(color: str, weight: float, opacity: float = 1.0, dash: str | None = None) -> str:
    """An inline SVG line for a legend or layer-control label; ``weight`` in pixels.

    ``color`` and ``dash`` go into the markup as they are: pass the style's own values, never
    text from a layer or a spec.
    """
    d = f' stroke-dasharray="{dash}" stroke-linecap="round"' if dash else ""
    return (
        '<svg class="cm-sw" width="28" height="12" viewBox="0 0 28 12" aria-hidden="true">'
        f'<line x1="2" y1="6" x2="26" y2="6" stroke="{color}" stroke-width="{weight}"'
        f' stroke-opacity="{opacity}"{d}/></svg>'
    )


# ---------------------------------------------------------------------------------------------
# Values and statistics -> display text
# ---------------------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """A property value as the text the map shows ("" for missing).

    >>> fmt([1435, 1520]), fmt({"low": 12, "high": 18.5}), fmt(1234.5678), fmt(True)
    ('1435, 1520', 'low: 12; high: 18.5', '1,234.57', 'yes')
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    if is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}" if abs(v) >= 10000 else str(int(v))
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()[:10]
    return str(value)


# Types whose equal values always read the same: a column of one of them (besides text and
# missing values) can be formatted per distinct value. Mixed numbers cannot (1 == 1.0 == True,
# but 12345 reads "12345", 12345.0 "12,345" and True "yes"), nor dates (equal instants in two
# time zones read as two days) or Decimals (Decimal("1.0") == Decimal("1.00")).
_PLAIN = (str, int, float, bool, np.bool_, np.integer, np.floating)
_NONE_TYPES = (type(None), type(pd.NA))
_LISTS = (list, tuple, np.ndarray)


def fmt_column(values: Any) -> np.ndarray:
    """:func:`fmt` of every value of a column, each distinct value formatted once.

    Parameters
    ----------
    values : Series, array or sequence
        One column of a layer.

    Returns
    -------
    numpy.ndarray
        An object array of ``str``: exactly ``[fmt(v) for v in values]``.

    Examples
    --------
    >>> fmt_column([1234.5678, None, True, ["a", "b"], "x", 1234.5678]).tolist()
    ['1,234.57', '', 'yes', 'a, b', 'x', '1,234.57']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(_object_array(values))
    if len(s) == 0:
        return np.empty(0, dtype=object)
    if isinstance(s.dtype, pd.StringDtype):  # text is its own text: nothing to look up
        text: np.ndarray = s.to_numpy(dtype=object, na_value="")
        return text
    if s.dtype != object:
        return _by_distinct(s)
    arr = s.to_numpy(dtype=object)
    types = set(map(type, arr))
    others = {t for t in types if not issubclass(t, (str, *_NONE_TYPES))}
    exact = all(t is str or t in _NONE_TYPES for t in types - others)
    if exact and len(others) <= 1 and all(t in _PLAIN or issubclass(t, _PLAIN[4:]) for t in others):
        return _by_distinct(s)
    lists = {t for t in types if issubclass(t, _LISTS)}
    if lists == {list} and types <= {list, str, float, *_NONE_TYPES}:
        texts = _text_lists(arr.tolist())
        if texts is not None:
            return texts
    if lists and _explodable(arr, types):
        return _joined(s)
    return _memoised(arr)


def fmt_codes(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fmt_column` as codes into its distinct texts (each used, in order of appearance).

    Parameters
    ----------
    values : Series, array or sequence
        One column of a layer.

    Returns
    -------
    codes : numpy.ndarray
        Per value, the index of its text.
    texts : numpy.ndarray
        An object array of distinct ``str``: ``texts[codes]`` is ``fmt_column(values)``.

    Examples
    --------
    >>> codes, texts = fmt_codes([2.5, None, 2.5, "x"])
    >>> codes.tolist(), texts.tolist()
    ([0, 1, 0, 2], ['2.5', '', 'x'])
    """
    codes, texts = pd.factorize(fmt_column(values), use_na_sentinel=False)
    return codes, np.asarray(texts, dtype=object)


def _text_lists(values: list[Any]) -> np.ndarray | None:
    """Lists of texts joined by ", " (texts and missing values as they read), else None.

    A column of commodities or aliases: joined directly, faster than exploding and re-joining.
    ``str.join`` refuses any item that is not text, which hands the column back.
    """
    if any(type(v) is float and v == v for v in values):  # a number (not NaN): fmt's own text
        return None
    try:
        texts = [", ".join(v) if type(v) is list else v if type(v) is str else "" for v in values]
    except TypeError:
        return None
    out = np.empty(len(values), dtype=object)
    out[:] = texts
    return out


def _object_array(values: Any) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)  # element by element: a list of lists stays a column of lists
    return out


def _by_distinct(s: pd.Series) -> np.ndarray:
    """Factorize, format the distinct values, take the texts by code (missing: "")."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if pd.api.types.infer_dtype(uniques, skipna=False) == "string":
        texts = np.asarray(uniques, dtype=object)  # fmt(text) is the text itself
    else:
        texts = np.array([fmt(u) for u in uniques], dtype=object)
    out: np.ndarray = np.append(texts, "")[codes]
    return out


def _explodable(arr: np.ndarray, types: set[type]) -> bool:
    """Whether flattening the lists one level keeps fmt's text (no dicts, sets, odd arrays)."""
    if not types <= {list, tuple, np.ndarray, str, float, int, bool, *_NONE_TYPES}:
        return False
    if np.ndarray in types:
        return all(v.dtype.kind in "OUifb" and v.ndim == 1 for v in arr if type(v) is np.ndarray)
    return True


def _joined(s: pd.Series) -> np.ndarray:
    """Lists as their items' texts joined by ", ": one level flattened, formatted, re-joined."""
    flat = s.reset_index(drop=True).explode()  # an empty list gives one missing value: ""
    rows = flat.index.to_numpy()
    texts = fmt_column(pd.Series(flat.to_numpy(dtype=object)))
    pos = np.arange(len(rows))
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    pos -= np.maximum.accumulate(np.where(first, pos, 0))
    out = texts[first]
    for j in range(1, int(pos.max()) + 1):
        at = pos == j
        out[rows[at]] = out[rows[at]] + ", " + texts[at]
    return out


def _memoised(arr: np.ndarray) -> np.ndarray:
    """Format cell by cell, remembering the text of each plain value (keyed by type and value)."""
    memo: dict[tuple[type, Any], str] = {}
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        t = type(v)
        if t in _PLAIN:
            key = (t, v)
            text = memo.get(key)
            if text is None:
                text = memo[key] = fmt(v)
            out[i] = text
        else:
            out[i] = fmt(v)
    return out


def fmt_km(v: Any) -> str:
    """A distance in km as whole kilometres with thousands separators; a dash when missing.

    >>> fmt_km(6162.4), fmt_km(None)
    ('6,162', '—')
    """
    return "—" if is_missing(v) else f"{float(v):,.0f}"


def esc(text: Any) -> str:
    """``str(text)`` escaped for HTML text and attribute values (quotes included).

    >>> esc('<a href="x">')
    '&lt;a href=&quot;x&quot;&gt;'
    """
    return html.escape(str(text), quote=True)


# Where orjson's text may differ from json.dumps' (or hide a refused value): "null" (orjson
# writes NaN and infinities as null; json refuses them), and floats between 1e-10 and 1e-4
# (json writes 1e-05 and 1e-06, orjson 0.00001 and 1e-6). A match inside a string is harmless:
# it only sends the payload to json.dumps.
def _orjson_may_differ(raw: bytes) -> bool:
    """Whether orjson's text might not be json's: a null, 0.0000..., or a one-digit e-N."""
    if b"null" in raw:
        return True
    digits = b"0123456789"
    at = raw.find(b"0.0000")
    while at >= 0:
        if at == 0 or raw[at - 1] not in digits:
            return True
        at = raw.find(b"0.0000", at + 1)
    at = raw.find(b"e-")
    while at >= 0:
        # one digit, not two (json writes e-05, orjson e-5), also at the very end of the text
        first, second = raw[at + 2 : at + 3], raw[at + 3 : at + 4]
        if at > 0 and raw[at - 1] in digits and first.isdigit() and not second.isdigit():
            return True
        at = raw.find(b"e-", at + 1)
    return False


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _not_json(obj: Any) -> Any:
    msg = f"Object of type {type(obj).__name__} is not JSON serializable"
    raise TypeError(msg)


def script_json(obj: Any) -> str:
    r"""JSON safe inside <script>: no '</', '<!--', '-->' or line separators can survive.

    The text is exactly ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
    allow_nan=False)`` (NaN and infinities refused with its ``ValueError``) with ``<``, ``>``,
    ``&``, U+2028 and U+2029 escaped. orjson writes it about ten times faster; whatever orjson
    refuses, or might write differently, is written by json instead.

    >>> print(script_json({"t": "</script><!--", "v": [1.5, 1e-05, None]}))
    {"t":"\u003c/script\u003e\u003c!--","v":[1.5,1e-05,null]}
    """
    try:
        fast = orjson.dumps(obj, default=_not_json, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError too: big ints, non-str keys, numpy scalars ...
        fast = None
    if fast is None or _orjson_may_differ(fast):
        s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    else:
        s = fast.decode()
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        s = s.replace(a, b)
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


ROUTE_FIELDS: tuple[tuple[str, str], ...] = (
    ("length_km", "Length (km)"),
    ("transit_days", "Transit time (days)"),
    ("cost_usd_per_teu", "Cost (USD per TEU)"),
    ("co2e_kg_per_teu", "Carbon (kg CO2e per TEU)"),
    ("countries", "Countries"),
    ("transits_russia", "Transits Russia"),
    ("russia_km", "Russia (km)"),
    ("border_crossings", "Border crossings"),
    ("gauge_breaks", "Gauge breaks"),
    ("transshipments", "Transshipments"),
    ("sea_km", "Sea (km)"),
    ("chokepoints", "Chokepoints"),
    ("length_km_by_mode", "km by mode"),
    ("length_km_by_country", "km by country"),
    ("deposits_nearby", "Deposits nearby"),
    ("precision_share", "Geometry precision"),
    ("access", "Road access (deposit)"),
    ("lines", "Pipelines and tanker legs"),
    ("path", "Path"),
)


# Every statistic of geo.analysis.stats.STAT_KEYS, labelled, in the order a reader wants them.
STAT_LABELS: tuple[tuple[str, str], ...] = tuple(kv for kv in ROUTE_FIELDS if kv[0] != "path")


def stat_item(v: Any) -> str:
    """One item of a statistic's list, as a reader reads it.

    A border crossing {from, to, at} reads 'CHN→KAZ at X', a deposit near the route
    'Inkai: 12.5 km (uranium)', a pipeline leg 'name: km, capacity, status'.
    """
    if isinstance(v, dict) and "name" in v and "km" in v and "commodities" in v:  # a deposit
        what = ", ".join(fmt(c) for c in v["commodities"] or [])
        return f"{fmt(v['name'])}: {fmt_km(v['km'])} km" + (f" ({what})" if what else "")
    if isinstance(v, dict) and "name" in v and "km" in v:  # a pipeline or tanker leg
        cap = v.get("capacity")
        unit = fmt(v.get("unit"))
        cap_txt = (f"{float(cap):,g} {unit}" if cap is not None and not is_missing(cap)
                   else "capacity unknown")  # fmt: skip
        return f"{fmt(v['name'])}: {fmt_km(v['km'])} km, {cap_txt}, {fmt(v.get('status'))}"
    if isinstance(v, dict) and ("from" in v or "to" in v):
        at = "" if is_missing(v.get("at")) else fmt(v["at"])
        at = f" {at}" if at.startswith("between ") or not at else f" at {at}"
        return f"{fmt(v.get('from'))}→{fmt(v.get('to'))}{at}"
    return fmt(v)


LIST_SHOWN = 25  # items of a counted list (deposits near a route, crossings) a page shows


def route_value(key: str, v: Any) -> str:
    """One statistic as text, as the statistics module computed it (only rounded for display)."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if key.endswith("_km") and not isinstance(v, dict | list):
        return fmt_km(v)
    if isinstance(v, dict):
        if "low" in v or "high" in v:
            lo, hi = v.get("low"), v.get("high")
            if is_missing(lo) and is_missing(hi):
                return "—"
            return fmt(lo) if lo == hi else f"{fmt(lo)}–{fmt(hi)}"
        if "count" in v:
            items = v.get("list", v.get("at", []))
            by = v.get("by_commodity") or {}
            items = list(items) if isinstance(items, list | tuple) else []
            parts = [stat_item(x) for x in items[:LIST_SHOWN]]
            # a page cannot carry a million deposits per route; a list the statistics cut
            # short say so (``list_limit``), and their ``count`` is the whole list's
            total, count = len(items), v["count"]
            if "list_limit" in v and isinstance(count, int | np.integer):
                total = max(total, int(count))
            if total > len(parts):
                parts.append(f"and {total - len(parts):,} more (all in the JSON output)")
            parts += [f"{k} {fmt(by[k])}" for k in sorted(by)]
            return f"{fmt(v['count'])}" + (f" ({'; '.join(parts)})" if parts else "")
        if key == "precision_share":
            return ", ".join(f"{k} {float(x) * 100:.0f}%" for k, x in v.items())
        if key == "access":
            far = "; far from rail" if v.get("far") else ""
            return (
                f"{fmt_km(v.get('km'))} km by road to {fmt(v.get('to'))} (straight "
                f"{fmt_km(v.get('straight_km'))} km × {fmt(v.get('detour_factor'))}{far})"
            )
        return "; ".join(
            f"{k} {fmt_km(x) if key.startswith('length_km') else fmt(x)}" for k, x in v.items()
        )
    if key == "path" and isinstance(v, list | tuple):
        return " → ".join(fmt(x) for x in v)
    if isinstance(v, list | tuple):
        return (" " if key == "countries" else ", ").join(stat_item(x) for x in v) or "—"
    if v is None and key == "access":
        return "— (not from a deposit)"
    return fmt(v) or "—"


def headline(v: Any) -> str:
    """The headline number of a statistic for the comparison table."""
    if isinstance(v, dict) and "count" in v:
        return fmt(v["count"]) or "—"
    if isinstance(v, np.ndarray | list | tuple):
        return str(len(v))
    return fmt(v) or "—"


SHORT_NAME_CHARS = 34


def short_name(name: str, limit: int = SHORT_NAME_CHARS) -> str:
    """A route's short name: the part before ':' (``TITR main: Xi'an - ...`` -> ``TITR main``)."""
    head = name.split(":", 1)[0].strip()
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def short_names(names: list[str], limit: int = SHORT_NAME_CHARS) -> list[str]:
    """Short names (:func:`short_name`) that stay apart.

    Names that would read alike keep their first two words and what tells them apart.

    >>> short_names(["Sea route Shanghai - Rotterdam via Malacca and Suez",
    ...              "Sea route Shanghai - Rotterdam via the Cape of Good Hope", "TITR main: X"])
    ['Sea route … Malacca and Suez', 'Sea route … the Cape of Good Hope', 'TITR main']
    """
    out = [short_name(n, limit) for n in names]
    for text in {t for t in out if out.count(t) > 1}:
        same = [i for i, t in enumerate(out) if t == text]
        words = [names[i].split(":", 1)[0].split() for i in same]
        common = 0
        while all(len(w) > common + 1 for w in words) and len({w[common] for w in words}) == 1:
            common += 1
        for i, w in zip(same, words, strict=True):
            head = " ".join(w[: min(2, common)])
            rest = " ".join(w[common:])
            label = f"{head} … {rest}" if common > 2 else " ".join(w)
            out[i] = label if len(label) <= limit + 4 else label[: limit + 3].rstrip() + "…"
    return out


def route_corridor(name: str) -> str | None:
    """The named corridor a reference route's name begins with (:data:`CORRIDORS`), if any.

    A corridor is known by the first word of its key or label (dashes alike): "TITR via Kuryk"
    is TITR's, "Sea route Shanghai - Rotterdam" the maritime route's.

    >>> route_corridor("TITR via Kuryk: Xi'an - Duisburg"), route_corridor("Trans-Siberian x")
    ('TITR', 'TransSiberian')
    >>> route_corridor("China-Kyrgyzstan-Uzbekistan railway"), route_corridor("Elsewhere")
    ('CKU', None)
    """
    first = name.replace("–", "-").split()[:1]
    for key, (label, _) in CORRIDORS.items():
        words = {key.lower(), label.replace("–", "-").split()[0].lower()}
        if first and first[0].lower() in words:
            return key
    return None


def route_color(name: str, i: int) -> str:
    """A reference route's colour: its corridor's (the legend's), else by its place ``i``."""
    corridor = route_corridor(name)
    return CORRIDORS[corridor][1] if corridor else ROUTE_COLORS[i % len(ROUTE_COLORS)]
