"""Issue 13: text from a stranger's layer, spec or file name is never template source.

The hostile fixtures carry Jinja expressions that would run a shell command, arithmetic that
would compute, comments and blocks that would vanish or crash, script payloads and control
characters, in every property, property name, id, name, colour field, spec field and file
name. Every page a user can build from them must keep that text literally and run nothing.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import HOSTILE_TEMPLATE, PWNED_MARKERS


@pytest.fixture(scope="module")
def compiled(hostile_build: Any) -> list[str]:
    """Every text jinja2 was asked to compile while the pages were built."""
    return list(hostile_build.compiled)


@pytest.fixture(scope="module")
def pages(hostile_build: Any) -> dict[str, str]:
    for marker in PWNED_MARKERS:
        assert not (hostile_build.work / marker).exists(), f"a payload ran: {marker} was written"
        assert not Path(marker).exists(), f"a template payload ran: {marker} was written"
    return {name: p.read_text(encoding="utf-8") for name, p in hostile_build.pages.items()}


def test_no_payload_ran_and_no_data_was_compiled(pages: dict[str, str], compiled: list[str]):
    assert len(pages) == 4
    # branca still compiles folium's own templates; none of them holds a byte of our data.
    assert compiled, "the spy saw no compilation at all: it is not watching the right name"
    for source in compiled:
        for needle in ("Tplville", "Tplburg", "tpl_", "7*7", "lipsum", "Tariff", "cm_pwned"):
            assert needle not in source, f"data reached a template: {source[:120]!r}"


@pytest.mark.parametrize("name", ["corridor", "spec", "exports", "route"])
def test_text_is_kept_literally(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    assert "{{ 7*7 }}" in page, "the template text was not kept"
    assert ">49<" not in page and " 49 " not in page.replace("{{ 7*7 }}", "")
    for raw in ("<script>alert(", "<img src=x", "</script><script>"):
        # Only our own <script> elements and no injected markup: every occurrence is escaped.
        assert raw not in _without_runtime(page), raw


def _without_runtime(page: str) -> str:
    return page.replace("<script>", "").replace("</script>", "")


def test_stored_layer_text_reaches_the_page(pages: dict[str, str]) -> None:
    corridor = pages["corridor"]
    assert "Tariff {{ rate }} per TEU, {{ 7*7 }} and {{ 6*7 }}" in corridor
    assert "Price {#1} and {#2#} end" in corridor
    assert "Rates {% if x %} and {% for y in z %}" in corridor
    # The --layer file's hostile name is the overlay's label: HTML-escaped for Leaflet's layer
    # control (which sets labels as HTML), inside JSON, and as text in the legend.
    assert "{{ 7*7 }}\\u0026lt;img src=x onerror=alert(9)\\u0026gt; (3)" in corridor
    assert "<span>{{ 7*7 }}&lt;img src=x onerror=alert(9)&gt;</span>" in corridor
    # Control characters travel as JSON escapes, never raw, inside the page's data.
    assert "\\u001b[31mred" in corridor and "\x1b" not in corridor and "\x07" not in corridor


def test_spec_title_is_text(pages: dict[str, str]) -> None:
    spec = pages["spec"]
    title = re.search(r"<title>(.*?)</title>", spec, re.DOTALL)
    assert title is not None
    assert html.unescape(title.group(1)).startswith("Spec {{ 7*7 }} {{ lipsum")
    assert "</title><script>alert('title')</script>" in html.unescape(title.group(1))


def test_route_map_names_are_text(pages: dict[str, str]) -> None:
    route = pages["route"]
    assert html.escape("Tplville {{ 7*7 }} <b>A</b> → Tplburg {% if x %}") in route


def test_fixtures_are_valid_layers() -> None:
    """The attack only matters if a validator calls it valid text: it is, and stays so."""
    from geo.data.layers import load_layer

    for path in HOSTILE_TEMPLATE.values():
        gdf = load_layer(path)
        assert len(gdf) >= 1
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert gdf["name"].tolist() == [f["properties"]["name"] for f in doc["features"]]
