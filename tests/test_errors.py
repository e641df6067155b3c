"""The error contract: one family for the user's mistakes, standard bases, programming errors apart."""

from __future__ import annotations

from pathlib import Path

import pytest

import geo
from geo.analysis.routing import option_values
from geo.data.layers import load_layer
from geo.errors import (
    GeoError,
    LayerStoreError,
    RouteError,
    SpecError,
    UnreadableError,
    ValidationError,
)
from geo.render.assets import OfflineAssets

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("error", "base"),
    [(ValidationError, ValueError), (UnreadableError, ValueError), (SpecError, ValueError),
     (RouteError, LookupError)],
)  # fmt: skip
def test_each_error_has_its_standard_base_and_stays_in_the_family(
    error: type[Exception], base: type[Exception]
) -> None:
    assert issubclass(error, GeoError) and issubclass(error, base)


def test_the_family_is_not_mixed_up() -> None:
    assert not issubclass(RouteError, ValueError) and not issubclass(SpecError, LookupError)
    assert issubclass(LayerStoreError, GeoError)


def test_except_value_error_catches_a_broken_layer() -> None:
    with pytest.raises(ValueError, match="bad_enum.geojson") as info:
        load_layer(DATA / "bad_enum.geojson", kind="segment")
    assert isinstance(info.value, ValidationError)


def test_except_lookup_error_catches_an_unknown_place() -> None:
    with pytest.raises(LookupError, match="unknown place 'Atlantis'"):
        geo.route("Atlantis", "Almaty")


def test_a_wrong_argument_type_is_a_type_error_not_a_user_error() -> None:
    with pytest.raises(TypeError, match="--avoid: expected a string") as info:
        option_values(5, "--avoid")  # type: ignore[arg-type]
    assert not isinstance(info.value, GeoError)


def test_offline_assets_outside_a_page_is_a_programming_error() -> None:
    element = OfflineAssets(())  # added to nothing: its root is itself, not a Figure
    with pytest.raises(TypeError, match="must be added to a map that is in a Figure"):
        element.render()
