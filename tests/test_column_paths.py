"""The column shortcuts of the reader and validator against the cell-by-cell way (issue 19).

Reading and validating a big layer takes shortcuts for the usual column (one type in every
cell, a few texts repeated, every feature a plain point with the same property names). Each
shortcut must answer exactly as the general way, which is kept here as the reference, for
hostile mixes as well as for the usual case.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.data import readers, validate
from geo.data.readers import MISSING, Interner, object_array, property_columns, property_names
from geo.data.validate import properties_frame
from geo.errors import GeoError

PATH = Path("layer.geojson")

SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Text(str):
    """A text of a subclass: equal to a plain text, yet not of type ``str``."""


CELLS = st.one_of(
    st.sampled_from(["mine", "field", "", " ", "\t", "1", "True", "é", "KAZ", "gold", "x" * 30]),
    st.text(max_size=3),
    st.integers(-2, 2),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.just(MISSING),
    st.just(Text("mine")),
    st.lists(st.sampled_from(["mine", "gold"]), max_size=2),
    st.dictionaries(st.just("a"), st.integers(0, 1), max_size=1),
    st.just(np.float64(1.5)),
)


@st.composite
def columns(draw: st.DrawFn, cells: st.SearchStrategy[Any] = CELLS) -> list[Any]:
    """A column: a few values repeated (often of one type), sometimes a stray cell or two."""
    pool = draw(st.lists(cells, min_size=1, max_size=4))
    n = draw(st.sampled_from([1, 5, 40, 1100]))
    out = [pool[i % len(pool)] for i in range(n)]
    for _ in range(draw(st.integers(0, 2))):
        out[draw(st.integers(0, n - 1))] = draw(cells)
    return out


TEXTS = st.one_of(
    st.sampled_from(["producing", "closed", "KAZ", "kaz", "", " ", " \u3000", "x" * 10_001]),
    st.text(max_size=3),
)


# --- the reader -----------------------------------------------------------------------------------


def reference_kinds(values: np.ndarray) -> np.ndarray:
    kinds = map(readers._KIND_OF_TYPE.get, map(type, values), itertools.repeat(readers._OTHER))
    return np.fromiter(kinds, dtype=np.int8, count=len(values))


def reference_tags(values: np.ndarray) -> np.ndarray:
    n = len(values)
    tags = map(validate._TAG_OF_TYPE.get, map(type, values), itertools.repeat(-1, n))
    out = np.fromiter(tags, np.int8, n)
    for i in np.flatnonzero(out < 0):
        out[i] = validate._tag(values[i])
    return out


@SLOW
@given(columns())
def test_kinds_and_tags_of_a_column_are_those_of_each_cell(cells: list[Any]) -> None:
    values = object_array(cells)
    assert readers._kinds(values).tolist() == reference_kinds(values).tolist()
    assert validate.tags(values).tolist() == reference_tags(values).tolist()


def reference_simple_points(geoms: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The feature-by-feature test the shortcut stands in for."""
    rows = [
        i
        for i, g in enumerate(geoms)
        if type(g) is dict
        and g.get("type") == "Point"
        and type(c := g.get("coordinates")) is list
        and len(c) == 2
    ]
    flat = object_array(itertools.chain.from_iterable(geoms[i]["coordinates"] for i in rows))
    kind = reference_kinds(flat)
    numeric = ((kind == readers._FLOAT) | (kind == readers._INT)).reshape(-1, 2).all(axis=1)
    xy = flat.reshape(-1, 2)[numeric].astype(float)
    return np.asarray(rows, dtype=np.int64)[numeric], xy.reshape(-1, 2)


COORDINATE = st.one_of(
    st.floats(-200, 200), st.integers(-(2**63), 2**63 - 1), st.booleans(), st.none(),
    st.just("1.5"), st.just(Text("1")),
)  # fmt: skip
GEOMETRY = st.one_of(
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, COORDINATE, COORDINATE),
    st.sampled_from([
        None, "Point", {"type": "Point", "coordinates": [1.5]}, {"type": "Point"},
        {"type": "Point", "coordinates": [1.5, 2.5, 3.5]}, {"type": "Point", "coordinates": (1, 2)},
        {"type": Text("Point"), "coordinates": [1.5, 2.5]},
        {"type": "LineString", "coordinates": [[60, 40], [61, 41]]},
    ]),
)  # fmt: skip


