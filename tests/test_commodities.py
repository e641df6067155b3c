"""The commodity table (layers/commodities.toml): modes, fuels, markets and tanker links."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.analysis.commodities import commodity_table, read_commodity_table
from geo.data.layers import load_bundled
from geo.errors import SpecError

GOOD = """
[default]
modes = ["rail", "road", "ferry", "sea"]

[[commodity]]
commodities = ["gas"]
fuel = "gas"
modes = ["pipeline"]
markets = ["border"]
"""


def test_the_bundled_table_declares_each_commodity_group() -> None:
    t = commodity_table()
    assert t.rule("oil").fuel == "oil" and "pipeline" in t.rule("oil").modes
    assert t.rule("gas_condensate") == t.rule("oil")
    assert t.rule("gas").modes == ("pipeline",)
    assert t.rule("uranium").fuel is None and "pipeline" not in t.rule("uranium").modes
    nodes = set(load_bundled("nodes")["id"]) | set(load_bundled("terminals")["id"])
    lines = {str(i).rsplit("-", 1)[0] for i in load_bundled("pipelines")["id"]}
    for r in (*t.rules, t.default):
        for m in r.markets:  # a node, a terminal, or the end of a GEM line
            assert m in nodes or f"pipe-{m.removeprefix('end:')}" in lines, m
    for link in t.links:
        assert {link.start, link.end} <= nodes and link.source.startswith("http")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('"gas"]', '"gass"]'), r"commodity 1: unknown commodities \['gass'\]"),
        (GOOD.replace('fuel = "gas"\n', ""), "names its fuel, and only then"),
        (GOOD.replace('fuel = "gas"', 'fuel = "hydrogen"'), "fuel 'hydrogen' is not one of"),
        (GOOD.replace("[default]", "[defaults]"), r"needs a \[default\] table"),
        (GOOD + '[[tanker_link]]\nid = "x"\nname = "x"\nfuel = ["oil"]\nfrom = "a"\nto = "b"\n'
         'countries = ["KAZ"]\n', "tanker_link x: a tanker link needs"),
        (GOOD.replace('markets = ["border"]', 'markets = "border"'), "'markets' must be a list"),
    ],
)  # fmt: skip
def test_a_malformed_table_names_file_entry_and_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "commodities.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=r"^commodities\.toml: .*" + message):
        read_commodity_table(path)


def test_a_well_formed_table_reads(tmp_path: Path) -> None:
    path = tmp_path / "commodities.toml"
    path.write_text(GOOD)
    t = read_commodity_table(path)
    assert t.rule("gas").markets == ("border",) and t.rule("oil") == t.default
    assert t.links == ()
