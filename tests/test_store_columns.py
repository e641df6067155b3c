"""The store's columnar copy (issue 19): exact round trips, a careful fallback for every copy
that is not as written, and commands that read only the columns they need."""

from __future__ import annotations

import hashlib
import json
import math
import pickle
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import run_cli as cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import geo.api
from geo.analysis.network import DEPOSIT_COLUMNS
from geo.analysis.routing import find_route
from geo.analysis.stats import route_stats
from geo.data import columns, store
from geo.data.columns import ColumnsError, decode_frame, encode_frame
from geo.data.layers import load_layer
from geo.data.store import user_layers

DATA = Path(__file__).parent / "data"


def frame(data: dict[str, Any], geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))


def points(n: int) -> list[shapely.Geometry]:
    return list(shapely.points(np.column_stack([np.arange(n) * 0.1 + 60, np.full(n, 42.5)])))


# --- 1. what goes in comes out ------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=4), inner, max_size=3
        )
    ),
    max_leaves=8,
)


ROWS = st.tuples(
    st.one_of(VALUES, st.just(math.nan)),
    st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"]), max_size=6)),
    st.floats(allow_infinity=False),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROWS, min_size=1, max_size=12))
@example(rows=[(v, None if i % 3 else "é", [math.nan, -0.0, 1e300][i % 3])
               for i, v in enumerate([None, math.nan, 1, 1.0, True, "1", -0.0, [1, [2.5, None]],
                                      {"b": 1, "a": "é"}, "123456789012345678901234567890",
                                      "😀 ünïcode"])])  # fmt: skip
def test_every_column_type_round_trips_exactly(rows: list[tuple[Any, Any, float]]) -> None:
    n = len(rows)
    obj = np.empty(n, dtype=object)
    obj[:] = [r[0] for r in rows]
    g = frame({"text": pd.Series([r[1] for r in rows], dtype="str"),
               "mixed": pd.Series(obj, dtype=object),
               "i": np.arange(n, dtype="int64") * (2**40),
               "f": np.asarray([r[2] for r in rows], dtype=float),
               "b": np.arange(n) % 2 == 0, "u8": np.arange(n, dtype="uint8")},
              points(n))  # fmt: skip
    back = decode_frame(encode_frame(g, {"k": 1}))
    assert store.same_frame(g, back)
    assert [type(v) for v in back["mixed"]] == [type(v) for v in g["mixed"]]
    assert (np.isnan(back["f"].to_numpy()) == np.isnan(g["f"].to_numpy())).all()
    part = decode_frame(encode_frame(g, {}), ["mixed", "i"])
    assert list(part.columns) == ["mixed", "i", "geometry"]
    assert store.same_frame(g[["mixed", "i", "geometry"]], part)


def test_repeated_text_is_stored_as_codes_and_round_trips() -> None:
    status = pd.Series(["producing", None, "closed", "producing"] * 5 + [None] * 4, dtype="str")
    g = frame({"status": status, "none": pd.Series([None] * 24, dtype="str")}, points(24))
    raw = encode_frame(g, {})
    assert b'"enc":"words"' in raw
    back = decode_frame(raw)
    assert store.same_frame(g, back)
    bad = raw.replace(b'["producing","closed"]', b'["producing"]         ')
    with pytest.raises(ColumnsError):
        decode_frame(bad)  # the words block no longer matches its checksum


def test_repeated_lists_of_texts_are_stored_as_codes_each_row_its_own_list() -> None:
    combos = [["gold"], ["copper", "gold"], [], ["uranium", "rare_earths", "é😀"]]
    cells: list[Any] = [list(combos[i % 4]) for i in range(40)]
    cells[3], cells[9] = None, math.nan
    obj = np.empty(40, dtype=object)
    obj[:] = cells
    g = frame({"commodities": pd.Series(obj, dtype=object)}, points(40))
    raw = encode_frame(g, {})
    assert b'"enc":"lists"' in raw
    back = decode_frame(raw)
    assert store.same_frame(g, back)
    assert back["commodities"].iloc[3] is None and math.isnan(back["commodities"].iloc[9])
    rows = back["commodities"].tolist()
    lists = [v for v in rows if isinstance(v, list)]
    assert len({id(v) for v in lists}) == len(lists) == 38  # no two rows share a list
    rows[0].append("changed")
    assert back["commodities"].iloc[4] == ["gold"]


