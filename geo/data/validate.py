"""Validation of raw records against the schema: every problem at once, one line each.

The checks read :mod:`geo.data.schema`; nothing here hard-codes a field of a particular kind except
the geometry and country checks.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections import Counter
from typing import Any

import numpy as np
import shapely
from shapely.validation import explain_validity

from ..errors import Problem
from .countries import alpha2_to_alpha3, check_point, codes, countries_at
from .readers import HugeInt, RawLayer, strict_float, strict_int, to_list, value_problem
from .schema import KINDS, SCHEMA, Field, Kind

_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}


def detect_kind(raw: RawLayer) -> str | None:
    """Guess the kind from geometry types, else from properties; None when it cannot tell."""
    types = Counter(g.geom_type for g in raw.geoms if g is not None and not g.is_empty)
    top = types.most_common(1)[0][0] if types else None
    for kind in ("segment", "area"):
        if top in SCHEMA[kind].geometries:
            return kind
    keys = Counter(k for p in raw.props for k in p)
    if keys["commodities"] or keys["location_precision"]:
        return "deposit"
    if keys["gauge_change"] or keys["kind"]:
        return "node"
    if top is None and (keys["mode"] or keys["corridor"]):
        return "segment"
    return None


def _suggest(value: str, choices: tuple[object, ...]) -> str:
    words = [str(c) for c in choices]
    close = difflib.get_close_matches(value.lower(), words, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else f"; use one of {', '.join(words)}"


def _missing(v: Any) -> bool:
    return (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, str) and not v.strip())
    )


def _show(value: Any, n: int = 60) -> str:
    """A value's repr for a message, cut to n characters."""
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


def _check_field(f: Field, value: Any, country_codes: set[str]) -> tuple[Any, str | None]:
    """Normalised value and a problem ('what; how to fix') or None."""
    if f.type == "list":
        value = to_list(value)
        if not isinstance(value, list):
            return value, f"expected a list, got {_show(value)}; write a JSON list or 'a;b'"
        if why := value_problem(value):
            return value, why
        if f.required and not value:
            return value, "is an empty list; give at least one value"
        for item in value:
            if f.choices and item not in f.choices:
                return (
                    value,
                    f"{_show(item)} is not one of {', '.join(map(str, f.choices))}"
                    + _suggest(str(item), f.choices),
                )
        return value, None
    if f.type == "int":
        if isinstance(value, bool):
            return value, f"expected a whole number, got {_show(value)}"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            parsed = strict_int(value)
            if parsed is None:
                return value, f"expected a whole number such as 1520, got {_show(value)}"
            value = parsed
        if not isinstance(value, int):
            return value, f"expected a whole number, got {_show(value)}"
    elif f.type == "number":
        if isinstance(value, str):
            number = strict_float(value)
            if number is None:
                return value, f"expected a number such as 12.5, got {_show(value)}"
            value = number
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or abs(value) > 1e300
            or not math.isfinite(value)
        ):
            return value, f"expected a finite number, got {_show(value)}"
    elif f.type == "bool":
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            value = value.strip().lower() in _TRUE
        elif isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
            value = bool(value)
        if not isinstance(value, bool):
            return value, f"expected true or false, got {_show(value)}"
    elif f.type == "date":
        text = str(value)[:10].replace("/", "-")  # Shapefile dates come as YYYY/MM/DD
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return value, f"{_show(value)} is not an ISO date; write YYYY-MM-DD"
        value = text
    elif f.type == "country":
        value = str(value).strip()
        if value not in country_codes:
            a3 = alpha2_to_alpha3().get(value.upper())
            hint = (
                f"; did you mean '{a3}'?" if a3 else "; use an ISO 3166-1 alpha-3 code such as KAZ"
            )
            return value, f"{_show(value)} is not an ISO 3166-1 alpha-3 country code{hint}"
    elif f.type == "url_or_text":
        value = str(value).strip()
        low = value.lower()
        if ":" in low.split()[0] and not low.startswith(("http://", "https://")) and "://" in low:
            return value, f"'{value[:40]}' is not an http(s) URL; cite an http(s) URL or a text"
    elif f.type == "str":
        if isinstance(value, list | dict):
            return value, f"expected text, got {type(value).__name__}"
        value = str(value) if not isinstance(value, str) else value
    if f.choices and value not in f.choices:
        return value, f"{_show(value)} is not one of {', '.join(map(str, f.choices))}" + _suggest(
            str(value), f.choices
        )
    return value, None


