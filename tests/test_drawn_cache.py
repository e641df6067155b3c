"""Simplified lines read back from the cache folder are exactly what shapely.simplify gives.

The reference is ``shapely.simplify`` itself, called on the same lines: the kept copy must
give the same WKB, byte for byte, and a copy that is stale, changed, short or not a regular
file must never be used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.data import drawn
from geo.data.drawn import simplified
from geo.data.layers import load_bundled
from geo.render.payloads import (
    COUNTRY_MIN_AREA,
    COUNTRY_SIMPLIFY_DEG,
    display_geometries,
    display_geometry,
)

TOL = 0.01


def wkb(geoms: np.ndarray) -> list[bytes]:
    return [bytes(b) for b in shapely.to_wkb(geoms)]


@pytest.fixture
def rail() -> np.ndarray:
    return np.asarray(load_bundled("rail").geometry.values)


def refuse(*_a: object, **_k: object) -> None:
    raise AssertionError("simplified again although a copy is kept")


def copy_path(home: Path) -> Path:
    return home.parent / "cache" / "drawn" / "network.wkb"  # CORRIDOR_HOME/cache


def test_kept_copy_is_what_simplify_gives(home: Path, rail: np.ndarray,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    want = wkb(shapely.simplify(rail, TOL))
    first = simplified(rail, TOL, name="network")
    assert wkb(first) == want
    assert copy_path(home).is_file()

    monkeypatch.setattr(drawn.shapely, "simplify", refuse)
    again = simplified(rail, TOL, name="network")
    assert wkb(again) == want
    assert len(again) == len(rail) and int(shapely.get_num_coordinates(again).sum()) < int(
        shapely.get_num_coordinates(rail).sum()
    )


def test_other_lines_or_tolerance_are_simplified_again(home: Path, rail: np.ndarray) -> None:
    simplified(rail, TOL, name="network")
    moved = shapely.transform(rail[:50], lambda xy: xy + 0.5)
    assert wkb(simplified(moved, TOL, name="network")) == wkb(shapely.simplify(moved, TOL))
    assert wkb(simplified(rail, 0.05, name="network")) == wkb(shapely.simplify(rail, 0.05))
    loose = simplified(rail, TOL, preserve_topology=False, name="network")
    assert wkb(loose) == wkb(shapely.simplify(rail, TOL, preserve_topology=False))


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "garbage", "empty"])
def test_damaged_copy_is_not_used(
    home: Path, rail: np.ndarray, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    simplified(rail, TOL, name="network")
    p = copy_path(home)
    data = bytearray(p.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 7]
    elif damage == "flip":
        data[-3] ^= 0xFF
    elif damage == "header":
        data[len(drawn.MAGIC) + 12] ^= 0x01
    elif damage == "garbage":
        data = bytearray(b"not a copy at all")
    else:
        data = bytearray()
    p.write_bytes(bytes(data))
    want = wkb(shapely.simplify(rail, TOL))
    assert wkb(simplified(rail, TOL, name="network")) == want
    # and the copy was written anew: the next call reads it
    monkeypatch.setattr(drawn.shapely, "simplify", refuse)
    assert wkb(simplified(rail, TOL, name="network")) == want


def test_a_fifo_in_place_of_the_copy_does_not_hang(home: Path, rail: np.ndarray) -> None:
    p = copy_path(home)
    p.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(p)
    lines = rail[:20]
    assert wkb(simplified(lines, TOL, name="network")) == wkb(shapely.simplify(lines, TOL))


def test_missing_geometry_is_simplified_not_kept(home: Path) -> None:
    lines = np.array([shapely.LineString([(0, 0), (1, 0.001), (2, 0)]), None], dtype=object)
    out = simplified(lines, TOL, name="network")
    assert out[1] is None and out[0].wkt == "LINESTRING (0 0, 2 0)"
    assert not copy_path(home).exists()


def test_country_outlines_read_back_exactly(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Polygons (the country base the main map draws) round-trip byte for byte too."""
    polys = np.asarray(load_bundled("countries").geometry.values, dtype=object)
    first = display_geometries(polys, COUNTRY_SIMPLIFY_DEG, COUNTRY_MIN_AREA)
    monkeypatch.setattr(drawn.shapely, "simplify", refuse)
    again = display_geometries(polys, COUNTRY_SIMPLIFY_DEG, COUNTRY_MIN_AREA)
    monkeypatch.undo()
    # the reference: islands dropped one outline at a time, then shapely.simplify itself
    islands = np.array([display_geometry(p, 0, COUNTRY_MIN_AREA) for p in polys], dtype=object)
    want = shapely.simplify(islands, COUNTRY_SIMPLIFY_DEG, preserve_topology=True)
    assert wkb(first) == wkb(want) == wkb(again)
