"""Front-coded columns: what the page rebuilds is exactly the column (issue 19, page size)."""

from __future__ import annotations

from helpers import column_values as rebuild
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.render.payloads import (
    FRONT_CODE_MAX_CHARS,
    SMALL_DIGITS,
    columnar,
    front_code,
    small_numbers,
)

texts = st.lists(
    st.one_of(
        st.text(alphabet="ab/:._-0123456789\x00", max_size=20),
        st.text(max_size=8),  # any Unicode: never front-coded
        st.integers(0, 10**6).map(lambda i: f"https://example.org/deposits/{i}"),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_every_encoding_rebuilds_the_column(values: list[str]) -> None:
    assert rebuild(columnar(values)) == values


def test_links_numbered_in_order_are_front_coded_and_smaller() -> None:
    links = [
        f"https://mrdata.usgs.gov/mrds/show-mrds.php?dep_id={10_000_000 + i}" for i in range(1000)
    ]
    col = columnar(links)
    assert "g" in col and rebuild(col) == links  # shared lengths below 64: one character each
    assert len(col["g"]) == len(links)
    assert sum(map(len, col["s"])) < sum(map(len, links)) / 10


def test_small_numbers_are_characters_and_big_ones_lists() -> None:
    assert small_numbers(list(range(64))) == SMALL_DIGITS
    assert small_numbers([]) == "" and small_numbers([64]) is None and small_numbers([-1]) is None
    few = ["a", "b", "c"] * 40
    assert columnar(few) == {"d": ["a", "b", "c"], "c": "012" * 40}
    many = [f"v{i:03d}" for i in range(100)] * 3  # 100 distinct values: codes past 63
    col = columnar(many)
    assert "i" in col and "c" not in col and rebuild(col) == many
    prefix = "https://example.org/" + "x" * 60  # shares 80 characters: past 63
    long = [f"{prefix}{i:03d}" for i in range(100)]
    col = columnar(long)
    assert "f" in col and "g" not in col and max(col["f"]) >= 64 and rebuild(col) == long


def test_non_ascii_and_long_values_are_sent_plainly() -> None:
    names = [f"Месторождение {i}" for i in range(100)]
    assert columnar(names) == {"v": names}
    long = [f"{'x' * FRONT_CODE_MAX_CHARS}{i}" for i in range(100)]
    assert front_code(long) is None and columnar(long) == {"v": long}
    # Unrelated values: coding would not save a third, so they stay plain.
    words = ["copper", "zinc", "gold", "uranium", "lithium", "tin"]
    assert columnar(words) == {"v": words}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="ab/:.0123", max_size=12), min_size=1, max_size=40),
       st.integers(1, 7))  # fmt: skip
def test_front_code_in_blocks_equals_at_once(values: list[str], block: int) -> None:
    import geo.render.payloads as payloads

    whole = front_code(values)
    old = payloads.FRONT_CODE_BLOCK
    try:
        payloads.FRONT_CODE_BLOCK = block
        assert front_code(values) == whole
    finally:
        payloads.FRONT_CODE_BLOCK = old
