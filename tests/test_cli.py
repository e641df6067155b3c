"""The `corridor` command line on the real data: outputs, formats and user mistakes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from geo.analysis.stats import STAT_KEYS
from geo.cli import app

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stdout + r.stderr
    return r.exit_code, r.stdout, r.stderr


def test_route_json_has_exactly_the_documented_keys() -> None:
    code, out, err = cli("route", "Xi'an", "Duisburg", "--avoid", "RUS", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == [*STAT_KEYS, "path", "legs"]
    assert data["transits_russia"] is False and data["russia_km"] == 0
    assert data["path"][0].startswith("Xi'an") and data["path"][-1].startswith("Duisburg")
    assert sum(leg["length_km"] for leg in data["legs"]) == pytest.approx(data["length_km"], abs=1)
    assert set(data["transit_days"]) == {"low", "typical", "high"}
    assert set(data["deposits_nearby"]) == {"count", "by_commodity", "ids", "buffer_km", "list"}


@pytest.mark.parametrize(
    ("spelling", "place"),
    [("constanta", "Constanța"), ("Constanța", "Constanța"), ("CONSTANTA", "Constanța"),
     ("constanta_port", "Port of Constanța")],
)  # fmt: skip
def test_place_names_any_case_and_accents(spelling: str, place: str) -> None:
    # the city (places.geojson) answers to its name in any case and accents; the port to its id
    code, out, _ = cli("route", "xian", spelling, "--avoid", "RUS", "--format", "json")
    assert code == 0
    assert json.loads(out)["path"][-1] == place


def test_route_formats() -> None:
    code, out, _ = cli("route", "Tbilisi", "Kars", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))  # one row per route, flat columns
    assert len(rows) == 1 and rows[0]["route"] == "1" and rows[0]["to"] == "Kars"
    assert float(rows[0]["length_km"]) == float(rows[0]["km_rail"]) + float(rows[0]["km_road"])
    assert rows[0]["countries"] == "GEO-TUR" and rows[0]["gauge_breaks_count"] == "1"
    code, out, _ = cli("route", "Tbilisi", "Kars", "--format", "markdown")
    assert code == 0 and out.startswith("| statistic | value |")
    code, out, _ = cli("route", "Tbilisi", "Kars")
    assert code == 0 and "Akhalkalaki" in out and "gauge_breaks" in out


def test_blocked_route_says_which_constraint() -> None:
    code, out, err = cli("route", "Almaty", "Duisburg", "--avoid", "RUS", "--modes", "rail")
    assert code == 1 and out == ""
    assert err.strip() == (
        "no route from Almaty-1 to Duisburg (duisport) avoiding RUS with modes rail using "
        "operational links: the Caspian needs mode ferry"
    )


def test_user_mistakes_are_one_line_and_exit_nonzero() -> None:
    for args, needle in [
        (("route", "Atlantis", "Duisburg"), "unknown place 'Atlantis'"),
        (("route", "Almaty", "Duisburg", "--avoid", "XYZ"), "--avoid: 'XYZ'"),
        (("route", "Almaty", "Duisburg", "--modes", "plane"), "--modes: 'plane'"),
        (("route", "Almaty", "Duisburg", "--status", "dreamt"), "--status: 'dreamt'"),
        (("route", "Almaty", "Duisburg", "--format", "xml"), "--format: 'xml'"),
        (("stats", "no_such_route"), "unknown reference route 'no_such_route'"),
        (("schema", "blob"), "unknown kind 'blob'"),
    ]:
        code, _, err = cli(*args)
        assert code != 0, args
        assert needle in err and len(err.strip().splitlines()) == 1, (args, err)


def test_stats_json_lists_every_reference_route() -> None:
    code, out, _ = cli("stats", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert {"titr_main", "northern_corridor", "sea_suez", "sea_cape"} <= {r["id"] for r in rows}
    for r in rows:
        assert {"id", "name", *STAT_KEYS} <= set(r)
    by = {r["id"]: r for r in rows}
    assert by["northern_corridor"]["transits_russia"] and not by["titr_main"]["transits_russia"]


def test_stats_table_side_by_side() -> None:
    code, out, _ = cli("stats", "titr_main", "northern_corridor", "--format", "markdown")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("| id | km | days |") and len(lines) == 4


def test_bypass_prices_avoiding_russia() -> None:
    code, out, _ = cli("bypass", "--to", "Duisburg", "--format", "json")
    assert code == 0
    rows = {(r["kind"], r["origin"]): r for r in json.loads(out)}
    astana = rows[("node", "astana")]
    assert astana["bypass_km"] > astana["shortest_km"] and astana["extra_km"] > 0
    assert ("deposit", "aktogay") in rows and ("node", "aktogay") in rows


def test_schema_prints_every_kind() -> None:
    code, out, _ = cli("schema")
    assert code == 0
    for kind in ("segment (LineString", "node (Point)", "deposit (Point)", "area (Polygon"):
        assert kind in out


def test_console_script_never_shows_a_traceback() -> None:
    r = subprocess.run([sys.executable, "-m", "geo", "route", "Atlantis", "Duisburg"],
                       capture_output=True, text=True, check=False)  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.strip().startswith("unknown place 'Atlantis'")
    assert "Traceback" not in r.stderr


def test_exports_uranium_to_yokohama() -> None:
    code, out, err = cli("exports", "--commodity", "uranium", "--market", "Yokohama",
                         "--avoid", "RUS", "--format", "json")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    rows = data["routes"]
    kaz = [r for r in rows if r["country"] == "KAZ"]
    assert len(kaz) >= 10 and all("uranium" in r["commodities"] for r in rows)
    assert all(r["market"] == "yokohama_port" and r["km"] > 0 for r in kaz)
    assert not any(r["transits_russia"] for r in rows)
    summary = {(s["by"], s["group"]): s for s in data["summary"]}
    assert summary[("commodity", "uranium")]["rus_chn_free"] >= 10


def test_exports_unknown_commodity_is_an_error() -> None:
    code, _, err = cli("exports", "--commodity", "unobtainium")
    assert code == 1 and "unobtainium" in err
