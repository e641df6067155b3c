"""The house (issue 14): rooms import one way, inputs are explicit, the shared network is frozen."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

import geo
import geo.api
from geo.analysis.network import load_network
from geo.cli import app

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_import_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml: one-way rooms, no cycles, store unseen."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is part of the test extra"
    r = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                       check=False)  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


def test_shared_network_is_frozen() -> None:
    net = geo.network()
    assert nx.is_frozen(net.graph)
    before = geo.route("Almaty", "Duisburg").attrs["stats"]["length_km"]
    with pytest.raises(nx.NetworkXError, match="Frozen graph"):
        net.graph.remove_node("moscow")
    assert geo.network() is net  # shared, and still whole
    assert geo.route("Almaty", "Duisburg").attrs["stats"]["length_km"] == before


def _shortcut(tmp_path: Path) -> Path:
    """A stored rail line straight from Almaty to Aktau: it changes Almaty-Aktau routes."""
    src = tmp_path / "shortcut.geojson"
    src.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":'
        '"LineString","coordinates":[[76.95,43.24],[51.17,43.60]]},"properties":{"id":'
        '"my_shortcut","name":"Shortcut","source":"test","corridor":"TITR","mode":"rail",'
        '"status":"operational","gauge_mm":1520,"from":"almaty","to":"aktau_port",'
        '"precision":"straight"}}]}',
        encoding="utf-8",
    )
    return src


def test_analysis_never_reads_the_store(tmp_path: Path) -> None:
    bundled = load_network()
    plain = geo.route("Almaty", "aktau_port").attrs["stats"]["length_km"]
    r = runner.invoke(app, ["layers", "add", str(_shortcut(tmp_path)), "--name", "shortcut"])
    assert r.exit_code == 0, r.stderr
    # The application adds the store ...
    short = geo.route("Almaty", "aktau_port").attrs["stats"]["length_km"]
    assert short < plain - 300  # 2,522 km by the Kazakh lines; the straight shortcut ~2,080
    # ... the analysis room only builds what it is given.
    assert load_network() is bundled
    assert "my_shortcut" not in set(load_network().segments["id"])
    assert "my_shortcut" in set(geo.network().segments["id"])


def test_store_is_read_again_only_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = geo.api.user_layers

    def counting(*args: object) -> list[object]:
        reads.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(geo.api, "user_layers", counting)
    for _ in range(5):
        geo.route("Almaty", "Tashkent")
    assert len(reads) <= 1  # the empty store, read at most once
    r = runner.invoke(app, ["layers", "add", str(_shortcut(tmp_path)), "--name", "shortcut"])
    assert r.exit_code == 0, r.stderr
    geo.route("Almaty", "Tashkent")
    n = len(reads)
    assert n >= 2  # the changed store was read again (by the add's network notes or the route)
    for _ in range(5):
        geo.route("Almaty", "Tashkent")
    assert len(reads) == n  # ... and then reused
    assert runner.invoke(app, ["layers", "remove", "shortcut"]).exit_code == 0
    geo.route("Almaty", "Tashkent")
    assert len(reads) == n + 1
