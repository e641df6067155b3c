"""The country polygons read back from their columnar copy are the frame GDAL reads.

:func:`geo.data.countries.read_countries` keeps what ``geopandas.read_file`` gives in the
cache folder; the reference is ``read_file`` itself. A later process gets the same frame
without importing pyogrio, and a copy of another file, or a damaged one, is never used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

from geo.data.bundled import bundled_dir
from geo.data.columns import same_frame
from geo.data.countries import read_countries

SOURCE = bundled_dir("layers") / "countries.geojson"


def copy_of(home: Path, path: Path) -> Path:
    return home.parent / "cache" / "read" / f"{path.stem}.columns"  # CORRIDOR_HOME/cache


def assert_same(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame) -> None:
    assert same_frame(got, want)
    assert_geodataframe_equal(got, want, check_less_precise=False)
    assert list(got.index) == list(want.index)


def test_copy_is_the_frame_read(home: Path) -> None:
    want = gpd.read_file(SOURCE, engine="pyogrio")
    assert_same(read_countries(SOURCE), want)
    assert copy_of(home, SOURCE).is_file()
    assert_same(read_countries(SOURCE), want)  # now from the copy


def test_a_later_process_reads_the_copy_without_gdal(home: Path) -> None:
    read_countries(SOURCE)
    code = (
        "import sys, json\n"
        "from geo.data.countries import countries\n"
        "c = countries()\n"
        "print(json.dumps(['pyogrio' in sys.modules, len(c), list(c.index[:3])]))\n"
    )
    env = {**os.environ, "CORRIDOR_HOME": str(home.parent)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)  # fmt: skip
    imported, n, first = json.loads(out.stdout)
    want = gpd.read_file(SOURCE, engine="pyogrio")
    assert not imported
    assert n == len(want) and first == list(want["id"][:3])


def test_a_copy_of_another_file_is_not_used(home: Path, tmp_path: Path) -> None:
    read_countries(SOURCE)
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    data["features"] = data["features"][:5]
    other = tmp_path / "countries.geojson"  # the same name, other content
    other.write_text(json.dumps(data), encoding="utf-8")
    got = read_countries(other)
    assert len(got) == 5
    assert_same(got, gpd.read_file(other, engine="pyogrio"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "fifo"])
def test_a_damaged_copy_is_not_used(home: Path, damage: str) -> None:
    read_countries(SOURCE)
    p = copy_of(home, SOURCE)
    data = bytearray(p.read_bytes())
    if damage == "fifo":
        p.unlink()
        os.mkfifo(p)
    else:
        if damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "flip":
            data[-100] ^= 0xFF
        else:
            data = bytearray(b"CORRIDOR nonsense")
        p.write_bytes(bytes(data))
    assert_same(read_countries(SOURCE), gpd.read_file(SOURCE, engine="pyogrio"))
