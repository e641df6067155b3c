"""The one copy of each small helper: atomic writes, shown text, missing values."""

from __future__ import annotations

import math
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.data.files import atomic_write_text
from geo.data.text import terminal_text
from geo.data.values import is_missing


def test_atomic_write_sets_the_mode_asked_for(tmp_path: Path) -> None:
    out = atomic_write_text(tmp_path / "sub" / "page.html", "x\n", mode=0o644)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE(atomic_write_text(tmp_path / "p", "y").stat().st_mode) == 0o600


def test_a_failed_check_keeps_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "layer.geojson"
    target.write_text("old", encoding="utf-8")
    seen: list[Path] = []

    def refuse(tmp: Path) -> None:
        seen.append(tmp)
        assert tmp.read_text(encoding="utf-8") == "new"
        raise ValueError("does not read back")

    with pytest.raises(ValueError, match="does not read back"):
        atomic_write_text(target, "new", check=refuse)
    assert seen[0].name.endswith(".tmp.geojson")  # readers that go by suffix can read it
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layer.geojson"]


def test_terminal_text_cuts_after_escaping_what_it_keeps() -> None:
    assert terminal_text("a\nb", limit=2) == "a\\n..."
    assert terminal_text("abc", limit=3) == "abc"
    assert terminal_text(12) == "12"


@pytest.mark.parametrize(
    ("value", "missing"),
    [(None, True), (math.nan, True), (np.float32("nan"), True), (pd.NA, True), (pd.NaT, True),
     (0, False), (0.0, False), ("", False), (" ", False), ([], False)],
)  # fmt: skip
def test_is_missing(value: object, missing: bool) -> None:
    assert is_missing(value) is missing
    assert is_missing(" \t", blank=True) and not is_missing(" x ", blank=True)


def test_a_counted_list_on_a_page_shows_its_nearest_items_and_says_how_many_more() -> None:
    from geo.render.style import LIST_SHOWN, route_value

    items = [{"id": f"d{i}", "name": f"Deposit {i}", "km": float(i), "commodities": ["uranium"]}
             for i in range(LIST_SHOWN + 5)]  # fmt: skip
    text = route_value("deposits_nearby", {"count": len(items), "list": items})
    assert text.startswith(f"{LIST_SHOWN + 5} (")
    assert f"Deposit {LIST_SHOWN - 1}" in text and f"Deposit {LIST_SHOWN}:" not in text
    assert "and 5 more" in text and "Deposit 3: 3 km (uranium)" in text
    assert "capacity" not in text  # a deposit is not written as a pipeline leg
    few = route_value("deposits_nearby", {"count": 2, "list": items[:2]})
    assert "more" not in few and "Deposit 1" in few
