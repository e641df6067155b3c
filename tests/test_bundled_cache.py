"""The bundled layers' validated copies in the cache folder: used only when they are exact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.data import layers
from geo.data.bundled import bundled_dir
from geo.data.columns import decode_frame, same_frame


@pytest.fixture
def fresh() -> Iterator[None]:
    """No bundled layer held in this process: each load goes to the cache or validates."""
    layers._load_bundled_cached.cache_clear()
    yield
    layers._load_bundled_cached.cache_clear()


def validated(name: str) -> object:
    return layers.load_layer(bundled_dir("layers") / f"{name}.geojson", check_countries=False)


def test_cache_folder_is_under_corridor_home(_own_layer_store: Path) -> None:
    assert layers.cache_dir() == _own_layer_store / "cache"


def test_first_load_writes_the_copy_and_the_next_reads_it(
    fresh: None, _own_layer_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _own_layer_store / "cache" / "bundled" / "nodes.columns"
    first = layers.load_bundled("nodes")
    assert copy.is_file()
    assert same_frame(decode_frame(copy), validated("nodes"))
    layers._load_bundled_cached.cache_clear()

    def no_validation(*args: object, **kwargs: object) -> None:
        raise AssertionError("validated again")

    monkeypatch.setattr(layers, "load_layer", no_validation)
    again = layers.load_bundled("nodes")
    assert same_frame(again, first)
    assert (
        again.attrs
        == first.attrs
        == {
            "kind": "node",
            "path": str(bundled_dir("layers") / "nodes.geojson"),
        }
    )


def test_copy_of_other_content_is_not_used(fresh: None, _own_layer_store: Path) -> None:
    """A copy whose key names another file content (or other code) is passed over and rewritten."""
    layers.load_bundled("deposits")
    deposits = _own_layer_store / "cache" / "bundled" / "deposits.columns"
    nodes = _own_layer_store / "cache" / "bundled" / "nodes.columns"
    layers.load_bundled("nodes")
    deposits.write_bytes(nodes.read_bytes())  # a valid copy, of another file
    layers._load_bundled_cached.cache_clear()
    got = layers.load_bundled("deposits")
    assert got.attrs["kind"] == "deposit"
    assert same_frame(got, validated("deposits"))
    assert same_frame(decode_frame(deposits), got)  # rewritten


@pytest.mark.parametrize("damage", ["truncate", "flip", "fifo"])
def test_broken_copy_is_passed_over(fresh: None, _own_layer_store: Path, damage: str) -> None:
    layers.load_bundled("nodes")
    copy = _own_layer_store / "cache" / "bundled" / "nodes.columns"
    data = copy.read_bytes()
    copy.unlink()
    if damage == "truncate":
        copy.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        copy.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    else:
        import os

        os.mkfifo(copy)  # a reader that opened it would wait for ever
    layers._load_bundled_cached.cache_clear()
    assert same_frame(layers.load_bundled("nodes"), validated("nodes"))


def test_unwritable_cache_still_loads(
    fresh: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("a file where the folder would be")
    monkeypatch.setenv("CORRIDOR_HOME", str(blocker))
    assert same_frame(layers.load_bundled("nodes"), validated("nodes"))
