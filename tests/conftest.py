"""Shared test set-up: no test ever reads or writes the user's own layer store."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # Set before collection, so module-level fixtures and imports see the isolated store too.
    home = tempfile.mkdtemp(prefix="corridor-test-home-")
    _HOME.append(home)
    os.environ["CORRIDOR_HOME"] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _HOME:
        shutil.rmtree(home, ignore_errors=True)
