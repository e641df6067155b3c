"""`corridor map --png` and `corridor route --map --png`: a picture of the offline page."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from .conftest import CHROMIUM, ROOT, MapPage

pytestmark = pytest.mark.browser


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user layer store; the tests' own Chromium for the export."""
    monkeypatch.setenv("CORRIDOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CORRIDOR_CHROMIUM", CHROMIUM)
    return tmp_path / "home"


def _corridor(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command in its own process: Playwright's sync API runs one session per thread, and
    the tests' browser holds this one."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run([sys.executable, "-m", "geo", *args], capture_output=True, text=True,
                          env=env, timeout=600, check=False)  # fmt: skip


def _size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_map_png_has_the_size_asked_and_is_not_blank(
    browser: object, map_page: MapPage, home: Path, tmp_path: Path
) -> None:
    html, png = tmp_path / "corridor.html", tmp_path / "corridor.png"
    r = _corridor(home, "map", str(ROOT / "maps" / "corridor.toml"), "--out", str(html),
                  "--png", str(png), "--size", "900x600")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "corridor.png" in r.stdout
    assert _size(png) == (900, 600)
    # Not blank: the map, its lines, labels and legend give hundreds of colours.
    assert map_page.colours(png.read_bytes()) > 200


def test_the_exported_page_shows_title_legend_scale_and_attribution(
    map_page: MapPage, fixture_map: Path
) -> None:
    map_page.page.set_viewport_size({"width": 1000, "height": 700})
    map_page.open(fixture_map)
    from geo.render.png import EXPORT

    map_page.js(EXPORT)
    seen = map_page.js(
        """() => {
          const shown = s => { const e = document.querySelector(s);
            return !!e && e.offsetWidth > 0 && getComputedStyle(e).visibility !== 'hidden'; };
          return {title: shown('.cm-title'), legend: shown('#cm-legend .cm-body'),
                  scale: shown('.leaflet-control-scale'),
                  attribution: shown('.leaflet-control-attribution'),
                  zoom: shown('.leaflet-control-zoom'), layers: shown('.leaflet-control-layers'),
                  stats: shown('#cm-stats')};
        }"""
    )
    assert seen == {"title": True, "legend": True, "scale": True, "attribution": True,
                    "zoom": False, "layers": False, "stats": False}  # fmt: skip
    # The browser's print gives the same: the print stylesheet hides the same controls.
    map_page.page.emulate_media(media="print")
    try:
        printed = map_page.js(
            "() => [getComputedStyle(document.querySelector('.leaflet-control-zoom')).display,"
            " getComputedStyle(document.querySelector('#cm-legend .cm-body')).display]"
        )
    finally:  # the tab is the next test's too
        map_page.page.emulate_media(media="screen")
    assert printed == ["none", "flex"]
    map_page.check_clean()


def test_route_png_needs_the_map(home: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("route", "Aktau", "Baku", "--png", str(tmp_path / "r.png"))
    assert code == 1
    assert err.strip().count("\n") == 0 and "--map" in err


def test_route_map_png(browser: object, map_page: MapPage, home: Path, tmp_path: Path) -> None:
    html, png = tmp_path / "r.html", tmp_path / "r.png"
    r = _corridor(home, "route", "Aktau", "Baku", "--map", str(html), "--png", str(png),
                  "--size", "640x480")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert _size(png) == (640, 480)
    assert map_page.colours(png.read_bytes()) > 50


@pytest.mark.parametrize("size", ["big", "10x10", "1600 by 900", "99999x2"])
def test_a_bad_size_is_one_line(home: Path, tmp_path: Path, size: str) -> None:
    code, _, err = run_cli("map", str(ROOT / "maps" / "corridor.toml"), "--out",
                           str(tmp_path / "m.html"), "--png", str(tmp_path / "m.png"),
                           "--size", size)  # fmt: skip
    assert code == 1
    assert err.strip().count("\n") == 0 and "--size" in err
    assert not (tmp_path / "m.html").exists()  # refused before any slow work


def test_missing_chromium_or_playwright_is_one_line(
    fixture_map: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo.errors import GeoError
    from geo.report import write_png

    monkeypatch.setenv("CORRIDOR_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(GeoError, match="no Chromium at .*CORRIDOR_CHROMIUM"):
        write_png(fixture_map, tmp_path / "x.png", None)
    monkeypatch.setenv("CORRIDOR_CHROMIUM", CHROMIUM)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # as if not installed
    with pytest.raises(GeoError, match=r"needs Playwright.*corridor-map\[png\]"):
        write_png(fixture_map, tmp_path / "x.png", None)
    assert not (tmp_path / "x.png").exists()
