"""Validation of raw records against the schema: every problem at once, one line each.

The checks read :mod:`geo.data.schema` and run per column: :data:`CHECKS` maps each field type
to one function over the column of a field (a pandas Series holding the values of every
feature that has one). A check decides with whole-column operations (``isin``, ``factorize``,
string methods, shapely's vectorised predicates) which rows fail, and writes a message only for
those rows; the messages are the same, word for word, as a value-by-value check would give.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..errors import Problem
from .countries import alpha2_to_alpha3, check_point, codes, countries
from .readers import (
    MISSING,
    ColumnRows,
    HugeInt,
    Missing,
    RawLayer,
    object_array,
    property_columns,
    strict_float,
    strict_int,
    text_problem,
    to_list,
    value_problem,
)
from .schema import KINDS, SCHEMA, Field, Kind

__all__ = ["CHECKS", "detect_kind", "properties_frame", "validate_columns", "validate_raw"]

_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}
# shapely.get_type_id of each geometry type, by the name a schema kind declares.
_TYPE_ID = {"Point": 0, "LineString": 1, "LinearRing": 2, "Polygon": 3, "MultiPoint": 4,
            "MultiLineString": 5, "MultiPolygon": 6, "GeometryCollection": 7}  # fmt: skip
_TYPE_NAME = {i: name for name, i in _TYPE_ID.items()}
_LINES = (_TYPE_ID["LineString"], _TYPE_ID["MultiLineString"])


def detect_kind(raw: RawLayer) -> str | None:
    """Guess the kind from geometry types, else from properties; None when it cannot tell."""
    geoms = object_array(raw.geoms)
    type_id = shapely.get_type_id(geoms[~shapely.is_empty(geoms)])
    type_id = type_id[type_id >= 0]
    top = None
    if len(type_id):  # the most frequent type; on a tie, the one met first
        ids, first, count = np.unique(type_id, return_index=True, return_counts=True)
        best = np.flatnonzero(count == count.max())
        top = _TYPE_NAME[int(ids[best[np.argmin(first[best])]])]
    for kind in ("segment", "area"):
        if top in SCHEMA[kind].geometries:
            return kind

    def has(*keys: str) -> bool:
        return any(key in p for p in raw.props for key in keys)

    if has("commodities", "location_precision"):
        return "deposit"
    if has("gauge_change", "kind"):
        return "node"
    if top is None and has("mode", "corridor"):
        return "segment"
    return None


# --- columns ----------------------------------------------------------------------------------
# A column holds one property of every feature as an object array, with a tag per cell taken
# from its type (a dict lookup; isinstance only for types the table does not know, such as
# subclasses), so the checks below work on boolean masks and visit failing cells only.

ABSENT, NONE, STR, INT, FLOAT, BOOL, LIST, DICT, OTHER = range(9)
_TAG_OF_TYPE: dict[type, int] = {Missing: ABSENT, type(None): NONE, str: STR, int: INT,
                                 float: FLOAT, bool: BOOL, list: LIST, dict: DICT}  # fmt: skip


def _tag(v: Any) -> int:
    for t, tag in (
        (bool, BOOL),
        (str, STR),
        (int, INT),
        (float, FLOAT),
        (list, LIST),
        (dict, DICT),
    ):
        if isinstance(v, t):
            return tag
    return OTHER


def tags(values: np.ndarray) -> np.ndarray:
    """The tag of each cell: ABSENT, NONE, STR, INT, FLOAT, BOOL, LIST, DICT or OTHER."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # one pass in C
        return np.full(len(values), STR, np.int8)
    n = len(values)
    types = set(map(type, values))  # a column mostly holds one type (lists): one tag for all
    if len(types) == 1 and (tag := _TAG_OF_TYPE.get(types.pop())) is not None:
        return np.full(n, tag, np.int8)
    out = np.fromiter(map(_TAG_OF_TYPE.get, map(type, values), itertools.repeat(-1, n)), np.int8, n)
    for i in np.flatnonzero(out < 0):
        out[i] = _tag(values[i])
    return out


