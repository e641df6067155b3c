"""Popups for readers: a feature's name, status, dates and key numbers with units, its sources.

A card is a set of columns of display text: the name (the popup's title), the fields a reader
wants in the order they want them (labelled, with units), the sources as links named by their
publisher (:func:`geo.render.style.reader_sources`), and the "data notes": the maintainers'
notes, the stations a line was drawn through, the feature's id and the sources left out. The
page shows the data notes only in a collapsed fold; nothing is dropped from the data.

Columns are built a column at a time and each distinct value is formatted once, so a layer of
100,000 deposits costs a few of its columns' worth of work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .style import (
    CORRIDORS,
    NODE_SHAPES,
    STATUS_LABEL,
    fmt_codes,
    fmt_column,
    fmt_km,
    is_missing,
    reader_sources,
)

__all__ = ["LINKS_LABEL", "NOTES_LABEL", "Card", "Coded", "card", "encode_links", "url_key",
           "url_keys"]  # fmt: skip

Coded = tuple[np.ndarray, np.ndarray]
"""A column as codes into its distinct texts: ``texts[codes]`` is the column, every text used."""

LINKS_LABEL = "Sources"
NOTES_LABEL = "Data notes"

GAUGES = {"1435": "1,435 mm (standard)", "1520": "1,520 mm (broad, ex-Soviet)",
          "1000": "1,000 mm (metre)"}  # fmt: skip
PRECISION = {
    "traced": "traced along the track",
    "schematic": "schematic: approximately where the line runs",
    "straight": "straight line between its ends (schematic)",
}
PASSAGES = {
    "suez": "Suez Canal", "panama": "Panama Canal", "babalmandab": "Bab-el-Mandeb",
    "bosporus": "Bosporus", "hormuz": "Strait of Hormuz", "malacca": "Strait of Malacca",
    "gibraltar": "Strait of Gibraltar", "cape": "Cape of Good Hope",
}  # fmt: skip
LOCATION = {"exact": "exact", "approximate": "approximate (may be a few km off)"}
# Columns a reader never sees in the card's rows: its title, what the notes fold holds, and the
# network's own bookkeeping (node ids, the km by country shown with the countries).
HIDDEN = frozenset({"name", "id", "notes", "via", "source", "from", "to", "from_node", "to_node",
                    "km_by_country", "output_unit", "output_year", "capacity", "capacity_units",
                    "capacity_bcm_y", "capacity_kbd", "geometry"})  # fmt: skip


@dataclass(frozen=True)
class Card:
    """A layer's popups: ``labels`` and, per label, one column of display text.

    The first column is the title, the last two the sources (:func:`encode_links`) and the data
    notes; :attr:`links` and :attr:`notes` are their indices. ``coded`` holds, per column where
    it is known, the same column as :data:`Coded` (a payload's dictionary is then not looked
    for again), else None.
    """

    labels: list[str]
    columns: list[list[str]]
    coded: list[Coded | None] = field(default_factory=list)

    @property
    def links(self) -> int:
        """The index of the sources column."""
        return len(self.labels) - 2

    @property
    def notes(self) -> int:
        """The index of the data notes column."""
        return len(self.labels) - 1

    def rows(self) -> list[list[str]]:
        """The values feature by feature (``v`` of a line or node payload)."""
        return [list(r) for r in zip(*self.columns, strict=True)] if self.columns else []


def _by_value(values: Any, text: Callable[[str], str] | None) -> tuple[list[str], Coded]:
    """``text(fmt(v))`` for each value, computed once per distinct text, and the column coded.

    ``text`` None: the display text as it is.
    """
    codes, texts = fmt_codes(values)
    if text is not None:
        # texts that read the same once shown are merged: each distinct text is used
        merged, texts = pd.factorize(np.array([text(u) for u in texts.tolist()], dtype=object),
                                     use_na_sentinel=False)  # fmt: skip
        texts = np.asarray(texts, dtype=object)
        codes = merged[codes]
    column: list[str] = texts[codes].tolist()
    # kept while the payload is made: a byte or two a row, not eight
    return column, (codes.astype(np.min_scalar_type(max(len(texts) - 1, 0))), texts)


def _words(items: str, table: Mapping[str, str] | None = None) -> str:
    """``"rare_earths, gold"`` -> ``"rare earths, gold"``, through ``table`` where it names one."""
    parts = [p.strip() for p in items.split(",") if p.strip()]
    return ", ".join((table or {}).get(p, p.replace("_", " ")) for p in parts)


def _km(text: str) -> str:
    try:
        return f"{fmt_km(float(text.replace(',', '')))} km" if text else ""
    except ValueError:
        return text


def _status(text: str) -> str:
    return STATUS_LABEL.get(text, text.replace("_", " ")).replace(" / proposed", "") \
        if text != "proposed" else "proposed"  # fmt: skip


def _countries(gdf: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    """Countries by name, each with its km where the frame has ``km_by_country``."""
    codes = gdf["countries"].tolist() if "countries" in gdf else [None] * len(gdf)
    by = gdf["km_by_country"].tolist() if "km_by_country" in gdf else [None] * len(gdf)
    out = []
    for c, k in zip(codes, by, strict=True):
        if isinstance(k, dict) and k:
            out.append(", ".join(f"{names.get(str(a), str(a))} ({fmt_km(v)} km)"
                                 for a, v in k.items() if not is_missing(v)))  # fmt: skip
        elif isinstance(c, list | tuple | np.ndarray) and len(c):
            out.append(", ".join(names.get(str(a), str(a)) for a in c))
        else:
            out.append("")
    return out


def _output(gdf: pd.DataFrame) -> list[str]:
    """``output_value`` with its unit and year: ``"25,000 tU/year (2022)"``."""
    value = fmt_column(gdf["output_value"]).tolist()
    unit = fmt_column(gdf["output_unit"]).tolist() if "output_unit" in gdf else [""] * len(gdf)
    year = fmt_column(gdf["output_year"]).tolist() if "output_year" in gdf else [""] * len(gdf)
    return [" ".join(x for x in (v, u, f"({y})" if y else "") if x) if v else ""
            for v, u, y in zip(value, unit, year, strict=True)]  # fmt: skip


Field = tuple[str, str, Callable[[str], str] | None]
# (column, label, text of one value); None: the value's display text as it is
FIELDS: dict[str, tuple[Field, ...]] = {
    "segment": (
        ("corridor", "Corridor", lambda t: CORRIDORS.get(t, (t, ""))[0]),
        ("mode", "Mode", None),
        ("status", "Status", _status),
        ("length_km", "Length", _km),
        ("countries", "Countries", None),
        ("russia_km", "Through Russia", lambda t: _km(t) if t not in ("", "0") else ""),
        ("gauge_mm", "Track gauge", lambda t: GAUGES.get(t, f"{t} mm" if t else "")),
        ("passages", "Sea passages", lambda t: _words(t, PASSAGES)),
        ("fuel", "Fuel", None),
        ("owner", "Owner", None),
        ("start_year", "In service from", None),
        ("precision", "Line drawn", lambda t: PRECISION.get(t, t)),
        ("as_of", "Source date", None),
        ("licence", "Licence", None),
    ),
    "node": (
        ("kind", "Kind", lambda t: NODE_SHAPES.get(t, ("", t.replace("_", " ")))[1]),
        ("country", "Country", None),
        ("status", "Status", _status),
        (
            "gauge_change",
            "Gauge change",
            lambda t: "1,435 mm and 1,520 mm track meet" if t == "yes" else "",
        ),
        ("aliases", "Also spelt", None),
        ("as_of", "Source date", None),
    ),
    "deposit": (
        ("commodities", "Commodities", _words),
        ("kind", "Kind", None),
        ("status", "Status", None),
        ("country", "Country", None),
        ("operator", "Operator", None),
        ("output_value", "Annual output", None),
        ("location_precision", "Location", lambda t: LOCATION.get(t, t)),
        ("as_of", "Source date", None),
    ),
    "area": (
        ("country", "Country", None),
        ("continent", "Continent", None),
        ("as_of", "Source date", None),
    ),
}


def encode_links(links: Sequence[Sequence[str]]) -> str:
    r"""Links as one text: ``name<TAB>url`` lines, and a source cited without a URL as its text.

    Neither a name, a URL nor a citation (:func:`~geo.render.style.reader_sources`) ever holds a
    tab or a line break.

    >>> encode_links([["Wikipedia", "https://en.wikipedia.org/wiki/Aktau"], ["Atlas (2023)"]])
    'Wikipedia\thttps://en.wikipedia.org/wiki/Aktau\nAtlas (2023)'
    """
    return "\n".join("\t".join(link) for link in links)


_ONE_URL = re.compile(r"https?://([^/\s?#:@;]+)((?:/[^\s<>\"';]*)?)", re.IGNORECASE)
_NOT_URL_END = (".", ",", ")", "]")
# The same test as byte tables, for ASCII texts checked all at once (:func:`url_keys`): which
# characters end a host, and which cannot be in a path. Read off the expression itself.
_HOST_END = np.array([not re.fullmatch(r"[^/\s?#:@;]", chr(c)) for c in range(256)])
_PATH_BAD = np.array([not re.fullmatch(r"[^\s<>\"';]", chr(c)) for c in range(256)])
_KEY_PATH = 21  # the longest publisher path prefix, /GlobalEnergyMonitor
_FAST_URL_CHARS = 256  # longer texts are matched one by one


def url_key(text: str) -> str | None:
    """A source's host and the first characters of its path, when it is one URL alone.

    The publisher of such a source is looked up by this key (:func:`url_keys` finds many).

    >>> url_key("https://mrdata.usgs.gov/mrds/show-mrds.php?dep_id=10"), url_key("see x.org")
    ('mrdata.usgs.gov/mrds/show-mrds.php?d', None)
    """
    m = _ONE_URL.fullmatch(text) if not text.endswith(_NOT_URL_END) else None
    return None if m is None else m.group(1) + m.group(2)[:_KEY_PATH]


def url_keys(texts: list[str]) -> list[str | None]:
    """:func:`url_key` of each text.

    Short ASCII texts are read all at once: padded into a grid of bytes, the scheme compared,
    the host's end found as the first host-ending byte, the path checked against the bytes it
    cannot hold. Any other text goes through the regular expression. Both give the same
    answer (tests/test_payload_speed.py compares them).
    """
    keys: list[str | None] = [None] * len(texts)
    try:
        every = "".join(texts).isascii()  # one pass in C, as front_code does
    except TypeError:
        every = False
    length = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    short = (length > 0) & (length <= _FAST_URL_CHARS)
    if not every:
        short &= np.fromiter((t.isascii() for t in texts), dtype=bool, count=len(texts))
    for i in np.flatnonzero(~short).tolist():
        keys[i] = url_key(texts[i])
    fast = np.flatnonzero(short)
    if not len(fast):
        return keys
    sub = [texts[i] for i in fast.tolist()] if len(fast) < len(texts) else texts
    length = length[fast]
    # NUL-padded, with at least one NUL after each text (NUL neither ends a host nor spoils a path)
    grid = np.array(sub, dtype=f"S{max(int(length.max()) + 1, 8)}").view(np.uint8)
    grid = grid.reshape(len(sub), -1)
    head = grid[:, :8]
    head = np.where((head >= 65) & (head <= 90), head + 32, head)  # the scheme in lower case
    https = np.all(head == np.frombuffer(b"https://", np.uint8), axis=1)
    start = np.where(https, 8, np.where(np.all(head[:, :7] == np.frombuffer(b"http://", np.uint8),
                                               axis=1), 7, 0))  # fmt: skip
    ends = _HOST_END[grid]
    ends[:, :7] = False  # the scheme's own ':' and '/'
    ends[https, 7] = False
    host_end = np.where(ends.any(axis=1), ends.argmax(axis=1), length)
    rows = np.arange(len(sub))
    bad = _PATH_BAD[grid][:, ::-1]
    last_bad = np.where(bad.any(axis=1), grid.shape[1] - 1 - bad.argmax(axis=1), -1)
    path_ok = (host_end == length) | ((grid[rows, host_end] == ord("/")) & (last_bad < host_end))
    ok = (start > 0) & (host_end > start) & path_ok
    ok &= ~np.isin(grid[rows, length - 1], np.frombuffer(b".,)]", np.uint8))
    at = np.flatnonzero(ok)
    key_end = np.minimum(host_end + _KEY_PATH, length)
    for i, t, a, b in zip(fast[at].tolist(), [sub[j] for j in at.tolist()], start[at].tolist(),
                          key_end[at].tolist(), strict=True):  # fmt: skip
        keys[i] = t[a:b]
    return keys


def _sources(gdf: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Per feature: its links (encoded) and the note on the sources left out.

    Each distinct source is read once. Sources that are one URL alone (most of a big layer's)
    are named quickly: all found at once (:func:`url_keys`), each named by its host and the
    start of its path, looked up once per host; any other source goes through
    :func:`~geo.render.style.reader_sources`.
    """
    if "source" not in gdf:
        return [""] * len(gdf), [""] * len(gdf)
    texts = pd.Series(fmt_column(gdf["source"]), dtype=object)
    codes, uniques = pd.factorize(texts, use_na_sentinel=False)
    distinct: list[str] = np.asarray(uniques, dtype=object).tolist()
    keys = url_keys(distinct)
    key_codes, key_texts = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
    named = []
    for key in key_texts.tolist():
        found, note = reader_sources(f"https://{key}")
        # a mirror alone: shown by its host, named in the note
        named.append((found[0][0] if found else key.partition("/")[0], note))
    heads = np.array([f"{n}\t" for n, _ in named] + ["\t"], dtype=object)[key_codes]
    notes = np.array([n for _, n in named] + [""], dtype=object)[key_codes]
    links = heads + np.asarray(distinct, dtype=object)
    for i in np.flatnonzero(key_codes < 0).tolist():
        found, notes[i] = reader_sources(distinct[i])
        links[i] = encode_links(found)
    out_links: list[str] = links[codes].tolist() if len(texts) else []
    out_notes: list[str] = notes[codes].tolist() if len(texts) else []
    return out_links, out_notes


