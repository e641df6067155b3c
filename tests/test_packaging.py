"""A regular (non-editable) install finds its bundled layers and map specs from any folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout unpacked into a folder put first on PYTHONPATH."""
    wheels = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("corridor_map-*.whl")
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    return target


def run_elsewhere(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target), "CORRIDOR_HOME": str(cwd / "home")}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip


@pytest.mark.slow
def test_wheel_ships_layers_and_specs(installed: Path) -> None:
    bundled = installed / "geo" / "_bundled"
    assert (bundled / "layers" / "nodes.geojson").is_file()
    assert (bundled / "layers" / "routes.toml").is_file()
    assert (bundled / "maps" / "corridor.toml").is_file()
    for name in ("corridor.js", "corridor.css", "exports.js", "exports.css"):
        assert (installed / "geo" / "render" / "static" / name).is_file(), name
    for name in ("legend.html", "stats.html", "route_stats.html", "_macros.html"):
        assert (installed / "geo" / "render" / "templates" / name).is_file(), name


@pytest.mark.slow
def test_installed_package_works_from_another_folder(installed: Path, tmp_path: Path) -> None:
    r = run_elsewhere(installed, tmp_path, "-c",
                      "import geo, geo.data.bundled as B; print(geo.__file__); print(B.bundled_dir('layers'))")  # fmt: skip
    assert r.returncode == 0, r.stderr
    geo_file, layers = r.stdout.split()
    assert geo_file.startswith(str(installed)) and layers.startswith(str(installed))
    r = run_elsewhere(installed, tmp_path, "-c", "import geo.render.panels as P; print(P.render('exports_panel.html', title='t'))")  # fmt: skip
    assert r.returncode == 0 and r.stdout.startswith('<div id="cm-stats"'), r.stderr
    r = run_elsewhere(installed, tmp_path, "-m", "geo", "stats", "sea_suez", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["id"] == "sea_suez"
    out = tmp_path / "main.html"
    r = run_elsewhere(installed, tmp_path, "-m", "geo", "map", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 100_000
