"""The committed maps are current, and building is reproducible byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.build import build_from_spec

MAPS = Path(__file__).parents[1] / "maps"
SPECS = sorted(MAPS.glob("*.toml"))


@pytest.fixture(autouse=True)
def no_user_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRIDOR_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_committed_map_is_current(spec: Path, tmp_path: Path) -> None:
    committed = spec.with_suffix(".html")
    assert committed.is_file(), f"{committed} missing: run `corridor map`"
    fresh = build_from_spec(spec, out=tmp_path / committed.name)
    assert fresh.read_bytes() == committed.read_bytes(), (
        f"{committed.name} is stale against the code and layers: run `corridor map` and commit it"
    )


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    spec = MAPS / "corridor.toml"
    a = build_from_spec(spec, out=tmp_path / "a.html")
    b = build_from_spec(spec, out=tmp_path / "b.html")
    assert a.read_bytes() == b.read_bytes()
