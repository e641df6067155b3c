"""Shared test set-up: no test ever reads or writes the user's own layer store.

CORRIDOR_HOME points at a temporary folder from the start of the session (so fixtures of any
scope and module-level code never see the real store), and each test gets an empty one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # Set before collection, so module-level fixtures and imports see the isolated store too.
    home = tempfile.mkdtemp(prefix="corridor-test-home-")
    _HOME.append(home)
    os.environ["CORRIDOR_HOME"] = home


@pytest.fixture(autouse=True)
def _own_layer_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test starts with an empty store of its own: nothing one test adds reaches another."""
    home = tmp_path_factory.mktemp("store") / "home"  # not created: the store makes it
    monkeypatch.setenv("CORRIDOR_HOME", str(home))
    return home


@pytest.fixture
def home(_own_layer_store: Path) -> Path:
    """The folder of this test's own layer store (created by the first add)."""
    return _own_layer_store / "layers"


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _HOME:
        shutil.rmtree(home, ignore_errors=True)