def _notes(gdf: pd.DataFrame, source_notes: list[str]) -> list[str]:
    """The data notes of each feature: notes, stations drawn through, id, sources left out."""
    out = np.full(len(gdf), "", dtype=object)
    parts = [
        (fmt_column(gdf[col]), head)
        for col, head in (("notes", ""), ("via", "Drawn through: "), ("id", "Feature id: "))
        if col in gdf
    ]
    parts.append((np.asarray(source_notes, dtype=object), ""))  # fmt: skip
    for texts, head in parts:
        given = texts != ""
        if not given.any():
            continue
        line = head + texts[given] if head else texts[given]
        before = out[given]
        had = before != ""
        if had.any():  # joined only where a line came before (ids alone: never)
            line[had] = before[had] + "\n" + line[had]
        out[given] = line
    result: list[str] = out.tolist()
    return result


def _label(col: str) -> str:
    text = str(col).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def card(
    gdf: pd.DataFrame, kind: str | None, *, countries: Mapping[str, str] | None = None
) -> Card:
    """The popup columns of a layer of ``kind`` (``segment``, ``node``, ``deposit``, ``area``).

    Parameters
    ----------
    gdf : DataFrame
        The layer (its geometry is not read); any column may be missing.
    kind : str or None
        Its schema kind; None gives only the name, extra columns, sources and notes.
    countries : mapping, optional
        Country names by alpha-3 code; a code without a name is shown as it is.

    Returns
    -------
    Card
        Columns that are empty for every feature are left out; the title, sources and notes
        columns are always there.

    Examples
    --------
    >>> import geopandas as gpd
    >>> g = gpd.GeoDataFrame({"name": ["Aktau"], "kind": ["port"], "country": ["KAZ"],
    ...     "source": ["https://en.wikipedia.org/wiki/Port_of_Aktau"], "notes": ["to check"]},
    ...     geometry=[None])
    >>> c = card(g, "node", countries={"KAZ": "Kazakhstan"})
    >>> c.labels
    ['Name', 'Kind', 'Country', 'Sources', 'Data notes']
    >>> c.rows()[0][1:3], c.rows()[0][-1]
    (['port', 'Kazakhstan'], 'to check')
    """
    names = dict(countries or {})
    n = len(gdf)
    labels = ["Name"]
    columns = [fmt_column(gdf["name"]).tolist() if "name" in gdf else [""] * n]
    coded: list[Coded | None] = [None]
    fields = FIELDS.get(kind or "", ())
    known = {c for c, _, _ in fields}
    for col, label, text in fields:
        how: Coded | None = None
        if col == "countries" and ("countries" in gdf or "km_by_country" in gdf):
            values = _countries(gdf, names)
        elif col not in gdf:
            continue
        elif col == "output_value":
            values = _output(gdf)
        elif col == "country":
            values, how = _by_value(gdf[col], lambda t: names.get(t, t))
        else:
            values, how = _by_value(gdf[col], text)
        if _shown(values, how):
            labels.append(label)
            columns.append(values)
            coded.append(how)
    extra = [c for c in gdf.columns if c not in known and c not in HIDDEN
             and not isinstance(gdf[c].dtype, gpd.array.GeometryDtype)]  # fmt: skip
    for col in sorted(extra, key=str):
        values = fmt_column(gdf[col]).tolist()
        if any(values):
            labels.append(_label(col))
            columns.append(values)
            coded.append(None)
    links, source_notes = _sources(gdf)
    labels += [LINKS_LABEL, NOTES_LABEL]
    columns += [links, _notes(gdf, source_notes)]
    coded += [None, None]
    return Card(labels, columns, coded)


def _shown(values: list[str], how: Coded | None) -> bool:
    """Whether a column has a text to show (``any(values)``), read off its distinct texts."""
    return any(how[1].tolist()) if how is not None else any(values)
