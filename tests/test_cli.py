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


ROUTES = {  # each route of an exports row and the constraints `corridor route` gets for it
    "": [],  # exports run without --avoid: the best route is the unconstrained one
    "shortest_": [],
    "rus_free_": ["RUS"],
    "rus_chn_free_": ["RUS", "CHN"],
}
FIGURES = {"transit_days": "transit_days", "cost_usd_per_teu": "cost_usd_per_teu",
           "co2e_kg_per_teu": "co2e_kg_per_teu"}  # fmt: skip
CASES = ("low", "typical", "high")


@pytest.fixture(scope="module")
def inkai_yokohama() -> dict:
    code, out, err = cli("exports", "--commodity", "uranium", "--market", "Yokohama",
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    return next(r for r in data["routes"] if r["name"] == "Inkai")


@pytest.mark.parametrize("prefix", list(ROUTES))
def test_exports_inkai_to_yokohama_is_corridor_route(inkai_yokohama: dict, prefix: str) -> None:
    """Kazakh uranium to Japan (issue 17's worked example): each route of the exports row is
    what `corridor route Inkai Yokohama` answers under the same constraints, in km, days (low,
    typical, high), USD and kg CO2e per TEU."""
    row, avoid = inkai_yokohama, ROUTES[prefix]
    args = ["--avoid", ",".join(avoid)] if avoid else []
    code, out, err = cli("route", "Inkai", "Yokohama", *args, "--format", "json")
    assert code == 0, err
    stats = json.loads(out)
    assert row[f"{prefix}km"] == stats["length_km"]
    for figure in FIGURES:
        assert stats[figure] is not None  # uranium goes by rail and sea: every figure exists
        got = [row[f"{prefix}{figure}_{c}"] for c in CASES]
        assert got == [stats[figure][c] for c in CASES], figure
        assert got[0] <= got[1] <= got[2]


def test_exports_extras_are_the_differences_to_the_unconstrained_route(
    inkai_yokohama: dict,
) -> None:
    row = inkai_yokohama
    # avoiding Russia changes nothing for Inkai (its way to Japan runs through China) ...
    assert row["rus_free_km"] == row["shortest_km"] and row["rus_free_extra_km"] == 0
    # ... avoiding China too takes the long way by sea: more km, days, money and carbon
    assert row["rus_chn_free_extra_km"] == round(row["rus_chn_free_km"] - row["shortest_km"], 1)
    assert row["rus_chn_free_extra_km"] > 5000
    for figure, digits in (("transit_days", 1), ("cost_usd_per_teu", 0), ("co2e_kg_per_teu", 0)):
        for key in ("rus_free", "rus_chn_free"):
            diffs = [round(row[f"{key}_{figure}_{c}"] - row[f"shortest_{figure}_{c}"], digits)
                     for c in CASES]  # fmt: skip
            extra = [row[f"{key}_extra_{figure}_{c}"] for c in CASES]
            # the typical extra is the typical difference; the ends the least and the most
            assert extra == [min(diffs), diffs[1], max(diffs)], (key, figure)
        assert row[f"rus_chn_free_extra_{figure}_typical"] > 0


def test_exports_csv_and_table_carry_money_and_carbon(inkai_yokohama: dict) -> None:
    code, out, err = cli("exports", "--commodity", "uranium", "--market", "Yokohama",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    inkai = next(r for r in rows if r["name"] == "Inkai")
    for key in ("transit_days_typical", "cost_usd_per_teu_low", "co2e_kg_per_teu_high",
                "rus_chn_free_extra_cost_usd_per_teu_typical"):  # fmt: skip
        assert float(inkai[key]) > 0, key
    code, out, err = cli("exports", "--commodity", "uranium", "--market", "Yokohama")
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 160
    head = next(line for line in lines if "deposit" in line and "USD/TEU" in line)
    for column in ("km", "days", "USD/TEU", "kg CO2e/TEU", "via RUS/CHN", "RUS-free +km",
                   "+USD", "+kg CO2e", "note"):  # fmt: skip
        assert column in head, column
    line = next(line for line in lines if line.startswith("│ Inkai "))
    cells = [c.strip() for c in line.split("│")[1:-1]]
    r = inkai_yokohama
    assert cells[2:6] == [str(r["km"]), str(r["transit_days_typical"]),
                          f"{r['cost_usd_per_teu_typical']:.0f}",
                          f"{r['co2e_kg_per_teu_typical']:.0f}"]  # fmt: skip


def test_exports_leave_a_pipeline_routes_money_and_carbon_empty() -> None:
    """Oil by pipe carries no container: no USD or CO2e per TEU (null, never 0), and the
    table says why."""
    code, out, err = cli("exports", "--commodity", "oil", "--market", "Rotterdam",
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    tengiz = next(r for r in json.loads(out)["routes"] if r["deposit"] == "tengiz")
    assert tengiz["km"] > 0 and tengiz["transit_days_typical"] > 0
    for key in (
        "cost_usd_per_teu_typical",
        "co2e_kg_per_teu_low",
        "extra_cost_usd_per_teu_high",
        "rus_free_co2e_kg_per_teu_typical",
        "rus_free_extra_cost_usd_per_teu_low",
    ):
        assert tengiz[key] is None, key
    code, out, err = cli("exports", "--commodity", "oil", "--market", "Rotterdam", "--no-summary")
    line = next(line for line in out.splitlines() if line.startswith("│ Tengiz"))
    assert "pipeline" in line


def test_exports_unknown_commodity_is_an_error() -> None:
    code, _, err = cli("exports", "--commodity", "unobtainium")
    assert code == 1 and "unobtainium" in err


@pytest.mark.parametrize("argv", [["corridor", "places", "--format", "json"], ["corridor", "nope"]])
def test_main_runs_a_command_without_the_cycle_collector_and_restores_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the command runs with gc off (its walks over a big layer's objects find nothing); a caller
    # in a longer-lived process gets the collector back as it was, after success or failure
    import gc

    from geo import cli as cli_module

    seen: list[bool] = []
    real_app = cli_module.app

    def app_recording() -> None:
        seen.append(gc.isenabled())
        real_app()

    monkeypatch.setattr(cli_module, "app", app_recording)
    monkeypatch.setattr(sys, "argv", argv)
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        cli_module.main()
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(SystemExit):
            cli_module.main()
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
