"""Hostile and broken layer files (issue 13): each ends in one clear line, never a traceback.

Every case checks the exit code of ``corridor validate`` and ``corridor layers add``, that the
message is one line naming what it should, that nothing reaches the store and that the input
file is left as it was.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from pyproj import Geod
from typer.testing import CliRunner

from geo.cli import app
from geo.data import readers
from geo.data.layers import load_layer
from geo.data.readers import read_raw
from geo.data.schema import SCHEMA
from geo.data.store import user_dir
from geo.errors import GeoError, UnreadableError

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    return r.exit_code, r.stdout, r.stderr


def store_state() -> dict[str, bytes]:
    d = user_dir()
    return {p.name: p.read_bytes() for p in d.iterdir()} if d.is_dir() else {}


def file_state(p: Path) -> tuple[bytes, int] | None:
    return (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None


def assert_refused(path: Path, code: int, needles: list[str], lines: int = 1) -> str:
    """validate and layers add both refuse ``path`` with ``lines`` lines holding every needle."""
    before, store = file_state(path), store_state()
    exit_code, out, err = cli("validate", str(path))
    assert exit_code == code, (out, err)
    assert len(err.strip().splitlines()) == lines, err
    for needle in needles:
        assert needle in err, (needle, err)
    add_code, _, add_err = cli("layers", "add", str(path), "--name", "hostile")
    assert add_code != 0, add_err
    assert err.strip().splitlines()[0] in add_err, (err, add_err)
    assert store_state() == store
    assert file_state(path) == before
    return err


# --- 1. non-regular files and size -------------------------------------------------------------


def test_dev_zero_is_refused_without_reading() -> None:
    err = assert_refused(Path("/dev/zero"), 2, ["/dev/zero: is a character device"])
    assert "regular" in err


def test_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.geojson"
    link.symlink_to("/dev/zero")
    assert_refused(link, 2, ["zero.geojson: is a character device"])


def test_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.geojson"
    folder.mkdir()
    assert_refused(folder, 2, ["folder.geojson: is a folder"])


def assert_unreadable_without_blocking(path: Path) -> None:
    """load_layer refuses ``path`` within seconds (in a thread, so a hang fails the test)."""
    caught: list[BaseException] = []

    def read() -> None:
        try:
            load_layer(path)
        except BaseException as e:  # handed over to the test's thread
            caught.append(e)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive(), f"reading {path.name} blocked"
    assert len(caught) == 1 and isinstance(caught[0], UnreadableError), caught


def test_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.geojson"
    os.mkfifo(fifo)
    assert_unreadable_without_blocking(fifo)
    assert_refused(fifo, 2, ["pipe.geojson: is a named pipe (FIFO)"])


def test_socket_is_refused() -> None:
    with tempfile.TemporaryDirectory() as d:  # a short path: socket names are limited
        path = Path(d) / "s.geojson"
        s = socket.socket(socket.AF_UNIX)
        try:
            s.bind(str(path))
            assert_refused(path, 2, ["s.geojson: is a socket"])
        finally:
            s.close()


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert readers.MAX_FILE_BYTES == 512 * 2**20
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 2**20)
    big = tmp_path / "big.geojson"
    big.write_bytes(b" " * (2**20 + 1))
    assert_refused(big, 2, ["big.geojson: file is 1 MB, over the 1 MB", "split it"])
    gpkg = tmp_path / "big.gpkg"
    gpkg.write_bytes(b"\0" * (2**20 + 1))
    assert_refused(gpkg, 2, ["big.gpkg: file is 1 MB, over the 1 MB"])


# --- 2. caps on what a layer declares ----------------------------------------------------------


def node(fid: str, **props: Any) -> dict[str, Any]:
    p = {"id": fid, "name": fid.title(), "kind": "port", "country": "KAZ",
         "gauge_change": False, "source": "https://example.org/x", **props}  # fmt: skip
    return {"type": "Feature", "properties": p,
            "geometry": {"type": "Point", "coordinates": [51.1383, 43.6047]}}  # fmt: skip


def write_fc(path: Path, feats: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_one_new_property_per_feature_stops_at_the_cap(tmp_path: Path) -> None:
    feats = [node(f"n{i}", **{f"key_{i}": 1}) for i in range(600)]
    p = write_fc(tmp_path / "wide.geojson", feats)
    # 6 common names + key_0..key_493 make 500; key_494 on feature n494 is the 501st.
    assert_refused(p, 2, ["wide.geojson: feature n494 (#494): key_494:",
                          "more than 500 distinct property names"])  # fmt: skip


def test_wide_csv_header_is_refused(tmp_path: Path) -> None:
    header = ["id", "lon", "lat", *(f"c{i}" for i in range(600))]
    p = tmp_path / "wide.csv"
    p.write_text(",".join(header) + "\n" + ",".join(["a", "51", "43", *["x"] * 600]) + "\n")
    assert_refused(p, 2, ["wide.csv: CSV header has 603 columns, more than the 500"])


def test_long_text_is_refused(tmp_path: Path) -> None:
    p = write_fc(tmp_path / "long.geojson", [node("aktau", notes="x" * 10_001)])
    assert_refused(p, 1, ["long.geojson: feature aktau (#0): notes: text of 10,001 characters, "
                          "over the 10,000 allowed; shorten it"])  # fmt: skip


def test_long_property_name_is_refused(tmp_path: Path) -> None:
    p = write_fc(tmp_path / "longname.geojson", [node("aktau", **{"k" * 300: 1})])
    assert_refused(p, 1, ["feature aktau (#0): kkkk", "property name: text of 300 characters"])


def test_deep_property_is_refused_with_its_feature() -> None:
    assert_refused(DATA / "hostile_deep_property.geojson", 1,
                   ["feature deep (#0): notes: value nested more than 20 levels deep"])  # fmt: skip


# --- 3. nesting, long integers, huge and non-finite coordinates ---------------------------------


def test_deep_json_is_refused_before_decoding() -> None:
    assert_refused(DATA / "hostile_deep_json.geojson", 2,
                   ["hostile_deep_json.geojson: JSON nested more than 64 levels deep at line 1"])  # fmt: skip


def test_deep_json_in_a_property_string_is_only_text(tmp_path: Path) -> None:
    brackets = "[" * 3000 + "]" * 3000  # inside a string: text, not nesting
    gdf = load_layer(write_fc(tmp_path / "s.geojson", [node("aktau", notes=brackets)]))
    assert gdf["notes"].iloc[0] == brackets


def test_deep_list_in_a_csv_list_field_does_not_recurse(tmp_path: Path) -> None:
    p = tmp_path / "aliases.csv"
    deep = "[" * 3000 + "]" * 3000
    p.write_text(f'id,name,kind,country,gauge_change,source,aliases,lon,lat\n'
                 f'aktau,Aktau,port,KAZ,false,https://example.org/a,"{deep}",51.1383,43.6047\n')  # fmt: skip
    try:
        gdf = load_layer(p)
    except GeoError:  # refusing is fine; a RecursionError is not
        return
    assert gdf["aliases"].iloc[0] == [deep]


def test_long_integer_is_refused() -> None:
    assert_refused(DATA / "hostile_long_int.geojson", 1,
                   ["feature aktau (#0): population: integer of 5,000 digits"])  # fmt: skip


def test_huge_coordinates_are_refused() -> None:
    err = assert_refused(DATA / "hostile_huge_coordinate.geojson", 1,
                         ["feature inf (#0): geometry: NaN or infinite coordinate",
                          "feature longint (#1): geometry: coordinate with hundreds of digits"],
                         lines=2)  # fmt: skip
    assert "7777" not in err


def test_nan_coordinates_are_refused() -> None:
    assert_refused(DATA / "bad_nan.geojson", 1, ["feature nanpoint (#0)", "NaN or infinite"], 2)


def test_infinite_property_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "inf.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [node("a", depth=1.5)]})
                 .replace("1.5", "Infinity"))  # fmt: skip
    assert_refused(p, 1, ["feature a (#0): depth: NaN or infinite number"])


# --- 4. legacy crs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["hostile_crs_string", "hostile_crs_list", "hostile_crs_properties_string",
     "hostile_crs_engineering"],
)  # fmt: skip
def test_unusable_legacy_crs_is_one_line(name: str) -> None:
    err = assert_refused(DATA / f"{name}.geojson", 2, [f"{name}.geojson: crs:", "WGS84"])
    assert "'crs' member" in err


# --- 5. CSV -----------------------------------------------------------------------------------


def test_csv_field_over_the_csv_limit(tmp_path: Path) -> None:
    p = tmp_path / "huge_field.csv"
    p.write_text('id,name,lon,lat\naktau,"' + "x" * 200_000 + '",51,43\n')
    assert_refused(p, 2, ["huge_field.csv: CSV line", "field larger than field limit"])


def test_csv_with_two_lon_columns_is_refused() -> None:
    assert_refused(DATA / "hostile_two_lon.csv", 2,
                   ["hostile_two_lon.csv: lon: CSV header names the column 'lon' twice"])  # fmt: skip


def test_csv_number_with_underscores_is_refused() -> None:
    assert_refused(DATA / "hostile_underscore_number.csv", 1,
                   ["feature almaty (#0): lon/lat: '7_6.9_4', '4_3.26' is not a number pair"])  # fmt: skip


def test_csv_row_with_extra_cells_is_refused() -> None:
    assert_refused(DATA / "hostile_extra_cells.csv", 1,
                   ["feature aktau (#0): row: row has 9 cells, the header 8"])  # fmt: skip


def test_numeric_fields_are_strict() -> None:
    assert_refused(DATA / "hostile_underscore_fields.geojson", 1,
                   ["feature inkai (#0): output_value: expected a number such as 12.5, got '3_9.5'",
                    "feature inkai (#0): output_year: expected a whole number such as 1520, "
                    "got '2_024'"], lines=2)  # fmt: skip


def test_strict_numbers() -> None:
    assert readers.strict_float("-76.94") == -76.94
    assert readers.strict_float("1e3") == 1000.0
    for bad in ("7_6.9_4", "nan", "inf", "1e999", "٣", " ", "0x10", "1,5"):
        assert readers.strict_float(bad) is None, bad
    assert readers.strict_int("-1520") == -1520
    for bad in ("1_520", "1.0", "١٢", "9" * 400):
        assert readers.strict_int(bad) is None, bad


# --- 6. OGR files: truncated, several layers, upper-case suffixes ------------------------------


@pytest.fixture(scope="module")
def nodes() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "valid_nodes.geojson")


def test_truncated_flatgeobuf(tmp_path: Path, nodes: gpd.GeoDataFrame) -> None:
    whole = tmp_path / "whole.fgb"
    nodes.to_file(whole, driver="FlatGeobuf")
    cut = tmp_path / "cut.fgb"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert_refused(cut, 2, ["cut.fgb: cannot read as a GIS file", "truncated"])


def test_geopackage_with_two_layers(tmp_path: Path, nodes: gpd.GeoDataFrame) -> None:
    p = tmp_path / "two.gpkg"
    nodes.to_file(p, layer="ports", driver="GPKG")
    nodes.iloc[:1].to_file(p, layer="cities", driver="GPKG")
    assert_refused(p, 2, ["two.gpkg: holds 2 layers (ports, cities)", "layer=NAME"])
    assert len(load_layer(p, layer="cities")) == 1
    assert len(load_layer(p, layer="ports")) == 2
    with pytest.raises(
        UnreadableError, match="no layer named 'roads' in the file; use one of ports, cities"
    ):
        load_layer(p, layer="roads")


def shapefile_zip(folder: Path, zip_path: Path, frames: dict[str, gpd.GeoDataFrame]) -> Path:
    folder.mkdir()
    for stem, gdf in frames.items():
        with pytest.warns(UserWarning, match="truncated"):
            gdf.to_file(folder / f"{stem}.shp")
    with zipfile.ZipFile(zip_path, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return zip_path


def test_zip_with_two_shapefiles(tmp_path: Path, nodes: gpd.GeoDataFrame) -> None:
    p = shapefile_zip(tmp_path / "shp", tmp_path / "two.zip", {"a": nodes, "b": nodes.iloc[:1]})
    err = assert_refused(p, 2, ["two.zip: holds 2 layers", "layer=NAME"])
    assert "a" in err and "b" in err
    assert len(load_layer(p, layer="b")) == 1


def test_layer_argument_on_a_single_layer_text_file() -> None:
    with pytest.raises(UnreadableError, match="holds one layer; omit it"):
        read_raw(DATA / "valid_nodes.geojson", layer="x")


@pytest.mark.parametrize("name", ["PLAIN.ZIP", "NODES.GEOJSON", "NODES.CSV", "NODES.GPKG"])
def test_upper_case_suffixes(tmp_path: Path, nodes: gpd.GeoDataFrame, name: str) -> None:
    p = tmp_path / name
    if name.endswith(".ZIP"):
        shapefile_zip(tmp_path / "shp", p, {"nodes": nodes})
    elif name.endswith(".GPKG"):
        nodes.to_file(p, driver="GPKG")
    else:
        p.write_bytes((DATA / f"valid_nodes.{name.split('.')[1].lower()}").read_bytes())
    code, out, err = cli("validate", str(p))
    assert code == 0, err
    assert f"{p}: valid node layer, 2 features" in out


# --- 7. lone surrogates -----------------------------------------------------------------------


def test_lone_surrogate_is_refused_by_validate_and_add() -> None:
    assert_refused(DATA / "hostile_surrogate_name.geojson", 1,
                   ["feature aktau (#0): name: text holds a lone surrogate",
                    "re-save the file as UTF-8"])  # fmt: skip


def test_lone_surrogate_in_a_property_name(tmp_path: Path) -> None:
    p = tmp_path / "key.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [node("a", x=1)]})
                 .replace('"x"', '"x\\udfff"'))  # fmt: skip
    assert_refused(p, 1, ["feature a (#0): x\\udfff: property name: text holds a lone surrogate"])


# --- 8. antimeridian ----------------------------------------------------------------------------


def test_line_across_the_antimeridian_is_split_and_short() -> None:
    gdf = load_layer(DATA / "hostile_antimeridian.geojson")
    g = gdf.geometry.iloc[0]
    assert g.geom_type == "MultiLineString"
    assert [list(p.coords) for p in g.geoms] == [[(179.95, 65.0), (180.0, 65.0)],
                                                 [(-180.0, 65.0), (-179.95, 65.0)]]  # fmt: skip
    km = Geod(ellps="WGS84").geometry_length(g) / 1000
    assert km == pytest.approx(4.7, abs=0.1)


def test_antimeridian_link_lies_in_one_place() -> None:
    from geo.data.countries import km_by_country

    g = load_layer(DATA / "hostile_antimeridian.geojson").geometry.iloc[0]
    by_country = km_by_country(g)
    assert len(by_country) == 1
    assert sum(by_country.values()) == pytest.approx(4.7, abs=0.1)


def test_shapefile_with_a_fifo_beside_it_does_not_hang(
    tmp_path: Path, nodes: gpd.GeoDataFrame
) -> None:
    with pytest.warns(UserWarning, match="truncated"):
        nodes.to_file(tmp_path / "n.shp")
    (tmp_path / "n.dbf").unlink()
    os.mkfifo(tmp_path / "n.dbf")
    assert_unreadable_without_blocking(tmp_path / "n.shp")
    assert_refused(tmp_path / "n.shp", 2, ["n.dbf: is a named pipe (FIFO)"])


def test_polygon_across_the_antimeridian_is_split() -> None:
    import shapely

    poly = shapely.Polygon([(179, 60), (-179, 60), (-179, 61), (179, 61)])
    g = readers.split_antimeridian(poly)
    assert g.geom_type == "MultiPolygon" and g.is_valid
    assert sorted(round(p.area, 9) for p in g.geoms) == [1.0, 1.0]
    assert g.bounds == (-180.0, 60.0, 180.0, 61.0)
    untouched = shapely.LineString([(10, 10), (20, 20)])
    assert readers.split_antimeridian(untouched) is untouched


# --- 9. validate says valid only for what add and map can process ------------------------------


def hostile_fixtures() -> Iterator[Path]:
    for pattern in ("hostile_*", "bad_*"):
        yield from sorted(p for p in DATA.glob(pattern) if p.suffix in (".geojson", ".csv"))


def source_texts(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8") as f:
            return list(csv.DictReader(f))
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [f["properties"] for f in doc["features"]]


@pytest.mark.parametrize("path", list(hostile_fixtures()), ids=lambda p: p.name)
def test_every_hostile_fixture_is_refused_or_kept_literally(path: Path) -> None:
    try:
        gdf = load_layer(path)
    except GeoError:
        code, _, err = cli("validate", str(path))
        assert code != 0 and err.strip()
        return
    code, _, _ = cli("validate", str(path))
    assert code == 0
    kind = SCHEMA[gdf.attrs["kind"]]
    for i, props in enumerate(source_texts(path)):
        for key, value in props.items():
            f = kind.field(key)
            if isinstance(value, str) and value and (f is None or f.type == "str"):
                assert gdf[key].iloc[i] == value, (key, value)
    before = file_state(path)
    code, _, err = cli("layers", "add", str(path), "--name", "probe", "--force")
    assert code == 0, err
    assert file_state(path) == before
    stored = load_layer(user_dir() / "probe.geojson", kind=gdf.attrs["kind"])
    for col in gdf.columns:
        if col != "geometry" and gdf[col].map(lambda v: isinstance(v, str)).any():
            assert stored[col].tolist() == gdf[col].tolist(), col
    cli("layers", "remove", "probe")


def test_template_text_is_kept_verbatim() -> None:
    gdf = load_layer(DATA / "hostile_template_text.geojson")
    assert gdf["name"].iloc[0] == "Tariff {{ rate }} per TEU"
    assert gdf["notes"].iloc[0].startswith("{{ 7*7 }} {% if x %} {#1} and {#2#} {{ lipsum.")
    assert gdf["evil_{{7*7}}"].iloc[0] == "${7*7} #{7*7} <%= 7*7 %>"
