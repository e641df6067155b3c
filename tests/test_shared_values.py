"""Equal texts of a column shared as one object while a layer is read (issue 19).

Sharing must change nothing a reader of the values can see: the same values of the same
types in the same cells, the same problem lines; only memory and speed may differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.data import readers
from geo.data.readers import Interner, object_array
from geo.data.validate import validate_columns

PATH = Path("layer.geojson")


def typed(values: Any) -> list[tuple[str, Any]]:
    """Cells with their exact types: 1, 1.0 and True are equal but not the same value."""
    return [(type(v).__name__, repr(v)) for v in values]


CELLS = st.one_of(
    st.sampled_from(["mine", "field", "1", "True", "", " ", "é", "mine "]),
    st.text(max_size=3),
    st.integers(-2, 2),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.just(readers.MISSING),
    st.lists(st.sampled_from(["mine", "gold"]), max_size=2),
)


def texts_of(cells: list[Any]) -> list[str]:
    out = [v for v in cells if type(v) is str]
    return out + [x for v in cells if type(v) is list for x in v if type(x) is str]


@given(st.lists(st.lists(CELLS, max_size=30), min_size=1, max_size=5))
def test_shared_cells_keep_their_values_and_types(chunks: list[list[Any]]) -> None:
    share = Interner()
    earlier: set[str] = set()
    for cells in chunks:
        # new objects for every text, as orjson makes them
        fresh = [("".join(list(v)) if type(v) is str else v) for v in cells]
        before = typed(fresh)
        column = object_array(fresh)
        new = share("col", column)
        assert typed(column) == before
        texts = texts_of(list(column))
        if share.canon["col"] is not None:  # still shared: one object per distinct text
            assert len({id(v) for v in texts}) == len(set(texts))
        if new is not None:  # the texts met for the first time, each once
            assert len(new) == len(set(new))
            assert set(new) == set(texts) - earlier
        earlier |= set(texts)


def deposit_layer(n: int) -> bytes:
    statuses = ["producing", "development", "exploration", "closed", "unknown"]
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [60 + i % 20, 40 + i % 7]},
            "properties": {
                "id": f"d{i}",
                "name": f"Deposit {i}",
                "commodities": ["gold", "copper"][: 1 + i % 2],
                "kind": "mine",
                "status": statuses[i % 5] if i % 11 else 3,  # a number among the texts
                "country": "KAZ",
                "location_precision": "exact",
                "source": "https://example.org",
                **({"operator": None} if i % 3 else {}),
            },
        }
        for i in range(n)
    ]
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def test_a_layer_read_in_chunks_shares_its_repeated_texts_and_reads_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "_FEATURE_CHUNK", 700)
    data = deposit_layer(3000)
    fast = readers._read_geojson_fast(PATH, data)
    careful = readers._read_geojson_careful(PATH, data)
    assert fast is not None and fast.columns is not None
    assert [str(p) for p in fast.problems] == [str(p) for p in careful.problems]
    for name, column in fast.columns.items():
        assert typed(column) == typed(p.get(name, readers.MISSING) for p in careful.props), name
    status = fast.columns["status"]
    texts = [v for v in status if type(v) is str]
    assert len({id(v) for v in texts}) == 5  # 3000 cells, five objects
    ids = fast.columns["id"]
    assert len({id(v) for v in ids}) == 3000  # distinct texts are left as read
    # and validation says the same of either
    assert [str(p) for p in validate_columns(fast)[1]] == [
        str(p) for p in validate_columns(careful)[1]
    ]
    assert np.array_equal(fast.columns["kind"], np.array(["mine"] * 3000, dtype=object))


def test_a_text_refused_in_one_chunk_is_refused_again_in_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shared text is never taken as judged already when it was refused."""
    monkeypatch.setattr(readers, "_FEATURE_CHUNK", 3)
    long = "x" * 10_001
    statuses = [None, long, "closed", "closed", "closed", "closed", long, long, "closed"]
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [70, 40]},
            "properties": {
                "id": f"d{i}",
                "status": status,
                "commodities": ["gold", long][: 1 + i % 2],
            },
        }
        for i, status in enumerate(statuses)
    ]
    data = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    fast = readers._read_geojson_fast(PATH, data)
    careful = readers._read_geojson_careful(PATH, data)
    assert fast is not None
    lines = [str(p) for p in fast.problems]
    assert lines == [str(p) for p in careful.problems]
    assert sum("status" in line for line in lines) == 3
    assert sum("commodities" in line for line in lines) == 4
