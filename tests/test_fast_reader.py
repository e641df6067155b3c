"""The fast GeoJSON reader (orjson, checks per column) against the careful one (issue 19).

The careful reader (:mod:`json`, feature by feature) is the reference: for every input the
fast reader either hands over to it (returns None) or gives the same properties, geometries
and problem lines, in the same order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geo.data import readers
from geo.data.readers import MISSING, property_columns, read_raw, scan_json
from geo.errors import GeoError

DATA = Path(__file__).parent / "data"
PATH = Path("layer.geojson")


def outcome(read: Any, data: bytes) -> Any:
    """What a reader makes of the bytes: problems as text, properties, geometries as WKB."""
    try:
        raw = read(PATH, data)
    except GeoError as e:
        return ("refused", str(e))
    if raw is None:
        return None
    wkb = [None if g is None else shapely.to_wkb(g) for g in raw.geoms]
    return ([str(p) for p in raw.problems], list(raw.props), wkb)


def both(data: bytes) -> tuple[Any, Any]:
    return outcome(readers._read_geojson_fast, data), outcome(readers._read_geojson_careful, data)


# --- generated collections, hostile values written as raw JSON tokens --------------------------


class Token(str):
    """JSON text written as it is: what json.dumps cannot write (NaN, 1e400, huge integers)."""


HANDED_OVER = {"NaN", "-Infinity", "1e400", "-1e400"}  # tokens orjson refuses


def dumps(v: Any) -> str:
    if isinstance(v, Token):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{dumps(k)}:{dumps(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    return json.dumps(v)  # ASCII: a lone surrogate is written as \\udXXX


def tokens(v: Any) -> list[str]:
    """Every token, text and integer (as JSON) in a value: what decides the fast reader's hand-over."""
    if isinstance(v, Token):
        return [v]
    if isinstance(v, dict):
        return [t for k, x in v.items() for t in (*tokens(k), *tokens(x))]
    if isinstance(v, list):
        return [t for x in v for t in tokens(x)]
    return [json.dumps(v)] if type(v) is int else [v] if isinstance(v, str) else []


def long_float(v: Any) -> bool:
    """Whether a float in ``v`` is written with a run of 19 or more digits.

    The fast reader hands any such run outside strings over (it cannot tell a long integer
    from a long fraction without parsing): ``0.0002996343656919142`` is read by the careful
    reader, which gives the same answer.
    """
    if isinstance(v, dict):
        return any(long_float(x) for x in v.values())
    if isinstance(v, list):
        return any(long_float(x) for x in v)
    return type(v) is float and re.search("[0-9]{19}", json.dumps(v)) is not None


texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["Almaty", "Алматы", "", " ", "x" * 10_001, "\ud800", "a\udfffb", '"]}\\']),
)
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([Token("NaN"), Token("-Infinity"), Token("1e400"), Token("1" * 25),
                     Token("-" + "9" * 301), Token("18446744073709551615"), Token("-0.0")]),
)  # fmt: skip
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=2)),
    max_leaves=6,
)
names = st.one_of(
    st.sampled_from(["id", "name", "kind", "commodities", "country", "status", "n" * 300]),
    texts,
)
coordinate = st.one_of(
    st.floats(-200, 200), st.integers(-200, 200), st.floats(-1e7, 1e7), st.booleans(),
    st.just("1.5"), st.none(), st.just(Token("NaN")), st.just(Token("1" * 30)),
)  # fmt: skip
geometries = st.one_of(
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, coordinate, coordinate),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y, 3]}, coordinate, coordinate),
    st.sampled_from([
        None, "abc", {"type": "Point", "coordinates": []}, {"type": "Point"},
        {"type": "LineString", "coordinates": [[60, 40], [61, 41]]},
        {"type": "LineString", "coordinates": [[179.9, 60], [-179.9, 60]]},
        {"type": "Polygon", "coordinates": [[[60, 40], [61, 40], [61, 41], [60, 40]]]},
        {"type": "Polygon", "coordinates": [[[60, 40], [61, 40]]]},
        {"type": "MultiPoint", "coordinates": [[60, 40], [600, 40]]},
    ]),
)  # fmt: skip


@st.composite
def features(draw: st.DrawFn) -> dict[str, Any]:
    feat: dict[str, Any] = {"type": "Feature"}
    if draw(st.booleans()):
        feat["geometry"] = draw(geometries)
    feat["properties"] = draw(
        st.one_of(st.dictionaries(names, values, max_size=5), st.none(), st.just([1]))
    )
    if draw(st.integers(0, 3)) == 0:
        feat["id"] = draw(st.one_of(st.text(max_size=3), st.integers(), st.just(Token("1" * 25))))
    return feat


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(features(), min_size=1, max_size=6), st.booleans())
# found by hypothesis: a float whose repr has 20 digits in a row is handed over, as documented
@example([{"type": "Feature", "properties": None,
           "geometry": {"type": "Point", "coordinates": [0.0, 0.0002996343656919142]}}],
         False)  # fmt: skip
