"""Commodity-aware routing: pipelines only for their fuel, and only when a commodity is named."""

from __future__ import annotations

from pathlib import Path

import pytest

import geo
from geo.analysis.routing import make_constraints
from geo.data.layers import load_layer
from geo.errors import RouteError

LINE = Path(__file__).parent / "data" / "pipeline_user.geojson"


@pytest.fixture(scope="module")
def line() -> object:
    return load_layer(LINE)


def modes(legs: object) -> list[str]:
    return list(legs["mode"])  # type: ignore[index]


def test_oil_takes_its_pipeline_freight_does_not(line: object) -> None:
    oil = geo.route("Beyneu", "Port of Aktau", extra_layers=[line], commodity="oil")
    assert modes(oil) == ["pipeline"]
    # pipe and tanker first (the rule's `prefer`): they reach Aktau, so no rail is tried
    assert "with modes sea,pipeline (oil pipelines)" in oil.attrs["query"]["constraints"]
    assert oil.attrs["query"]["commodity"] == "oil"
    freight = geo.route("Beyneu", "Port of Aktau", extra_layers=[line])
    assert "pipeline" not in modes(freight)
    assert freight.attrs["stats"]["length_km"] > oil.attrs["stats"]["length_km"]
    copper = geo.route("Beyneu", "Port of Aktau", extra_layers=[line], commodity="copper")
    assert "pipeline" not in modes(copper)


def test_gas_never_takes_an_oil_pipeline(line: object) -> None:
    with pytest.raises(RouteError, match="no route"):
        geo.route("Beyneu", "Port of Aktau", extra_layers=[line], commodity="gas")


def test_pipeline_mode_needs_a_commodity_and_commodities_are_checked() -> None:
    with pytest.raises(RouteError, match="--modes pipeline: a pipeline carries one fuel"):
        make_constraints(modes="pipeline")
    with pytest.raises(RouteError, match="unknown commodity 'coper'; did you mean copper"):
        geo.route("Beyneu", "Port of Aktau", commodity="coper")
    with pytest.raises(RouteError, match="--modes: gas travels only by pipeline"):
        geo.route("Beyneu", "Port of Aktau", commodity="gas", modes="rail")
