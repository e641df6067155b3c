"""Property tests (hypothesis) over the real bundled network and random queries."""

from __future__ import annotations

import datetime as dt
import difflib
import math
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.validation import explain_validity

from geo.analysis.network import load_network
from geo.analysis.routing import find_route, make_constraints
from geo.analysis.stats import route_stats
from geo.data.readers import HugeInt, RawLayer, strict_float, strict_int, to_list, value_problem
from geo.data.schema import KINDS, MODES, SCHEMA, Field, Kind
from geo.data.validate import detect_kind, validate_raw
from geo.errors import Problem, RouteError

NET = load_network()
# named places on a line (rail junctions are vertices of the graph, not places a user names)
NODES = sorted(
    n for n, d in NET.graph.nodes(data=True) if NET.graph.degree(n) > 0 and d["kind"] != "junction"
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pairs = st.tuples(st.sampled_from(NODES), st.sampled_from(NODES)).filter(lambda p: p[0] != p[1])
avoids = st.lists(st.sampled_from(["RUS", "CHN", "IRN", "KAZ", "suez", "bosporus", "hormuz"]),
                  max_size=2, unique=True)  # fmt: skip
modes = st.sets(st.sampled_from(MODES), min_size=1).map(sorted)
statuses = st.sampled_from([None, ["all"]])


def attempt(a: str, b: str, avoid: list[str], mode: list[str] | None, status: list[str] | None):
    try:
        r = find_route(NET, a, b, constraints=make_constraints(avoid, mode, status))
    except RouteError as e:
        msg = str(e)
        assert msg and "\n" not in msg
        return None
    return r


@SETTINGS
@given(pairs, avoids, modes, statuses)
@example(("aktau_port", "mangyshlak"), [], ["rail"], None)  # 13 km: 0.1 day, was rounded to 0
def test_route_invariants(pair, avoid, mode, status) -> None:
    r = attempt(*pair, avoid, mode, status)
    if r is None:
        return
    s = route_stats(r, network=NET)
    assert r.legs and s["length_km"] > 0  # never an empty or 0 km route
    assert s["length_km"] == pytest.approx(sum(leg.length_km for leg in r.legs), abs=0.2)
    assert sum(s["length_km_by_country"].values()) + s["sea_km"] == pytest.approx(
        s["length_km"], abs=0.5
    )
    assert sum(s["length_km_by_mode"].values()) == pytest.approx(s["length_km"], abs=0.5)
    assert set(s["length_km_by_mode"]) <= set(mode)
    for leg_a, leg_b in zip(r.legs, r.legs[1:], strict=False):
        assert leg_a.to_id == leg_b.from_id  # legs chain
    if "RUS" in avoid:
        assert s["russia_km"] == 0 and not s["transits_russia"]
    for code in avoid:
        if code.isupper():
            assert code not in s["countries"]
        else:
            assert code not in s["chokepoints"]
    low, high = s["transit_days"]["low"], s["transit_days"]["high"]
    assert 0 < low <= high
    assert sum(s["precision_share"].values()) == pytest.approx(1.0, abs=0.01)


@SETTINGS
@given(pairs)
def test_reversed_route_has_the_same_length(pair) -> None:
    a, b = pair
    fwd = attempt(a, b, [], None, ["all"])
    if fwd is None:
        return
    back = attempt(b, a, [], None, ["all"])
    assert back is not None
    assert sum(x.length_km for x in back.legs) == pytest.approx(
        sum(x.length_km for x in fwd.legs), abs=0.1
    )


@SETTINGS
@given(st.sampled_from(NODES))
def test_impossible_constraint_is_a_clear_error(node) -> None:
    country = NET.graph.nodes[node]["country"]
    other = next(n for n in NODES if NET.graph.nodes[n]["country"] != country)
    with pytest.raises(RouteError, match=f"lies in {country}|no route from"):
        find_route(NET, other, node, constraints=make_constraints([country]))


# --- validation: the column checks against the value-by-value reference --------------------------
# The reference is the validator as it was before the checks went per column (issue 14), kept
# here verbatim as the oracle: same kind, same problems in the same order, same normalised rows.

_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}


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
            from geo.data.countries import alpha2_to_alpha3

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


def reference_validate(
    raw: RawLayer, *, kind: str | None = None, check_countries: bool = True
) -> tuple[str, list[Problem], list[dict[str, Any]]]:
    """Check raw records against a kind; return (kind, problems, normalised properties)."""
    from geo.data.countries import check_point, codes

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
    from geo.data.countries import countries_at

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