def test_fast_and_careful_readers_agree(feats: list[dict[str, Any]], bom: bool) -> None:
    doc = {"type": "FeatureCollection", "features": feats}
    data = (b"\xef\xbb\xbf" if bom else b"") + dumps(doc).encode("ascii")
    fast, careful = both(data)
    if fast is not None:
        assert fast == careful
    found = tokens(doc)
    hostile = any(
        (isinstance(t, Token) and t in HANDED_OVER)  # the text "NaN" is plain text
        or (t[-1:].isdigit() and sum(c.isdigit() for c in t) >= 19)  # a long number
        or readers.text_problem(t) == readers.text_problem("\ud800")
        for t in found
    )
    coordinates = [f.get("geometry") for f in feats]
    long_number = Token("1" * 30) in tokens(coordinates) or long_float(doc)
    # Everything else is read fast: the fallback is for what orjson cannot read as json does.
    assert (fast is None) == (hostile or long_number), (found, fast, careful)


# --- known answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(DATA.glob("*.geojson")), ids=lambda p: p.name)
def test_every_fixture_reads_the_same_either_way(path: Path) -> None:
    fast, careful = both(path.read_bytes())
    assert fast is None or fast == careful


@pytest.mark.parametrize("chunk", [1, 2, 3])
@pytest.mark.parametrize(
    "name", ["hostile_deposits.geojson", "bad_duplicate_ids.geojson", "valid_nodes.geojson"]
)
def test_features_read_a_few_at_a_time_give_the_same_layer(
    monkeypatch: pytest.MonkeyPatch, name: str, chunk: int
) -> None:
    """Problems keep their feature numbers and order, columns their rows, across chunks."""
    monkeypatch.setattr(readers, "_FEATURE_CHUNK", chunk)
    fast, careful = both((DATA / name).read_bytes())
    assert fast is not None
    assert fast == careful


FEATURE = '{"type": "Feature", "properties": {"id": "a"}, "geometry": null}'


@pytest.mark.parametrize(
    ("text", "fast_reads"),
    [
        (f'{{"type": "FeatureCollection", "features": [{FEATURE}, {FEATURE}]}}', True),
        (f'{{"features": [{FEATURE}], "type": "FeatureCollection", "bbox": [1, 2, 3, 4]}}', True),
        # the key twice (json keeps the last), inside a string, nested one level down
        (f'{{"type": "FeatureCollection", "features": [{FEATURE}], "features": []}}', False),
        (
            f'{{"type": "FeatureCollection", "x": "\\"features\\": [", "features": [{FEATURE}]}}',
            True,
        ),
        (
            f'{{"type": "FeatureCollection", "m": {{"features": [{FEATURE}]}}, "features": []}}',
            True,
        ),
        # what is not an object in the list, text between features, a list left open
        (f'{{"type": "FeatureCollection", "features": [null, {FEATURE}]}}', False),
        (f'{{"type": "FeatureCollection", "features": [{FEATURE} 7, {FEATURE}]}}', False),
        (f'{{"type": "FeatureCollection", "features": [{FEATURE}, {FEATURE}', False),
    ],
)
def test_the_features_array_is_found_or_the_careful_reader_reads(
    monkeypatch: pytest.MonkeyPatch, text: str, fast_reads: bool
) -> None:
    monkeypatch.setattr(readers, "_FEATURE_CHUNK", 1)
    fast, careful = both(text.encode())
    assert (fast is not None) == fast_reads, (fast, careful)
    assert fast is None or fast == careful


@pytest.mark.parametrize(
    "name",
    ["bad_nan.geojson", "hostile_long_int.geojson", "hostile_surrogate_name.geojson",
     "hostile_deep_json.geojson", "legacy_crs_3857.geojson", "store_infinity.geojson",
     "bad_malformed.geojson", "bad_latin1.geojson"],
)  # fmt: skip
def test_what_orjson_cannot_read_as_json_does_goes_to_the_careful_reader(name: str) -> None:
    assert readers._read_geojson_fast(DATA / name, (DATA / name).read_bytes()) is None


@pytest.mark.parametrize(
    "name",
    ["hostile_deep_property.geojson", "bad_out_of_range.geojson", "bad_null_geometry.geojson",
     "bad_projected.geojson", "hostile_deposits.geojson", "bad_duplicate_ids.geojson"],
)  # fmt: skip
def test_problem_files_are_read_fast_with_their_lines(name: str) -> None:
    fast, careful = both((DATA / name).read_bytes())
    assert fast is not None
    assert fast == careful