@pytest.mark.parametrize(
    ("cells", "enc"),
    [
        ([["gold"], ["gold", 1]] * 8, b'"enc":"objects"'),  # a number in a list
        ([["gold"], ["gold", None]] * 8, b'"enc":"objects"'),  # a null in a list
        ([["gold"], {"a": "b"}] * 8, b'"enc":"objects"'),  # a dict
        ([[str(i)] for i in range(16)], b'"enc":"objects"'),  # no repeats
        ([["gold"], [["nested"]]] * 8, b'"enc":"objects"'),
        ([["gold"], "gold"] * 8, b'"enc":"objects"'),  # a bare text
    ],
)
def test_other_object_columns_stay_json(cells: list[Any], enc: bytes) -> None:
    obj = np.empty(len(cells), dtype=object)
    obj[:] = cells
    g = frame({"commodities": pd.Series(obj, dtype=object)}, points(len(cells)))
    raw = encode_frame(g, {})
    assert enc in raw and b'"enc":"lists"' not in raw
    back = decode_frame(raw)
    assert store.same_frame(g, back)
    assert [type(v) for v in back["commodities"]] == [type(v) for v in cells]


def _lists_copy(change: Any) -> bytes:
    obj = np.empty(8, dtype=object)
    obj[:] = [["gold"], ["copper", "gold"]] * 4
    raw = encode_frame(frame({"commodities": pd.Series(obj, dtype=object)}, points(8)), {})
    return _rewrite_header(raw, lambda h: change(h["columns"][0]))


def _table(values: list[Any]) -> bytes:
    return json.dumps(values).encode()


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.update(lists=c["data"]),  # codes read as the table
        lambda c: c.update(data=c["lists"]),  # the table read as codes
        lambda c: c.update(enc="lists", dtype="str"),
        lambda c: c.pop("lists"),
    ],
)
def test_a_lists_column_not_as_written_is_refused(change: Any) -> None:
    with pytest.raises(ColumnsError):
        decode_frame(_lists_copy(change))


def test_lists_codes_and_tables_out_of_place_are_refused() -> None:
    decode_lists = columns._decode_lists  # the decoder itself, fed hostile blocks

    class Blocks:
        def __init__(self, table: bytes, codes: list[int]) -> None:
            self.data = {"t": table, "c": np.asarray(codes, dtype="<i4").tobytes()}

        def read(self, block: str) -> bytes:
            return self.data[block]

    entry = {"lists": "t", "data": "c"}
    assert [v if isinstance(v, list) else repr(v) for v in
            decode_lists(entry, Blocks(_table([["a"], []]), [0, 1, -1, -2]), 4)] == [
        ["a"], [], "None", "nan"]  # fmt: skip
    for table, codes in [
        (_table([["a"]]), [0, 1]),  # a code past the table
        (_table([["a"]]), [0, -3]),  # below NaN's code
        (_table(["a"]), [0, 0]),  # a text, not a list
        (_table([["a", 1]]), [0, 0]),  # a number in a list
        (_table({"a": 1}), [0, 0]),  # not a list at all
        (b"[[", [0, 0]),  # not JSON
        (_table([["a"]]), [0]),  # too few codes
    ]:
        with pytest.raises(ColumnsError):
            decode_lists(entry, Blocks(table, codes), 2)


def test_lines_and_polygons_round_trip_as_wkb() -> None:
    geoms = [
        shapely.LineString([(60, 40), (61.000001, 40.5)]),
        shapely.MultiLineString([[(1, 2), (3, 4)], [(5, 6), (7, 8.25)]]),
        shapely.Polygon([(0, 0), (1, 0), (1, 1), (0, 0)]),
    ]
    g = frame({"id": ["a", "b", "c"]}, geoms)
    assert store.same_frame(g, decode_frame(encode_frame(g, {})))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda g: g.set_index(g.index + 1), "index"),
        (lambda g: g.set_crs(3857, allow_override=True), "CRS"),
        (lambda g: g.assign(d=pd.to_datetime(["2024-01-01"])), "dtype"),
        (lambda g: g.assign(o=pd.Series([{1, 2}], dtype=object)), "JSON"),
        (lambda g: g.assign(o=pd.Series([2**70], dtype=object)), "JSON"),
        (lambda g: g.set_geometry(gpd.GeoSeries([None], crs=4326)), "geometry"),
    ],
)
def test_what_the_copy_cannot_hold_exactly_is_refused(change: Any, why: str) -> None:
    g = frame({"id": ["a"]}, points(1))
    with pytest.raises(ColumnsError, match=why):
        encode_frame(change(g), {})


# --- 2. the store writes, reads and removes the copy ---------------------------------------------


MIXED = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [68.3 + i, 42.9]},
          "properties": {"id": f"m{i}", "name": ["Ünï 😀", "b", "c", "d"][i], "commodities": ["gold"],
                         "kind": "mine", "status": "producing", "country": "KAZ",
                         "location_precision": "exact", "source": "https://example.org",
                         "extra": [1, "a", None, {"b": 2.5, "a": [1, None]}][i],
                         "n": [1, 2.5, None, 4][i], "big": "123456789012345678901234567890",
                         **({"as_of": "2024-01-02"} if i % 2 else {})}}
         for i in range(4)]  # fmt: skip


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": MIXED}))
    return path