@SLOW
@given(columns(GEOMETRY), st.floats(-180, 180), st.floats(-90, 90))
def test_plain_points_are_found_as_feature_by_feature(geoms: list[Any], x: float, y: float) -> None:
    for cells in (geoms, [{"type": "Point", "coordinates": [x, y]}] * len(geoms)):
        cells = [json.loads(json.dumps(g)) if type(g) is dict else g for g in cells]
        rows, xy = readers._simple_points(cells)
        want_rows, want_xy = reference_simple_points(cells)
        assert rows.tolist() == want_rows.tolist()
        assert xy.tolist() == want_xy.tolist()
        assert xy.dtype == want_xy.dtype and xy.shape == want_xy.shape


NAMES = st.sampled_from(["id", "name", "status", "commodities", "a"])


def typed_cells(values: Any) -> list[tuple[type, str]]:
    return [(type(v), repr(v)) for v in values]


@SLOW
@given(
    st.lists(
        st.lists(st.dictionaries(NAMES, CELLS, max_size=4), min_size=1, max_size=6),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([1, 3, 700]),
)
def test_a_chunk_gives_the_columns_and_shared_texts_of_the_old_way(
    chunks: list[list[dict[str, Any]]], repeat: int
) -> None:
    """Columns made and shared at once equal columns made, then shared (chunk after chunk)."""
    share, old = Interner(), Interner()
    for rows in chunks:
        props = [{k: "".join(v) if type(v) is str else v for k, v in r.items()} for r in rows]
        props *= repeat
        got, fresh = readers._chunk_columns(props, share)
        want = property_columns(props, property_names(props))
        assert list(got) == list(want)
        for name in want:
            old_fresh = old(name, want[name])
            new_fresh = fresh[name] if name in fresh else share(name, got[name])
            assert new_fresh == old_fresh
            assert typed_cells(got[name]) == typed_cells(want[name])
        assert share.canon == old.canon and share.lists == old.lists and share.seen == old.seen


FEATURE = st.fixed_dictionaries(
    {},
    optional={
        "properties": st.one_of(st.none(), st.just([1]), st.dictionaries(NAMES, CELLS, max_size=3)),
        "id": st.one_of(st.none(), st.text(max_size=2), st.integers(0, 3)),
    },
)


def reference_fast_props(feats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    props = [p if type(p) is dict else {} for p in (f.get("properties") for f in feats)]
    for i, f in enumerate(feats):
        if f.get("id") is not None and "id" not in props[i]:
            props[i] = {**props[i], "id": f["id"]}
    return props


@SLOW
@given(st.lists(FEATURE, min_size=1, max_size=8))
def test_properties_of_a_chunk_take_the_top_level_id_as_before(
    feats: list[dict[str, Any]],
) -> None:
    got = readers._fast_props(feats)
    assert [(type(p), p) for p in got] == [(type(p), p) for p in reference_fast_props(feats)]


class ReferenceInterner(Interner):
    """The interner as it was: each distinct list of a chunk hashed, then looked up again."""

    def _share_lists(
        self, name: str, canon: dict[str, str], values: np.ndarray, at: np.ndarray
    ) -> bool:
        if not len(at):
            return False
        made = self.lists.setdefault(name, {})
        tuples = list(map(tuple, values[at]))
        try:
            distinct = dict.fromkeys(tuples)
        except TypeError:
            return False
        for t in distinct:
            if t not in made:
                if not all(type(x) is str for x in t):
                    return False
                made[t] = tuple(map(canon.setdefault, t, t))
        values[at] = object_array(list(map(list, map(made.__getitem__, tuples))))
        return True


LISTS = st.one_of(
    st.lists(st.sampled_from(["gold", "copper", "", "x"]), max_size=3),
    st.just(["gold", 1]),
    st.just(["gold", ["x"]]),
    st.just([Text("gold")]),
    st.sampled_from(["gold", None, 1]),
)


@SLOW
@given(st.lists(st.lists(LISTS, min_size=1, max_size=30), min_size=1, max_size=6))
def test_lists_are_shared_as_before(chunks: list[list[Any]]) -> None:
    new, old = Interner(), ReferenceInterner()
    for cells in chunks:
        a = object_array([list(v) if type(v) is list else v for v in cells])
        b = object_array([list(v) if type(v) is list else v for v in cells])
        assert new("c", a) == old("c", b)
        assert [(type(v), repr(v)) for v in a] == [(type(v), repr(v)) for v in b]
        assert new.canon == old.canon and new.lists == old.lists and new.seen == old.seen


# --- validation -----------------------------------------------------------------------------------


def reference_isin(values: np.ndarray, choices: Any) -> np.ndarray:
    return np.asarray(pd.Series(values, dtype=object).isin(choices), dtype=bool)


def reference_unique_mask(
    values: np.ndarray, test: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    found: np.ndarray = np.asarray(test(object_array(uniques)), dtype=bool)[codes]
    return found


def reference_blank(values: np.ndarray) -> np.ndarray:
    return np.array([(isinstance(v, str) and not v.strip())
                     or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool)  # fmt: skip


HASHABLE = st.one_of(TEXTS, st.integers(-1, 1), st.booleans(), st.none(), st.just(Text("KAZ")))


@SLOW
@given(columns(HASHABLE), st.sampled_from([("producing", "closed"), {"KAZ", 1}, ("", " ")]))
def test_membership_of_repeated_texts_is_that_of_each_cell(cells: list[Any], choices: Any) -> None:
    values = object_array(cells)
    assert validate._isin(values, choices).tolist() == reference_isin(values, choices).tolist()

    def short(u: np.ndarray) -> np.ndarray:
        return np.array([len(str(v)) < 4 for v in u], dtype=bool)

    got = validate._unique_mask(values, short)
    assert got.tolist() == reference_unique_mask(values, short).tolist()
    tag = validate.tags(values)
    blank = validate._blank(validate.Column(values, tag))
    assert blank.tolist() == reference_blank(values).tolist()
    not_none = [v is not None for v in cells]
    assert validate._not_none(values).tolist() == not_none


def test_a_column_of_repeated_texts_takes_the_shortcut_and_finds_the_odd_one() -> None:
    """The tests above are not vacuous: a big column of few texts is judged by its values."""
    cells = ["producing", "closed"] * 600
    values = object_array(cells)
    assert validate._few_distinct(values) == ["producing", "closed"]
    assert validate._few_distinct(object_array([f"d{i}" for i in range(1200)])) is None
    values[1111] = " "
    assert validate._blank(validate.Column(values, validate.tags(values))).sum() == 1
    assert np.flatnonzero(~validate._isin(values, ("producing", "closed"))).tolist() == [1111]


def reference_properties_frame(columns: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    data = {}
    for name, values in columns.items():
        cells = values.copy()
        cells[[v is MISSING for v in values]] = np.nan
        data[name] = pd.Series(cells, dtype=object, copy=False).infer_objects()
    return pd.DataFrame(data, index=pd.RangeIndex(n))


@SLOW
@given(st.lists(columns(), min_size=1, max_size=3))
def test_the_frame_of_columns_is_as_before(cols: list[list[Any]]) -> None:
    n = min(map(len, cols))
    given_ = {f"c{i}": object_array(c[:n]) for i, c in enumerate(cols)}
    pd.testing.assert_frame_equal(
        properties_frame(given_, n), reference_properties_frame(given_, n)
    )


# --- whole layers ---------------------------------------------------------------------------------


def deposits(n: int, odd: dict[str, Any]) -> bytes:
    statuses = ["producing", "development", "exploration", "closed", "unknown"]
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [66.5 + i % 13, 45.25 + i % 5]},
            "properties": {
                "id": f"d{i}",
                "name": f"Deposit {i}",
                "commodities": ["gold", "copper"][: 1 + i % 2],
                "kind": "mine",
                "status": statuses[i % 5],
                "country": "KAZ",
                "location_precision": "exact",
                "source": "https://example.org",
                "as_of": "2020-01-01",
            },
        }
        for i in range(n)
    ]
    for i, (key, value) in enumerate(odd.items()):
        feats[(i * 797 + 1000) % n]["properties"][key] = value
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


ODD = [
    {},
    {"status": "Producing"},
    {"status": " "},
    {"kind": ""},
    {"country": "kz"},
    {"commodities": ["gold", "gld"]},
    {"as_of": "2020-02-30"},
    {"location_precision": None},
    {"status": 3, "kind": ["mine"]},
    {"name": "\t"},
]


@pytest.mark.parametrize("odd", ODD, ids=lambda d: ",".join(f"{k}={v!r}" for k, v in d.items()))
def test_a_big_layer_with_an_odd_value_gets_the_lines_of_the_careful_way(
    odd: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000 features: every shortcut taken, and the one odd value reported as before."""
    path = tmp_path / "layer.geojson"
    path.write_bytes(deposits(3000, odd))
    fast = readers.read_raw(path)
    assert fast.columns is not None
    problems = [str(p) for p in validate.validate_columns(fast)[1]]
    careful = readers._read_geojson_careful(path, path.read_bytes())
    assert [str(p) for p in fast.problems] == [str(p) for p in careful.problems]
    monkeypatch.setattr(validate, "_GLANCE", 10**9)  # no shortcut for repeated texts
    assert problems == [str(p) for p in validate.validate_columns(careful)[1]]
    assert bool(problems) == bool(odd)
    assert shapely.get_coordinates(np.array(fast.geoms)).tolist() == [
        [66.5 + i % 13, 45.25 + i % 5] for i in range(3000)
    ]
    assert fast.columns["status"][0] is fast.columns["status"][5]  # one shared text


# --- the scan over the bytes --------------------------------------------------------------------

JSON_TEXT = st.text(alphabet=st.sampled_from(list('ab"\\[]{}0123456789 é')), max_size=12)
JSON_DOC = st.recursive(
    st.one_of(JSON_TEXT, st.integers(-(10**25), 10**25), st.booleans(), st.none()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_TEXT, inner, max_size=4),
    max_leaves=30,
)


def reference_places(data: bytes) -> tuple[list[int], list[int], list[int]]:
    """Opens and closes of depth-2 arrays, starts of depth-3 objects: byte by byte."""
    opens, closes, starts = [], [], []
    depth, in_string, escaped = 0, False, False
    for i, byte in enumerate(data):
        ch = chr(byte)
        if in_string:
            in_string = escaped or ch != '"'
            escaped = not escaped and ch == "\\"
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth == 2 and ch == "[":
                opens.append(i)
            if depth == 3 and ch == "{":
                starts.append(i)
        elif ch in "]}":
            if depth == 2 and ch == "]":
                closes.append(i)
            depth -= 1
    return opens, closes, starts


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(JSON_TEXT, JSON_DOC, max_size=4), st.sampled_from([1, 2, 3, 7, 64]))
def test_the_scan_finds_the_places_of_a_plain_walk(doc: dict[str, Any], chunk: int) -> None:
    data = json.dumps(doc, ensure_ascii=False).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "_SCAN_CHUNK", chunk)
        found = readers.scan(data)
    opens, closes, starts = reference_places(data)
    assert (found.opens, found.closes, found.starts.tolist()) == (opens, closes, starts)


@pytest.mark.parametrize("space", [b"\x0b", b"\x0c", b"\xc2\xa0"])
def test_a_space_json_does_not_allow_between_features_is_refused(space: bytes) -> None:
    """Only JSON's white space may stand between two features, even where a chunk ends."""
    feature = b'{"type": "Feature", "properties": {"id": "a"}, "geometry": null}'
    data = b'{"type": "FeatureCollection", "features": [' + feature + b"," + space
    data += b"\n" + feature + b"]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "_FEATURE_CHUNK", 1)
        assert readers._read_geojson_fast(PATH, data) is None
    with pytest.raises(GeoError, match="malformed JSON"):
        readers._read_geojson_careful(PATH, data)