def test_a_long_text_and_a_long_name_get_one_line_each_in_the_feature_order() -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [500, 40]},
         "properties": {"id": "a", "n" * 300: 1, "name": "x" * 10_001}},
        {"type": "Feature", "geometry": None, "properties": {"name": [["deep"] * 2] * 2}, "id": 7},
    ]}  # fmt: skip
    data = json.dumps(doc).encode()
    fast, careful = both(data)
    assert fast == careful
    assert fast is not None
    lines = fast[0]
    assert [line.split(": ")[1:3] for line in lines] == [
        ["feature a (#0)", "n" * 60 + "..."],
        ["feature a (#0)", "name"],
        ["feature a (#0)", "geometry"],
        ["feature 7 (#1)", "geometry"],
    ]
    assert "longitude/latitude out of range (500.0, 40.0)" in lines[2]


def test_orjson_refuses_what_the_fast_reader_leaves_to_the_careful_one() -> None:
    # The fast reader relies on these; an orjson that accepted them would need new checks.
    for text in (b'{"a": NaN}', b'{"a": 1e400}', b'{"a": "\\ud800"}', b'{"\\udc00": 1}'):
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(text)
    # ... and rounds integers beyond 64 bits to floats, which scan_json looks for.
    assert orjson.loads(b"[18446744073709551616]") == [1.8446744073709552e19]


def test_scan_json_counts_nesting_and_long_numbers_outside_strings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (
        b'{"a\\"[[": [[1, "\\\\"], "]]]"], "b": "12345678901234567890", "c": 1234567890123456789}'
    )
    assert json.loads(text)  # valid JSON: the scan's precondition
    assert scan_json(text) == (3, True)
    assert scan_json(text.replace(b"1234567890123456789}", b"123456789012345678}")) == (3, False)
    for chunk in (1, 2, 3, 7):  # chunk edges inside strings, escapes and numbers
        monkeypatch.setattr(readers, "_SCAN_CHUNK", chunk)
        assert scan_json(text) == (3, True)
        assert scan_json(b"[" * 70 + b"]" * 70) == (70, False)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_TEXT = st.text(alphabet=st.sampled_from(list('ab"\\[]{}0123456789 é')), max_size=25)
_JSON_DOC = st.recursive(
    st.one_of(_JSON_TEXT, st.integers(-(10**25), 10**25), st.floats(allow_nan=False,
              allow_infinity=False), st.booleans(), st.none()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_JSON_TEXT, inner, max_size=4),
    max_leaves=30,
)  # fmt: skip


def _reference_scan(text: str) -> tuple[int, bool]:
    """Depth and long numbers the plain way: strings cut out, then counted character by character."""
    bare = _STRING.sub('""', text)
    depth = deepest = 0
    for ch in bare:
        depth += (ch in "[{") - (ch in "]}")
        deepest = max(deepest, depth)
    return deepest, re.search(r"[0-9]{19}", bare) is not None


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=_JSON_DOC, chunk=st.sampled_from([1, 2, 3, 5, 16, 1 << 22]), ascii_only=st.booleans())
def test_scan_json_agrees_with_a_plain_scan(
    monkeypatch: pytest.MonkeyPatch, doc: Any, chunk: int, ascii_only: bool
) -> None:
    text = json.dumps(doc, ensure_ascii=ascii_only)
    monkeypatch.setattr(readers, "_SCAN_CHUNK", chunk)
    assert scan_json(text.encode()) == _reference_scan(text)


def test_the_reader_hands_its_columns_to_validation() -> None:
    raw = read_raw(DATA / "hostile_deposits.geojson")
    assert raw.columns is not None
    assert raw.columns.keys() == property_columns(raw.props).keys()
    for name, column in raw.columns.items():
        assert column.tolist() == [p.get(name, MISSING) for p in raw.props]


@pytest.mark.parametrize(
    "odd",
    [None, [200.5, 10.0], [1.5, 2.5, 3.5], [1, 2.5], ["1.5", 2.5], [True, 2.5], [1e308, 2.5]],
)
def test_a_layer_of_float_points_is_read_the_same_with_one_odd_point(odd: Any) -> None:
    """Float points take a path of their own; any other point sends them all the usual way."""
    feats = [
        {
            "type": "Feature",
            "properties": {"id": f"p{i}"},
            "geometry": {"type": "Point", "coordinates": [60.25 + i, 40.5]},
        }
        for i in range(5)
    ]
    if odd is not None:
        feats[3]["geometry"]["coordinates"] = odd
    fast, careful = both(json.dumps({"type": "FeatureCollection", "features": feats}).encode())
    assert fast is not None
    assert fast == careful