def _all_text(values: np.ndarray) -> bool:
    """Whether every cell is a text (one pass in C)."""
    return bool(pd.api.types.infer_dtype(values, skipna=False) == "string")


def _not_none(values: np.ndarray) -> np.ndarray:
    if _all_text(values):
        return np.ones(len(values), bool)
    return np.fromiter(map(operator.is_not, values, itertools.repeat(None)), bool, len(values))


@dataclass
class Column:
    """One property of every feature (``None`` where missing)."""

    values: np.ndarray
    tag: np.ndarray

    def replace(self, at: np.ndarray, new: np.ndarray, tag: np.ndarray | None = None) -> None:
        """Put ``new`` at rows ``at`` (``tag``: their tags, when known already)."""
        self.values[at] = new
        self.tag[at] = tags(new) if tag is None else tag


def _is_blank(text: np.ndarray) -> np.ndarray:
    """Which texts are empty or white space only."""
    out: np.ndarray = (text == "") | np.fromiter(map(str.isspace, text), bool, len(text))
    return out


def _blank(col: Column) -> np.ndarray:
    """Cells that count as missing though not None: NaN and blank text (lists never)."""
    is_text = col.tag == STR
    if is_text.all():  # the usual column: every cell text, looked at where it is
        text = col.values
        distinct = _few_distinct(text)
        if distinct is not None and not _is_blank(object_array(distinct)).any():
            return np.zeros(len(text), bool)
        return _is_blank(text)
    out = np.zeros(len(col.values), bool)
    at = np.flatnonzero(is_text)
    text = col.values[at]
    out[at] = (text == "") | np.fromiter(map(str.isspace, text), bool, len(at))
    at = np.flatnonzero(col.tag == FLOAT)
    out[at] = np.isnan(col.values[at].astype(float))
    return out


def _show(value: Any, n: int = 60) -> str:
    """A value's repr for a message, cut to n characters."""
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


