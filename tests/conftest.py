"""Shared test set-up: no test ever reads or writes the user's own layer store.

CORRIDOR_HOME points at a temporary folder from the start of the session (so fixtures of any
scope and module-level code never see the real store), and each test gets an empty one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class HostileBuild:
    """The pages built from hostile template text, and what jinja2 compiled meanwhile."""

    work: Path
    pages: dict[str, Path]
    compiled: list[str]


@pytest.fixture(scope="session")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> HostileBuild:
    """Every page a stranger's text can reach, built once per session through the real CLI.

    A spy on ``branca.element.Template`` records every text compiled as a template while they
    are built; tests/test_template_injection.py reads it and the browser tests open the pages.
    """
    import branca.element
    from helpers import build_hostile_pages

    compiled: list[str] = []
    real = branca.element.Template

    def spy(source: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(source))
        return real(source, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(branca.element, "Template", spy)
    work = tmp_path_factory.mktemp("hostile")
    try:
        pages = build_hostile_pages(work)
    finally:
        mp.undo()
    return HostileBuild(work=work, pages=pages, compiled=compiled)


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _HOME:
        shutil.rmtree(home, ignore_errors=True)
