"""User layers: add, list, use in statistics, remove; every bad input refused cleanly."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from helpers import run_cli as cli
from typer.testing import CliRunner

import geo
from geo.data import store
from geo.data.store import user_dir, user_layers

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def prospects(tmp_path: Path) -> Path:
    """Two uranium prospects close to the TITR main line in southern Kazakhstan."""
    feats = [
        {"type": "Feature", "properties": {
            "id": f"prospect_{i}", "name": f"Prospect {i}", "commodities": ["uranium"],
            "kind": "occurrence", "status": "exploration", "country": "KAZ",
            "location_precision": "approximate", "source": "https://example.org/survey",
            "grade": "high" if i == 1 else "low"},
         "geometry": {"type": "Point", "coordinates": [x, y]}}
        for i, (x, y) in enumerate([(68.30, 42.90), (69.60, 42.30)], 1)
    ]  # fmt: skip
    p = tmp_path / "prospects.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return p


def test_round_trip_add_list_stats_remove(home: Path, prospects: Path) -> None:
    before = digest(prospects)
    base = geo.route("Shu", "Arys").attrs["stats"]["deposits_nearby"]["count"]
    code, out, err = cli(
        "layers", "add", str(prospects), "--name", "prospects", "--color-by", "grade"
    )
    assert code == 0, err
    assert "added deposit layer 'prospects' (2 features)" in out
    assert (home / "prospects.geojson").is_file()
    assert digest(prospects) == before  # the input is never modified
    code, out, _ = cli("layers", "--format", "csv")
    assert code == 0
    assert "prospects,deposit,2,user," in out and "deposits,deposit,90,bundled," in out
    stats = geo.route("Shu", "Arys").attrs["stats"]["deposits_nearby"]
    assert stats["count"] == base + 2
    assert {"prospect_1", "prospect_2"} <= set(stats["ids"])
    code, out, _ = cli("layers", "remove", "prospects")
    assert code == 0 and not (home / "prospects.geojson").exists()
    assert geo.route("Shu", "Arys").attrs["stats"]["deposits_nearby"]["count"] == base


def test_force_needed_to_replace(home: Path, prospects: Path) -> None:
    assert cli("layers", "add", str(prospects))[0] == 0
    code, _, err = cli("layers", "add", str(prospects))
    assert code == 1 and "exists already; pass --force" in err
    assert cli("layers", "add", str(prospects), "--force")[0] == 0


def test_stored_copy_is_normalised_rfc7946(home: Path, tmp_path: Path) -> None:
    # A clockwise outer ring in EPSG:3857 comes back counter-clockwise in WGS84.
    ring = [(6.6e6, 5.4e6), (6.6e6, 5.5e6), (6.7e6, 5.5e6), (6.7e6, 5.4e6), (6.6e6, 5.4e6)]
    gdf = gpd.GeoDataFrame({"id": ["z1"], "name": ["Zone"], "source": ["https://example.org"]},
                           geometry=[shapely.Polygon(ring)], crs=3857)  # fmt: skip
    src = tmp_path / "zone.gpkg"
    gdf.to_file(src, driver="GPKG")
    assert cli("layers", "add", str(src), "--kind", "area")[0] == 0
    stored = json.loads((home / "zone.geojson").read_text())
    coords = stored["features"][0]["geometry"]["coordinates"][0]
    assert shapely.Polygon(coords).exterior.is_ccw
    assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in coords)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "shpzip", "fgb", "csv"])
def test_every_input_format(home: Path, tmp_path: Path, fmt: str) -> None:
    nodes = gpd.read_file(DATA / "valid_nodes.geojson")
    nodes["id"] = "my_" + nodes["id"]  # bundled ids are reserved
    if fmt == "csv":
        src = tmp_path / "nodes.csv"
        text = (DATA / "valid_nodes.csv").read_text()
        src.write_text(text.replace("\naktau,", "\nmy_aktau,").replace("\nalmaty,", "\nmy_almaty,"))
    elif fmt == "shpzip":
        folder = tmp_path / "shp"
        folder.mkdir()
        nodes.to_file(folder / "n.shp")
        src = tmp_path / "nodes.zip"
        with zipfile.ZipFile(src, "w") as z:
            for f in folder.iterdir():
                z.write(f, f.name)
    else:
        src = tmp_path / f"nodes.{fmt}"
        drivers = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "fgb": "FlatGeobuf",
                   "geojson": "GeoJSON"}  # fmt: skip
        nodes.to_file(src, driver=drivers[fmt])
    code, _out, err = cli("layers", "add", str(src), "--name", f"n_{fmt}")
    assert code == 0, err
    (layer,) = user_layers()
    assert layer.attrs["kind"] == "node" and len(layer) == 2
    assert sorted(layer["id"]) == ["my_aktau", "my_almaty"]


BAD = sorted(p.name for p in DATA.glob("bad_*"))


@pytest.mark.parametrize("name", BAD)
def test_bad_input_refused_nothing_written(home: Path, name: str) -> None:
    src = DATA / name
    before = digest(src)
    code, _out, err = cli("layers", "add", str(src))
    assert code != 0
    assert err.strip() and str(src) in err
    assert not home.exists() or not any(home.iterdir())
    assert digest(src) == before


def test_remove_unknown_layer(home: Path) -> None:
    code, _, err = cli("layers", "remove", "nothing")
    assert code == 1 and "no user layer named 'nothing'" in err


def test_bad_color_by_refused(home: Path, prospects: Path) -> None:
    code, _, err = cli("layers", "add", str(prospects), "--color-by", "colour")
    assert code == 1 and "--color-by: no property 'colour'" in err
    assert not home.exists() or not any(home.iterdir())


def test_user_segment_joins_the_network_with_status_all(home: Path, tmp_path: Path) -> None:
    """A planned direct line Shu - Kyzylorda changes the route only with --status all."""
    net = geo.network()
    shu = net.nodes.loc["shu"].geometry
    kyz = net.nodes.loc["kyzylorda"].geometry
    line = {"type": "Feature", "properties": {
        "id": "shortcut", "name": "Planned shortcut", "corridor": "TITR", "mode": "rail",
        "status": "planned", "gauge_mm": 1520, "from": None, "to": None, "precision": "straight",
        "source": "https://example.org/plan"},
        "geometry": {"type": "LineString", "coordinates": [[shu.x + 0.01, shu.y], [kyz.x, kyz.y + 0.01]]}}  # fmt: skip
    src = tmp_path / "plan.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": [line]}))
    assert cli("layers", "add", str(src))[0] == 0
    normal = geo.route("Shu", "Kyzylorda")
    assert "shortcut" not in list(normal["segment_id"])
    planned = geo.route("Shu", "Kyzylorda", status="all")
    assert list(planned["segment_id"]) == ["shortcut"]
    assert any("segment shortcut: from end joined to node shu" in s for s in geo.network().snapped)


def test_user_dir_follows_corridor_home(home: Path) -> None:
    assert user_dir() == home


def test_user_deposits_count_in_bypass(home: Path, prospects: Path) -> None:
    assert cli("layers", "add", str(prospects))[0] == 0
    frame = geo.bypass(to="Duisburg")
    rows = frame[frame["kind"] == "deposit"].set_index("origin")
    assert "prospect_1" not in rows.index  # exploration, not producing: not a bypass origin
    frame = geo.bypass(to="Duisburg", origins=["deposit:prospect_1"])
    assert frame.loc[0, "shortest_km"] > 0


def test_layers_listing_reports_snapped_ends(home: Path, tmp_path: Path) -> None:
    net = geo.network()
    shu = net.nodes.loc["shu"].geometry
    line = {"type": "Feature", "properties": {
        "id": "spur", "name": "Spur", "corridor": "X", "mode": "rail", "status": "planned",
        "gauge_mm": 1520, "precision": "straight", "source": "https://example.org/spur"},
        "geometry": {"type": "LineString", "coordinates": [[shu.x + 0.02, shu.y], [shu.x + 1.5, shu.y + 1.5]]}}  # fmt: skip
    src = tmp_path / "spur.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": [line]}))
    code, _, err = cli("layers", "add", str(src))
    assert code == 0
    assert "note: segment spur: from end joined to node shu" in err
    assert "warning: segment spur: to has no node" in err


# --- issue 19: the store keeps what it validated; commands that need no layer load none ----


def _stored_meta(p: Path) -> dict[str, object]:
    meta = json.loads(p.read_text(encoding="utf-8"))["corridor_layer"]
    assert isinstance(meta, dict)
    return meta


@pytest.mark.parametrize(
    ("src", "kind"),
    [("map_user_deposits.geojson", None), ("net_segments.geojson", None),
     ("net_nodes.geojson", None), ("hostile_antimeridian.geojson", None),
     ("mixed", None)],
)  # fmt: skip
def test_checksummed_layer_reads_as_validating_it_would(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, src: str, kind: str | None
) -> None:
    name = src.split(".")[0]
    path = DATA / src
    if src == "mixed":  # extra properties of every JSON shape, some missing
        path = tmp_path / "mixed.geojson"
        feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [68.3 + i, 42.9]},
                  "properties": {"id": f"m{i}", "name": f"M {i}", "commodities": ["gold"],
                                 "kind": "mine", "status": "producing", "country": "KAZ",
                                 "location_precision": "exact", "source": "https://example.org",
                                 "extra": [1, "a", None, {"b": 2.5}][i], "n": [1, 2.5, None, 4][i],
                                 **({"as_of": "2024-01-02"} if i % 2 else {})}}
                 for i in range(4)]  # fmt: skip
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    args = ["layers", "add", str(path), "--name", name] + (["--kind", kind] if kind else [])
    code, _, err = cli(*args)
    assert code == 0, err
    target = home / f"{name}.geojson"
    meta = _stored_meta(target)
    assert isinstance(meta["sha256"], str) and meta["format"] == store.STORE_FORMAT
    validated = store.load_layer(target, kind=str(meta["kind"]), check_countries=False)
    parts = store.checked_meta(target.read_bytes())
    assert parts is not None
    fast = store.checked_frame(*parts)
    assert store.same_frame(validated, fast)
    for c in validated.columns:
        assert validated[c].dtype == fast[c].dtype, c

    def never(*_: object, **__: object) -> None:
        raise AssertionError("a checksummed stored layer was validated again")

    monkeypatch.setattr(store, "load_layer", never)
    (back,) = user_layers()
    assert len(back) == len(validated) and back.attrs["name"] == name


def test_an_edited_layer_is_validated_again(home: Path, prospects: Path) -> None:
    assert cli("layers", "add", str(prospects))[0] == 0
    target = home / "prospects.geojson"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("Prospect 1", "Prospect one"), encoding="utf-8")
    assert store.checked_meta(target.read_bytes()) is None  # the checksum no longer matches
    (back,) = user_layers()  # a valid edit still reads, through full validation
    assert "Prospect one" in set(back["name"])
    target.write_text(text.replace('"exploration"', '"bogus"', 1), encoding="utf-8")
    with pytest.raises(store.StoreProblemsError, match="does not read back"):
        user_layers()


def test_a_format_2_layer_without_checksum_still_reads(home: Path, prospects: Path) -> None:
    assert cli("layers", "add", str(prospects))[0] == 0
    target = home / "prospects.geojson"
    doc = json.loads(target.read_text(encoding="utf-8"))
    for key in ("sha256", "columns"):
        doc["corridor_layer"].pop(key)
    doc["corridor_layer"]["format"] = 2
    target.write_text(json.dumps(doc), encoding="utf-8")
    (back,) = user_layers()
    assert len(back) == 2
    code, out, _ = cli("layers", "--format", "csv")
    assert code == 0 and "prospects,deposit,2,user" in out


def test_commands_that_need_no_layer_load_none(
    home: Path, prospects: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("layers", "add", str(prospects))[0] == 0

    def never(*_: object, **__: object) -> None:
        raise AssertionError("a stored layer's features were loaded")

    for fn in ("_read_one", "checked_frame", "scan_store", "user_layers"):
        monkeypatch.setattr(store, fn, never)
    code, out, err = cli("layers", "--format", "csv")  # listing: from the metadata
    assert code == 0, err
    assert "prospects,deposit,2,user" in out
    code, out, err = cli("layers")  # the table too: a deposit layer changes no network line
    assert code == 0 and "prospects" in out, err
    code, out, err = cli("validate", str(prospects))
    assert code == 0 and "valid deposit layer, 2 features" in out, err
    assert cli("schema", "deposit")[0] == 0
    code, _, err = cli("layers", "remove", "prospects")
    assert code == 0, err
    assert not (home / "prospects.geojson").exists()