def _suggest(value: str, choices: tuple[object, ...]) -> str:
    words = [str(c) for c in choices]
    close = difflib.get_close_matches(value.lower(), words, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else f"; use one of {', '.join(words)}"


def _not_one_of(value: Any, choices: tuple[object, ...]) -> str:
    return f"{_show(value)} is not one of {', '.join(map(str, choices))}" + _suggest(
        str(value), choices
    )


def _few_distinct(values: np.ndarray) -> list[str] | None:
    """The distinct texts of a column of texts that repeats them (statuses, countries).

    None for a short column, or one of mostly distinct texts (ids, names): a glance at its
    first cells decides, so such a column is not hashed in full for nothing. Texts are
    hashed once (Python keeps a text's hash), and the equal texts a reader shared are one
    object, so a repeating column gives its few values at little cost.
    """
    if len(values) < 4 * _GLANCE:
        return None
    head = values[:_GLANCE].tolist()
    if set(map(type, head)) != {str} or len(set(head)) > _GLANCE // 8 or not _all_text(values):
        return None
    distinct = list(dict.fromkeys(values.tolist()))
    return distinct if len(distinct) <= len(values) // 16 else None


_GLANCE = 256  # cells looked at to tell a column of repeated texts


def _isin(values: np.ndarray, choices: Any) -> np.ndarray:
    """Hashed membership of hashable values (``Series.isin``): a plain bool array."""
    distinct = _few_distinct(values)
    if distinct is not None and all(v in choices for v in distinct):
        return np.ones(len(values), bool)  # every text is a choice: no look at each cell
    return np.asarray(pd.Series(values, dtype=object, copy=False).isin(choices), dtype=bool)


def _per_unique(values: np.ndarray, func: Callable[[Any], Any]) -> np.ndarray:
    """``func`` of every cell, computed once per distinct value (the values must be hashable)."""
    codes_, uniques = pd.factorize(values, use_na_sentinel=False)
    out: np.ndarray = object_array(func(u) for u in uniques)[codes_]
    return out


def _unique_mask(values: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``test`` (a bool per cell of an array) asked of the distinct values only, then spread.

    The values must be hashable; layers repeat their values, so the test sees few of them.
    """
    distinct = _few_distinct(values)
    if distinct is not None and np.asarray(test(object_array(distinct)), dtype=bool).all():
        return np.ones(len(values), bool)  # every text passes: no need to place them
    codes_, uniques = pd.factorize(values, use_na_sentinel=False)
    found: np.ndarray = np.asarray(test(object_array(uniques)), dtype=bool)
    out: np.ndarray = found[codes_]
    return out


def _messages(values: np.ndarray, bad: np.ndarray, message: Callable[[Any], str]) -> Messages:
    """Messages for the failing cells only, by position."""
    return {int(i): message(values[i]) for i in np.flatnonzero(bad)}


def _text(values: np.ndarray, tag: np.ndarray, strip: bool = False) -> np.ndarray:
    """Each cell as text (``str(v)``), stripped of surrounding blanks if asked."""
    out = values.copy()
    other = np.flatnonzero(tag != STR)
    out[other] = object_array([str(v) for v in values[other]])
    return object_array(list(map(str.strip, out))) if strip else out


@dataclass
class Context:
    """What the checks share: the country codes, looked up once per validation."""

    country_codes: set[str]

    @cached_property
    def alpha2(self) -> dict[str, str]:
        return alpha2_to_alpha3()


Messages = dict[int, str]
Result = tuple[np.ndarray, Messages]  # (normalised values, messages of the failing cells)
Check = Callable[[Field, np.ndarray, np.ndarray, Context], Result]


# --- one check per field type -----------------------------------------------------------------


def check_str(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """Text: lists and objects refused, numbers and others written as text."""
    bad = (tag == LIST) | (tag == DICT)
    out = values.copy()
    conv = np.flatnonzero(~bad & (tag != STR))
    out[conv] = object_array(str(v) for v in values[conv])
    return out, _messages(values, bad, lambda v: f"expected text, got {type(v).__name__}")


def check_int(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """Whole numbers: integral floats and plainly written digits become ints."""
    out = values.copy()
    ok = tag == INT
    at = np.flatnonzero(tag == FLOAT)
    x = values[at].astype(float)
    whole = at[np.isfinite(x) & (np.floor(x) == x)]
    out[whole] = object_array(int(v) for v in values[whole])
    ok[whole] = True
    at = np.flatnonzero(tag == STR)
    parsed = object_array(strict_int(v) for v in values[at])
    good = np.fromiter((v is not None for v in parsed), bool, len(at))
    out[at[good]] = parsed[good]
    ok[at[good]] = True
    plain = np.zeros(len(values), bool)
    plain[at[~good]] = True
    return out, {
        **_messages(
            values, plain, lambda v: f"expected a whole number such as 1520, got {_show(v)}"
        ),
        **_messages(values, ~ok & ~plain, lambda v: f"expected a whole number, got {_show(v)}"),
    }


def check_number(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """Finite numbers: plainly written decimals become floats; ints stay ints."""
    out = values.copy()
    at = np.flatnonzero(tag == STR)
    parsed = object_array(strict_float(v) for v in values[at])
    good = np.fromiter((v is not None for v in parsed), bool, len(at))
    out[at[good]] = parsed[good]
    plain = np.zeros(len(values), bool)
    plain[at[~good]] = True
    numeric = np.flatnonzero((tag == FLOAT) | (tag == INT) | ((tag == STR) & ~plain))
    ok = np.zeros(len(values), bool)
    # NaN and inf compare False; a huge int is compared exactly, never turned into a float.
    ok[numeric] = np.fromiter((abs(v) <= 1e300 for v in out[numeric]), bool, len(numeric))
    return out, {
        **_messages(values, plain, lambda v: f"expected a number such as 12.5, got {_show(v)}"),
        **_messages(out, ~ok & ~plain, lambda v: f"expected a finite number, got {_show(v)}"),
    }


def check_bool(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """true/false: yes/no, t/f, y/n, 1/0 in any case, and the numbers 0 and 1."""
    out = values.copy()
    ok = tag == BOOL
    at = np.flatnonzero(tag == STR)
    word = object_array(v.strip().lower() for v in values[at])
    known = _isin(word, _TRUE | _FALSE)
    out[at[known]] = _isin(word[known], _TRUE)
    ok[at[known]] = True
    at = np.flatnonzero((tag == INT) | (tag == FLOAT))
    known = _isin(values[at], (0, 1))
    out[at[known]] = values[at[known]].astype(bool)
    ok[at[known]] = True
    return out, _messages(values, ~ok, lambda v: f"expected true or false, got {_show(v)}")


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def check_date(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """ISO dates; Shapefile's YYYY/MM/DD accepted; a longer timestamp cut to its date."""
    text = _per_unique(_text(values, tag), lambda v: v[:10].replace("/", "-"))
    ok = _per_unique(text, _iso_date).astype(bool)
    out = values.copy()
    out[ok] = text[ok]
    return out, _messages(values, ~ok, lambda v: f"{_show(v)} is not an ISO date; write YYYY-MM-DD")


def check_country(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """ISO 3166-1 alpha-3 codes of the bundled countries; an alpha-2 code gets its alpha-3."""
    out = _per_unique(_text(values, tag), str.strip)

    def message(v: str) -> str:
        a3 = ctx.alpha2.get(v.upper())
        hint = f"; did you mean '{a3}'?" if a3 else "; use an ISO 3166-1 alpha-3 code such as KAZ"
        return f"{_show(v)} is not an ISO 3166-1 alpha-3 country code{hint}"

    return out, _messages(out, ~_isin(out, ctx.country_codes), message)


def _foreign_scheme(text: str) -> bool:
    low = text.lower()
    return "://" in low and not low.startswith(("http://", "https://")) and ":" in low.split()[0]


def check_url_or_text(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """A citation: text, or a URL whose scheme is http or https."""
    out = _text(values, tag, strip=True)
    scheme = map(str.__contains__, out, itertools.repeat("://"))
    maybe = np.flatnonzero(np.fromiter(scheme, bool, len(out)))
    web = map(str.startswith, out[maybe], itertools.repeat(("http://", "https://")))
    maybe = maybe[~np.fromiter(web, bool, len(maybe))]  # these are fine whatever follows
    bad = np.zeros(len(out), bool)
    bad[maybe] = [_foreign_scheme(v) for v in out[maybe]]
    return out, _messages(
        out, bad, lambda v: f"'{v[:40]}' is not an http(s) URL; cite an http(s) URL or a text"
    )


def _list_problem(f: Field, value: Any) -> str | None:
    """The message of one list value that the column test could not pass."""
    if not isinstance(value, list):
        return f"expected a list, got {_show(value)}; write a JSON list or 'a;b'"
    if why := value_problem(value):
        return why
    if f.required and not value:
        return "is an empty list; give at least one value"
    if not f.choices:
        return None
    return next((_not_one_of(v, f.choices) for v in value if v not in f.choices), None)


def check_list(f: Field, values: np.ndarray, tag: np.ndarray, ctx: Context) -> Result:
    """Lists (JSON lists, or 'a;b' text from CSV and Shapefiles); each item among the choices."""
    out = values.copy()
    conv = np.flatnonzero((tag == STR) | (tag == OTHER))
    out[conv] = object_array([to_list(v) for v in values[conv]])
    is_list = tag == LIST  # a cell left as it was keeps its tag
    is_list[conv] = tags(out[conv]) == LIST
    lists = out[is_list]
    size = np.zeros(len(out), np.int64)
    size[is_list] = np.fromiter(map(len, lists), np.int64, len(lists))
    items = object_array(itertools.chain.from_iterable(lists))
    item_ok = tags(items) == STR

    def usable(texts: np.ndarray) -> np.ndarray:  # within limits and among the choices
        ok = np.fromiter((text_problem(s) is None for s in texts), bool, len(texts))
        return ok & _isin(texts, f.choices) if f.choices else ok

    item_ok[item_ok] = _unique_mask(items[item_ok], usable)
    owner = np.repeat(np.flatnonzero(is_list), size[is_list])
    fine = is_list.copy()
    fine[owner[~item_ok]] = False
    if f.required:
        fine &= size > 0
    # The rest get the full check: an odd item (a number, a nested list) may still be fine.
    msgs = {int(i): m for i in np.flatnonzero(~fine) if (m := _list_problem(f, out[i])) is not None}
    return out, msgs


CHECKS: dict[str, Check] = {
    "str": check_str,
    "int": check_int,
    "number": check_number,
    "bool": check_bool,
    "date": check_date,
    "country": check_country,
    "url_or_text": check_url_or_text,
    "list": check_list,
}
"""The check of each field type of :class:`geo.data.schema.Field`; every type has one."""


def _choices(f: Field, out: np.ndarray, msgs: Messages) -> Messages:
    """Messages for the values, passed by their type check, that are not among the choices."""
    if not f.choices or f.type == "list":  # a list's items were checked by check_list
        return msgs
    if not msgs:
        bad = ~_isin(out, f.choices)
        return _messages(out, bad, lambda v: _not_one_of(v, f.choices))
    passed = np.ones(len(out), bool)
    passed[list(msgs)] = False  # a value that failed its type may be unhashable
    at = np.flatnonzero(passed)
    bad = np.zeros(len(out), bool)
    bad[at] = ~_isin(out[at], f.choices)
    return {**msgs, **_messages(out, bad, lambda v: _not_one_of(v, f.choices))}


# --- the layer --------------------------------------------------------------------------------


def _geometry_problems(k: Kind, geoms: np.ndarray) -> Messages:
    """Messages by row for geometries that do not fit the kind."""
    type_id = shapely.get_type_id(geoms)
    present = ~shapely.is_missing(geoms)  # a missing geometry was reported while reading
    empty = present & shapely.is_empty(geoms)
    wrong = present & ~empty & ~np.isin(type_id, [_TYPE_ID[t] for t in k.geometries])
    rest = present & ~empty & ~wrong
    invalid = rest.copy()
    invalid[rest] = ~shapely.is_valid(geoms[rest])
    lines = rest & ~invalid & np.isin(type_id, _LINES)
    zero = lines.copy()
    zero[lines] = shapely.length(geoms[lines]) == 0
    out = _messages(geoms, empty, lambda g: "geometry is empty; give the feature coordinates")
    out |= _messages(geoms, wrong, lambda g: (
        f"geometry {g.geom_type} does not fit a {k.name} layer "
        f"(expects {' or '.join(k.geometries)}); split the file by kind or pass --kind"
    ))  # fmt: skip
    reasons = shapely.is_valid_reason(geoms[invalid])
    out |= {int(i): f"invalid geometry: {why}; fix the ring (e.g. shapely.make_valid)"
            for i, why in zip(np.flatnonzero(invalid), reasons, strict=True)}  # fmt: skip
    out |= _messages(geoms, zero, lambda g: (
        "line of zero length; give it at least two distinct vertices"
    ))  # fmt: skip
    return out


def _ids(col: Column) -> np.ndarray:
    """Each feature's id as text (None when missing or an unreadable huge integer)."""
    out = col.values.copy()
    out[(col.tag == NONE) | (col.tag == ABSENT)] = None
    for i in np.flatnonzero((col.tag != STR) & (col.tag != NONE) & (col.tag != ABSENT)):
        out[i] = None if isinstance(out[i], HugeInt) else str(out[i])
    return out


def _duplicates(fids: np.ndarray) -> Messages:
    named = np.flatnonzero(_not_none(fids))
    dup = pd.Series(fids[named], dtype=object).duplicated(keep="first").to_numpy()
    if not dup.any():
        return {}
    first: dict[str, int] = {}
    for i in named:
        first.setdefault(fids[i], int(i))
    return {int(i): f"duplicate id '{fids[i]}' (also feature #{first[fids[i]]}); "
            "give each feature a unique id" for i in named[dup]}  # fmt: skip


def _field_problems(f: Field, col: Column, skip: np.ndarray, ctx: Context) -> Messages:
    """Run the field's check on its column; normalise the column in place; messages by row."""
    none = (col.tag == NONE) | (col.tag == ABSENT)
    empty_list = np.flatnonzero(col.tag == LIST)
    absent = none.copy()
    if not f.required:
        absent[empty_list] = [not v for v in col.values[empty_list]]
    out: Messages = {}
    if f.required:
        null_ok = col.tag == NONE if f.nullable else np.zeros(len(none), bool)  # null = "none"
        out = _messages(col.values, absent & ~skip & ~null_ok, lambda v: (
            f"missing required property '{f.name}' ({f.doc}); add it"
        ))  # fmt: skip
    todo = np.flatnonzero(~absent & ~skip)
    if not len(todo):
        return out
    if len(todo) == len(col.values):  # every row: the column itself, no copy of its cells
        norm, msgs = CHECKS[f.type](f, col.values, col.tag, ctx)
        col.values, col.tag = norm, tags(norm)
        return out | _choices(f, norm, msgs)
    norm, msgs = CHECKS[f.type](f, col.values[todo], col.tag[todo], ctx)
    msgs = _choices(f, norm, msgs)
    col.replace(todo, norm)
    return out | {int(todo[i]): m for i, m in msgs.items()}


def _country_problems(path: str, fids: np.ndarray, geoms: np.ndarray, col: Column,
                      on: np.ndarray) -> list[Problem]:  # fmt: skip
    """Points outside their declared country.

    A prepared containment test per point; the detailed (slow) check only for the few outside.
    """
    at = np.flatnonzero(on & (col.tag == STR))
    at = at[_isin(col.values[at], codes())]
    if not len(at):
        return []
    table = countries()
    shapes = table.geometry.to_numpy()[table.index.get_indexer(col.values[at])]
    inside = shapely.intersects(shapes, geoms[at])
    out = []
    for i in at[~inside]:
        g = geoms[i]
        why = check_point(g.x, g.y, col.values[i])
        if why:
            out.append(Problem(path, why, fids[i], int(i), "country"))
    return out


def _columns(given: dict[str, np.ndarray], names: list[str], n: int) -> dict[str, Column]:
    """Every property's column, missing values (NaN, blank text) set to None.

    The reader's columns are copied, never changed; a field no feature has is all None.
    """
    cols = {}
    for name in [*given, *(n for n in names if n not in given)]:
        if name not in given:
            cols[name] = Column(object_array([None] * n), np.full(n, ABSENT, np.int8))
            continue
        values = given[name].copy()
        col = cols[name] = Column(values, tags(values))
        values[col.tag == ABSENT] = None
        blank = np.flatnonzero(_blank(col))
        col.replace(blank, object_array([None] * len(blank)))
    return cols


def validate_raw(
    raw: RawLayer, *, kind: str | None = None, check_countries: bool = True
) -> tuple[str, list[Problem], Sequence[dict[str, Any]]]:
    """Check raw records against a kind; return (kind, problems, normalised properties).

    The properties are one dict per feature (:class:`~geo.data.readers.ColumnRows`, each built
    when asked for); :func:`validate_columns` gives the same as columns.
    """
    kind, problems, columns = validate_columns(raw, kind=kind, check_countries=check_countries)
    rows = raw.props if columns is None else ColumnRows(columns, len(raw.props))
    return kind, problems, rows


def validate_columns(
    raw: RawLayer, *, kind: str | None = None, check_countries: bool = True
) -> tuple[str, list[Problem], dict[str, np.ndarray] | None]:
    """Check raw records against a kind; return (kind, problems, normalised property columns).

    The columns are the layer's property names in order of first appearance, each an object
    array with :data:`~geo.data.readers.MISSING` where a feature lacks the name (None when the
    kind is unknown). :func:`properties_frame` makes them a DataFrame.
    """
    problems = list(raw.problems)
    if kind is None:
        kind = detect_kind(raw)
        if kind is None:
            problems.append(
                Problem(raw.path, "cannot tell the layer kind from geometry and properties",
                        field="kind", fix=f"pass --kind (one of {', '.join(KINDS)})")
            )  # fmt: skip
            return "unknown", problems, None
    elif kind not in SCHEMA:
        problems.append(
            Problem(raw.path, f"unknown kind '{kind}'", field="kind",
                    fix=f"use one of {', '.join(KINDS)}")
        )  # fmt: skip
        return kind, problems, None
    k = SCHEMA[kind]
    n = len(raw.props)
    given = raw.columns if raw.columns is not None else property_columns(raw.props)
    cols = _columns(given, [f.name for f in k.fields], n)
    fids = _ids(cols["id"])
    named = np.flatnonzero(_not_none(fids))
    cols["id"].replace(named, fids[named])  # ids given as numbers become text
    geoms = object_array(raw.geoms)
    if len(geoms) != n:
        msg = f"{raw.path}: {len(geoms)} geometries for {n} features"
        raise ValueError(msg)
    # One message dict per check, in the order a feature's lines are printed.
    found = [_geometry_problems(k, geoms), _duplicates(fids)]
    # A value already refused while reading (too long, too deep, broken Unicode) is not
    # checked again: one line per problem; a row with cells out of place is not checked at all.
    broken = np.zeros(n, bool)
    broken[[p.index for p in raw.problems if p.field == "row" and p.index is not None]] = True
    ctx = Context(codes())
    for f in k.fields:
        skip = broken.copy()
        skip[[p.index for p in raw.problems if p.field == f.name and p.index is not None]] = True
        found.append(_field_problems(f, cols[f.name], skip, ctx))
    names = ["geometry", "id", *(f.name for f in k.fields)]
    per_row = sorted((i, j, what) for j, by_row in enumerate(found) for i, what in by_row.items())
    problems += [Problem(raw.path, what, fids[i], i, names[j]) for i, j, what in per_row]
    if check_countries and k.field("country"):
        points = shapely.get_type_id(geoms) == _TYPE_ID["Point"]
        points[list(found[0])] = False
        problems += _country_problems(raw.path, fids, geoms, cols["country"], points)
    problems.sort(key=lambda p: p.index if p.index is not None else -1)
    out = {}
    for name in given:
        values = cols[name].values
        values[cols[name].tag == ABSENT] = MISSING
        out[name] = values
    return kind, problems, out


def _missing(values: np.ndarray) -> np.ndarray:
    """Which cells hold :data:`~geo.data.readers.MISSING` (by identity, one C call per cell).

    ``values == MISSING`` would ask each cell's own ``__eq__`` first (text, lists) and only
    then fall back to identity: five times slower for the same answer.
    """
    return np.fromiter(map(operator.is_, values, itertools.repeat(MISSING)), bool, len(values))


def properties_frame(columns: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """Property columns as the DataFrame that one dict per feature would give.

    A :data:`~geo.data.readers.MISSING` cell becomes NaN, and each column gets the dtype pandas
    infers for it (text, numbers, booleans, else object), as ``pd.DataFrame(list_of_dicts)``
    does, without a dict per feature.

    >>> from geo.data.readers import MISSING
    >>> cols = {"a": object_array([1, MISSING]), "b": object_array(["x", "y"])}
    >>> frame = properties_frame(cols, 2)
    >>> frame["a"].tolist(), frame["a"].dtype.kind, frame["b"].tolist()
    ([1.0, nan], 'f', ['x', 'y'])
    """
    data = {}
    for name, values in columns.items():
        cells = values.copy()
        if pd.api.types.infer_dtype(values, skipna=False) != "string":  # texts hold no MISSING
            cells[_missing(values)] = np.nan
        data[name] = pd.Series(cells, dtype=object, copy=False).infer_objects()
    # the Series are made here from copies: the frame may take them as they are
    return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)