HOSTILE = [None, math.nan, "", "  ", [], {}, {"a": [1]}, [[["x"]]], HugeInt(400), True, False, 0,
           1, 1.0, 1.5, math.inf, -3, 2**70, 10**320, "1520", "1_520", " 12.5 ", "1e301", "nan",
           "yes", "N", "2024-02-30", "2024/01/31", "2024-01-31T10:00", "kaz", "KZ", " KAZ ",
           "ftp://x", "https://a", "doi: 10.1/x", "mailto:a@b c://d", "gold;copper", '["gold"]',
           ["gold", 1], ["gold", ["x"]], ["gld"], "\ud800", "x" * 10_001, np.array(["gold"]),
           "rial", "rail", 1435, 1520.0, "mine", "exact"]  # fmt: skip
GEOMS = [shapely.Point(76.9, 43.2), shapely.Point(43.2, 76.9), shapely.Point(0.0, 0.0),
         shapely.Point(), None, shapely.LineString([(70, 40), (71, 41)]),
         shapely.LineString([(70, 40), (70, 40)]),
         shapely.Polygon([(60, 40), (61, 41), (61, 40), (60, 41)]),
         shapely.Polygon([(60, 40), (61, 40), (61, 41)])]  # fmt: skip


def _field_value(name: str) -> st.SearchStrategy[Any]:
    fields = {f.name: f for k in SCHEMA.values() for f in k.fields}
    good = list(fields[name].choices) if name in fields else []
    return st.sampled_from([*HOSTILE, *good, f"{name}-1"])


@st.composite
def raw_layers(draw: st.DrawFn) -> RawLayer:
    names = sorted({f.name for k in SCHEMA.values() for f in k.fields} | {"extra"})
    n = draw(st.integers(1, 8))
    raw = RawLayer("layer.geojson")
    for i in range(n):
        keys = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        raw.props.append({k: draw(_field_value(k)) for k in keys})
        raw.geoms.append(draw(st.sampled_from(GEOMS)))
        if draw(st.integers(0, 9)) == 0 and keys:  # a value refused while reading
            raw.problems.append(Problem(raw.path, "refused", None, i, draw(st.sampled_from(keys))))
        if draw(st.integers(0, 14)) == 0:  # a row with cells out of place
            raw.problems.append(Problem(raw.path, "row", None, i, "row"))
    return raw


def shown(rows: Any) -> str:
    """Rows as text: the same values and types (1 is not 1.0 or True), keys in name order.

    Validation gives each row's keys in the layer's column order, the reference in the
    feature's own; a frame made of either is the same.
    """
    return repr([sorted(r.items(), key=lambda kv: kv[0]) for r in rows])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_layers(), st.sampled_from([None, *KINDS]), st.booleans())
def test_column_validation_equals_the_value_by_value_reference(raw, kind, countries) -> None:
    want = reference_validate(raw, kind=kind, check_countries=countries)
    got = validate_raw(raw, kind=kind, check_countries=countries)
    assert got[0] == want[0]
    assert [str(p) for p in got[1]] == [str(p) for p in want[1]]
    assert got[1] == want[1]
    assert shown(got[2]) == shown(want[2])


@st.composite
def repeating_layers(draw: st.DrawFn) -> RawLayer:
    """Up to 60 rows drawn from a few values per field: every cell of a column present or
    every cell text, values repeated, as real layers are (the checks' per-distinct paths)."""
    names = sorted({f.name for k in SCHEMA.values() for f in k.fields})
    pool = {k: draw(st.lists(_field_value(k), min_size=1, max_size=3)) for k in names}
    keys = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    raw = RawLayer("layer.geojson")
    for _ in range(draw(st.integers(1, 60))):
        raw.props.append({k: draw(st.sampled_from(pool[k])) for k in keys})
        raw.geoms.append(draw(st.sampled_from(GEOMS[:3])))
    return raw


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repeating_layers(), st.sampled_from([None, *KINDS]))
def test_column_validation_of_repeated_values_equals_the_reference(raw, kind) -> None:
    want = reference_validate(raw, kind=kind, check_countries=True)
    got = validate_raw(raw, kind=kind, check_countries=True)
    assert got[0] == want[0]
    assert [str(p) for p in got[1]] == [str(p) for p in want[1]]
    assert shown(got[2]) == shown(want[2])


def test_reference_finds_problems_in_hostile_rows() -> None:
    """The oracle is not vacuous: a hostile layer gives many problems, equal on both sides."""
    raw = RawLayer("layer.geojson")
    for i, v in enumerate(HOSTILE):
        raw.props.append(dict.fromkeys(("id", "name", "source", "as_of", "country", "kind", "commodities", "status", "output_value", "output_year", "location_precision"), v))  # fmt: skip
        raw.geoms.append(GEOMS[i % len(GEOMS)])
    want = reference_validate(raw, kind="deposit")
    got = validate_raw(raw, kind="deposit")
    assert len(want[1]) > 3 * len(HOSTILE)
    assert got[1] == want[1]
    assert shown(got[2]) == shown(want[2])
