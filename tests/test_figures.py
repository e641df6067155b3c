"""Published figures (layers/figures.toml) reproduced within 10 % through `corridor route`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geo.cli import app
from geo.data.sea import sea_leg

LAYERS = Path(__file__).parents[1] / "layers"
FIGURES = tomllib.loads((LAYERS / "figures.toml").read_text(encoding="utf-8"))["figure"]
NODES = {f["properties"]["id"]: tuple(f["geometry"]["coordinates"])
         for f in json.loads((LAYERS / "nodes.geojson").read_text(encoding="utf-8"))["features"]}  # fmt: skip
TOLERANCE = 0.10


def computed_km(fig: dict) -> float:
    if fig.get("method") == "sea_leg":
        return sea_leg(NODES[fig["from"]], NODES[fig["to"]]).length_km
    args = ["route", fig["from"], fig["to"], "--format", "json"]
    for v in fig.get("via", []):
        args += ["--via", v]
    if fig.get("avoid"):
        args += ["--avoid", ",".join(fig["avoid"])]
    if fig.get("modes"):
        args += ["--modes", ",".join(fig["modes"])]
    if fig.get("status"):
        args += ["--status", ",".join(fig["status"])]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.stderr
    return float(json.loads(r.stdout)["length_km"])


@pytest.mark.parametrize("fig", FIGURES, ids=[f["id"] for f in FIGURES])
def test_published_figure_reproduced(fig: dict) -> None:
    km = computed_km(fig)
    assert abs(km - fig["value_km"]) <= TOLERANCE * fig["value_km"], (
        fig["id"],
        km,
        fig["value_km"],
    )


def test_required_figures_are_declared() -> None:
    ids = {f["id"] for f in FIGURES}
    assert {"btk", "aktau_baku_ferry", "aktau_alat_ferry", "turkmenbashi_baku_ferry", "shanghai_rotterdam_suez",
            "shanghai_rotterdam_cape", "xian_duisburg_russia", "dostyk_moiynty"} <= ids  # fmt: skip


def test_every_figure_is_in_the_layers_readme() -> None:
    readme = (LAYERS / "README.md").read_text(encoding="utf-8")
    for fig in FIGURES:
        assert f"`{fig['id']}`" in readme, fig["id"]
        assert fig["source"] in readme, fig["id"]