def never(*_: object, **__: object) -> None:
    raise AssertionError("the careful path ran")


@pytest.mark.parametrize(
    "src", ["mixed", "net_segments.geojson", "net_nodes.geojson", "hostile_antimeridian.geojson",
            "map_user_deposits.geojson"],
)  # fmt: skip
def test_added_layer_reads_from_its_copy_as_validated(
    home: Path, mixed: Path, src: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mixed if src == "mixed" else DATA / src
    name = path.name.split(".")[0]
    code, _, err = cli("layers", "add", str(path), "--name", name)
    assert code == 0, err
    target = home / f"{name}.geojson"
    assert (home / f"{name}.columns").is_file()
    validated = load_layer(target, kind=None, check_countries=False)
    monkeypatch.setattr(store, "checked_frame", never)
    monkeypatch.setattr(store, "load_layer", never)
    (back,) = user_layers()
    assert store.same_frame(validated, back)
    assert back.attrs["name"] == name and back.attrs["kind"] == validated.attrs["kind"]


def test_remove_removes_the_copy_and_an_orphan_copy_can_be_removed(home: Path, mixed: Path) -> None:
    assert cli("layers", "add", str(mixed))[0] == 0
    assert cli("layers", "remove", "mixed")[0] == 0
    assert sorted(p.name for p in home.iterdir()) == [".lock"]
    assert cli("layers", "add", str(mixed))[0] == 0
    (home / "mixed.geojson").unlink()
    code, _, err = cli("layers", "remove", "mixed")
    assert code == 0, err
    assert sorted(p.name for p in home.iterdir()) == [".lock"]


# --- 3. a copy that is not as written: the careful path, never a traceback ------------------------


def _rewrite_header(raw: bytes, change: Any) -> bytes:
    lead = len(columns.MAGIC) + 8 + 32
    size = int.from_bytes(raw[len(columns.MAGIC) : len(columns.MAGIC) + 8], "little")
    header = json.loads(raw[lead : lead + size])
    change(header)
    new = json.dumps(header).encode()
    return (columns.MAGIC + len(new).to_bytes(8, "little") + hashlib.sha256(new).digest() + new
            + raw[lead + size :])  # fmt: skip


def _block_of(header: dict[str, Any], name: str) -> list[Any]:
    return next(c for c in header["columns"] if c["name"] == name)["data"]


HOSTILE = {
    "empty": lambda raw: b"",
    "truncated": lambda raw: raw[: len(raw) // 2],
    "header only": lambda raw: raw[:60],
    "a flipped byte": lambda raw: raw[:-5] + bytes([raw[-5] ^ 1]) + raw[-4:],
    "garbage": lambda raw: b"\x00\xff" * 500,
    "a pickle": lambda raw: pickle.dumps({"columns": "x"}),
    "huge header length": lambda raw: columns.MAGIC + (2**62).to_bytes(8, "little") + raw[27:],
    "header not JSON": lambda raw: columns.MAGIC + (3).to_bytes(8, "little")
    + hashlib.sha256(b"{{{").digest() + b"{{{",
    "block beyond the end": lambda raw: _rewrite_header(
        raw, lambda h: _block_of(h, "name").__setitem__(0, 10**12)),
    "negative block length": lambda raw: _rewrite_header(
        raw, lambda h: _block_of(h, "name").__setitem__(1, -1)),
    "object dtype as numbers": lambda raw: _rewrite_header(
        raw, lambda h: h["columns"][0].update(enc="numbers", dtype="object")),
    "a dtype numpy cannot parse": lambda raw: _rewrite_header(
        raw, lambda h: h["columns"][0].update(enc="numbers", dtype="<U0x")),
    "unknown encoding": lambda raw: _rewrite_header(
        raw, lambda h: h["columns"][0].update(enc="pickle")),
    "count too large": lambda raw: _rewrite_header(raw, lambda h: h.update(count=10**15)),
    "count negative": lambda raw: _rewrite_header(raw, lambda h: h.update(count=-1)),
    "duplicate column names": lambda raw: _rewrite_header(
        raw, lambda h: h["columns"].append(h["columns"][0])),
    "NaN rows out of place": lambda raw: _rewrite_header(
        raw, lambda h: next(c for c in h["columns"] if c["enc"] == "objects").update(
            nan=_block_of(h, "name"))),
    "geometry as WKB garbage": lambda raw: _rewrite_header(
        raw, lambda h: h["geometry"].update(enc="wkb", ends=h["geometry"]["data"])),
    "the key of another file": lambda raw: _rewrite_header(
        raw, lambda h: h["key"].update(size=h["key"]["size"] + 1)),
    "a block pointing elsewhere": lambda raw: _rewrite_header(
        raw, lambda h: _block_of(h, "kind").__setitem__(0, 0)),
    "header a list": lambda raw: columns.MAGIC + (2).to_bytes(8, "little")
    + hashlib.sha256(b"[]").digest() + b"[]",
}  # fmt: skip


@pytest.mark.parametrize("how", sorted(HOSTILE))
def test_a_copy_not_as_written_falls_back_to_the_careful_read(
    home: Path, mixed: Path, how: str
) -> None:
    assert cli("layers", "add", str(mixed))[0] == 0
    copy = home / "mixed.columns"
    good = user_layers()[0]
    copy.write_bytes(HOSTILE[how](copy.read_bytes()))
    (back,) = user_layers()
    assert store.same_frame(good, back)
    code, out, err = cli("layers", "--format", "csv")
    assert code == 0 and "mixed,deposit,4,user" in out, err
    code, out, err = cli("route", "deposit:m0", "Almaty", "--format", "json")
    assert code == 0, err


def test_a_copy_replaced_by_a_folder_or_fifo_falls_back(home: Path, mixed: Path) -> None:
    import os

    assert cli("layers", "add", str(mixed))[0] == 0
    copy = home / "mixed.columns"
    copy.unlink()
    os.mkfifo(copy)  # opening it for reading would wait for ever
    (back,) = user_layers()
    assert len(back) == 4
    copy.unlink()
    copy.mkdir()
    (back,) = user_layers()
    assert len(back) == 4


def test_an_edited_geojson_is_not_read_from_its_old_copy(home: Path, mixed: Path) -> None:
    assert cli("layers", "add", str(mixed))[0] == 0
    target = home / "mixed.geojson"
    target.write_text(target.read_text(encoding="utf-8").replace('"b"', '"B"', 1))
    (back,) = user_layers()  # validated again, and the edit is seen
    assert "B" in set(back["name"])


# --- 4. only what is needed -----------------------------------------------------------------------


def test_the_network_reads_only_the_deposit_columns_the_analysis_uses(
    home: Path, mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("layers", "add", str(mixed), "--color-by", "n")[0] == 0
    asked: list[Any] = []
    real = columns.decode_frame

    def spy(data: Any, cols: Any = None, **kw: Any) -> gpd.GeoDataFrame:
        asked.append(cols)
        return real(data, cols, **kw)

    monkeypatch.setattr(store, "decode_frame", spy)
    net = geo.api.network(slim=True)
    assert asked and set(asked[-1]) == {*DEPOSIT_COLUMNS, "n"}
    full = user_layers()[0]
    user = net.deposits.tail(len(full))  # the user's deposits come after the bundled ones
    for c in DEPOSIT_COLUMNS:
        if c in full:
            assert list(map(repr, user[c])) == list(map(repr, full[c])), c
    assert "extra" not in net.deposits.columns and "location_precision" not in net.deposits
    full_net = geo.api.network()  # what pages take: every column
    assert "extra" in full_net.deposits.columns
    every = full_net.deposits.tail(len(full))
    for c in full.columns.drop("geometry"):
        assert list(map(repr, every[c])) == list(map(repr, full[c])), c


@pytest.mark.parametrize(("origin", "to"), [("Almaty", "Tashkent"), ("deposit:m1", "Tashkent")])
def test_route_on_the_slim_network_answers_as_on_the_full_one(
    home: Path, mixed: Path, origin: str, to: str
) -> None:
    assert cli("layers", "add", str(mixed))[0] == 0
    legs = geo.route(origin, to, buffer_km=2000)
    full = geo.api.network()
    r = find_route(full, origin, to)
    assert legs.attrs["stats"] == route_stats(r, network=full, buffer_km=2000)
    assert any(i.startswith("m") for i in legs.attrs["stats"]["deposits_nearby"]["ids"])


@pytest.mark.parametrize("rows_to_freeze", [1, 10**9])
def test_a_large_store_read_is_kept_out_of_the_collector(
    home: Path, mixed: Path, monkeypatch: pytest.MonkeyPatch, rows_to_freeze: int
) -> None:
    """A store of FREEZE_ROWS rows or more is frozen once read; a smaller one is not."""
    import gc

    assert cli("layers", "add", str(mixed))[0] == 0
    monkeypatch.setattr(geo.api, "FREEZE_ROWS", rows_to_freeze)
    gc.unfreeze()
    try:
        (layer,) = geo.api.stored_layers()
        frozen = gc.get_freeze_count()
        if rows_to_freeze == 1:
            assert frozen > 0
            gc.collect()
            assert not any(o is layer for o in gc.get_objects())  # frozen: not walked
        else:
            assert frozen == 0
        assert len(layer) == len(load_layer(mixed))
    finally:
        gc.unfreeze()
