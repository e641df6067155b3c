"""One test per validator check, each on a tiny fixture in tests/data/."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from geo.cli import app
from geo.data.layers import load_layer
from geo.errors import UnreadableError, ValidationError

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def run_validate(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, ["validate", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.stderr
    return r.exit_code, r.stdout, r.stderr


# (fixture, exit code, [substrings every reported line set must contain])
CASES = [
    ("bad_malformed.geojson", 2, ["bad_malformed.geojson", "malformed JSON at line 2"]),
    ("bad_not_geojson.geojson", 2, ["not GeoJSON", "Topology"]),
    ("bad_binary.geojson", 2, ["binary data"]),
    ("bad_latin1.geojson", 2, ["not UTF-8", "re-save the file as UTF-8"]),
    ("bad_empty.geojson", 2, ["file is empty"]),
    ("bad_no_features.geojson", 2, ["no features"]),
    ("bad_legacy_crs.geojson", 2, ["crs:", "cannot be honoured", "WGS84"]),
    ("bad_geometry_type.geojson", 1, ["feature line1 (#1)", "geometry:", "LineString", "node"]),
    ("bad_null_geometry.geojson", 1, ["feature nowhere (#0)", "geometry:", "null"]),
    ("bad_empty_geometry.geojson", 1, ["feature hollow (#0)", "geometry:", "empty"]),
    ("bad_self_intersection.geojson", 1, ["feature bowtie (#0)", "geometry:", "Self-intersection[61 41]"]),
    ("bad_nan.geojson", 1, ["feature nanpoint (#0)", "feature infpoint (#1)", "NaN or infinite"]),
    ("bad_out_of_range.geojson", 1, ["feature far (#0)", "geometry:", "out of range"]),
    ("bad_projected.geojson", 1, ["feature mercator (#0)", "geometry:", "projected metres", "EPSG:4326"]),
    ("bad_swapped.geojson", 1, ["feature zhezkazgan (#0)", "country:", "swapped"]),
    ("bad_duplicate_ids.geojson", 1, ["feature aktau (#1)", "id:", "duplicate id 'aktau'"]),
    ("bad_missing_props.geojson", 1, ["feature inkai (#0)", "name: missing required", "source: missing required"]),
    ("bad_enum.geojson", 1, ["feature s1 (#0)", "mode: 'rial' is not one of rail, road, ferry, sea, pipeline; did you mean 'rail'?"]),
    ("bad_csv_number.csv", 1, ["feature aktau (#0)", "lon/lat:", "not a number pair"]),
    ("bad_unknown_kind.geojson", 1, ["kind:", "--kind"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "code", "needles"), CASES, ids=[c[0] for c in CASES])
def test_each_check_reports_file_feature_field(name: str, code: int, needles: list[str]) -> None:
    exit_code, _, stderr = run_validate(str(DATA / name))
    assert exit_code == code, stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)
    for line in stderr.strip().splitlines():
        assert line.startswith(str(DATA / name) + ":"), line


def test_every_problem_reported_at_once_one_line_each() -> None:
    _, _, stderr = run_validate(str(DATA / "bad_missing_props.geojson"))
    assert len(stderr.strip().splitlines()) == 2


def test_valid_geojson_and_csv() -> None:
    code, out, _ = run_validate(str(DATA / "valid_nodes.geojson"), str(DATA / "valid_nodes.csv"))
    assert code == 0
    assert "valid node layer, 2 features" in out


def test_csv_values_normalised() -> None:
    gdf = load_layer(DATA / "valid_nodes.csv")
    assert gdf["gauge_change"].tolist() == [False, False]
    assert gdf.geometry.iloc[0].x == pytest.approx(51.1383)


def test_worst_exit_code_wins() -> None:
    code, _, stderr = run_validate(str(DATA / "bad_enum.geojson"), str(DATA / "bad_empty.geojson"))
    assert code == 2
    assert "rial" in stderr and "file is empty" in stderr


def test_missing_file_is_unreadable() -> None:
    code, _, stderr = run_validate(str(DATA / "no_such_file.geojson"))
    assert code == 2 and "file not found" in stderr


def test_legacy_crs_is_honoured_by_reprojection() -> None:
    gdf = load_layer(DATA / "legacy_crs_3857.geojson")
    p = gdf.geometry.iloc[0]
    assert p.x == pytest.approx(51.1383, abs=1e-3) and p.y == pytest.approx(43.6047, abs=1e-3)


def test_kind_option_overrides_detection() -> None:
    code, _, stderr = run_validate("--kind", "deposit", str(DATA / "valid_nodes.geojson"))
    assert code == 1
    assert "commodities: missing required" in stderr


@pytest.fixture
def projected_gpkg(tmp_path: Path) -> Path:
    gdf = gpd.read_file(DATA / "valid_nodes.geojson").to_crs(3857)
    out = tmp_path / "nodes_3857.gpkg"
    gdf.to_file(out, driver="GPKG")
    return out


def test_geopackage_in_web_mercator_is_reprojected(projected_gpkg: Path) -> None:
    gdf = load_layer(projected_gpkg)
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].x == pytest.approx(51.1383, abs=1e-6)


@pytest.mark.parametrize("driver", ["ESRI Shapefile", "FlatGeobuf", "shapefile-zip"])
def test_other_formats_read(tmp_path: Path, driver: str) -> None:
    gdf = gpd.read_file(DATA / "valid_nodes.geojson")
    if driver == "shapefile-zip":
        shp = tmp_path / "shp" / "nodes.shp"
        shp.parent.mkdir()
        gdf.to_file(shp, driver="ESRI Shapefile")
        path = tmp_path / "nodes.zip"
        with zipfile.ZipFile(path, "w") as z:
            for f in shp.parent.iterdir():
                z.write(f, f.name)
    else:
        path = tmp_path / ("nodes.shp" if driver == "ESRI Shapefile" else "nodes.fgb")
        gdf.to_file(path, driver=driver)
    code, out, stderr = run_validate(str(path))
    assert code == 0, stderr
    assert "valid node layer, 2 features" in out


def test_not_a_gis_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.gpkg"
    p.write_bytes(b"this is not a geopackage")
    code, _, stderr = run_validate(str(p))
    assert code == 2 and "cannot read as a GIS file" in stderr


def test_input_file_is_never_modified(tmp_path: Path) -> None:
    src = tmp_path / "copy.geojson"
    shutil.copy(DATA / "bad_enum.geojson", src)
    before = src.read_bytes()
    run_validate(str(src))
    assert src.read_bytes() == before


def test_python_api_raises_one_exception_family() -> None:
    with pytest.raises(ValidationError) as e:
        load_layer(DATA / "bad_duplicate_ids.geojson")
    assert len(e.value.problems) == 1
    with pytest.raises(UnreadableError):
        load_layer(DATA / "bad_empty.geojson")


def test_every_field_type_of_the_schema_has_a_column_check() -> None:
    """A new field type without a check in the table fails here, not in a user's file."""
    from geo.data.schema import SCHEMA, Field
    from geo.data.validate import CHECKS

    declared = {f.type for k in SCHEMA.values() for f in k.fields}
    documented = set(
        (Field.__doc__ or "").split("``")[1::2][1:-1]
    )  # the types the Field docstring names
    assert declared <= set(CHECKS), declared - set(CHECKS)
    assert documented <= set(CHECKS), documented - set(CHECKS)