def _geometry_problem(kind: Kind, g: Any) -> str | None:
    if g is None:
        return None  # reported while reading
    if g.is_empty:
        return "geometry is empty; give the feature coordinates"
    if g.geom_type not in kind.geometries:
        return (
            f"geometry {g.geom_type} does not fit a {kind.name} layer "
            f"(expects {' or '.join(kind.geometries)}); split the file by kind or pass --kind"
        )
    if not g.is_valid:
        why = explain_validity(g)
        return f"invalid geometry: {why}; fix the ring (e.g. shapely.make_valid)"
    if g.geom_type in ("LineString", "MultiLineString") and shapely.length(g) == 0:
        return "line of zero length; give it at least two distinct vertices"
    return None


def validate_raw(
    raw: RawLayer, *, kind: str | None = None, check_countries: bool = True
) -> tuple[str, list[Problem], list[dict[str, Any]]]:
    """Check raw records against a kind; return (kind, problems, normalised properties)."""

    problems = list(raw.problems)
    # A value already refused while reading (too long, too deep, broken Unicode) is not
    # checked again: one line per problem.
    refused = {(p.index, p.field) for p in raw.problems}
    broken_rows = {p.index for p in raw.problems if p.field == "row"}  # cells out of place
    if kind is None:
        kind = detect_kind(raw)
        if kind is None:
            problems.append(
                Problem(raw.path, "cannot tell the layer kind from geometry and properties",
                        field="kind", fix=f"pass --kind (one of {', '.join(KINDS)})")
            )  # fmt: skip
            return "unknown", problems, raw.props
    elif kind not in SCHEMA:
        problems.append(
            Problem(raw.path, f"unknown kind '{kind}'", field="kind",
                    fix=f"use one of {', '.join(KINDS)}")
        )  # fmt: skip
        return kind, problems, raw.props
    k = SCHEMA[kind]
    country_codes = codes()
    seen: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    point_checks: list[tuple[int, str | None, float, float, str]] = []
    for i, (props, g) in enumerate(zip(raw.props, raw.geoms, strict=True)):
        fid = (
            None
            if _missing(props.get("id")) or isinstance(props["id"], HugeInt)
            else str(props["id"])
        )
        norm = {
            key: (None if _missing(v) and not isinstance(v, list) else v)
            for key, v in props.items()
        }

        def add(field: str, what: str, i: int = i, fid: str | None = fid) -> None:
            problems.append(Problem(raw.path, what, fid, i, field))

        gp = _geometry_problem(k, g)
        if gp:
            add("geometry", gp)
        if fid is not None:
            norm["id"] = fid
            if fid in seen:
                add(
                    "id",
                    f"duplicate id '{fid}' (also feature #{seen[fid]}); "
                    "give each feature a unique id",
                )
            else:
                seen[fid] = i
        for f in k.fields:
            if (i, f.name) in refused or i in broken_rows:
                continue
            value = norm.get(f.name)
            if value is None or (isinstance(value, list) and not value and not f.required):
                if f.required and not (f.nullable and f.name in norm):
                    add(f.name, f"missing required property '{f.name}' ({f.doc}); add it")
                continue
            value, problem = _check_field(f, value, country_codes)
            norm[f.name] = value
            if problem:
                add(f.name, problem)
        out.append(norm)
        if (
            check_countries
            and g is not None
            and not gp
            and g.geom_type == "Point"
            and k.field("country")
            and isinstance(norm.get("country"), str)
            and norm["country"] in country_codes
        ):
            point_checks.append((i, fid, g.x, g.y, norm["country"]))
    if point_checks:
        problems.extend(_country_problems(raw.path, point_checks, check_point))
    problems.sort(key=lambda p: p.index if p.index is not None else -1)
    return kind, problems, out


def _country_problems(
    path: str, checks: list[tuple[int, str | None, float, float, str]], check_point: Any
) -> list[Problem]:

    xs = np.array([c[2] for c in checks])
    ys = np.array([c[3] for c in checks])
    found = countries_at(xs, ys)
    out = []
    for (i, fid, x, y, code), where in zip(checks, found, strict=True):
        if where == code:
            continue  # the vectorised fast path: most points are inside their country
        why = check_point(x, y, code)
        if why:
            out.append(Problem(path, why, fid, i, "country"))
    return out
