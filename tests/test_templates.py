"""The panels' HTML templates (geo/render/templates): data is text, never markup or template.

Every template is rendered with hostile values in every slot a caller fills; each value must
come out escaped exactly as :func:`html.escape` would, never compiled and never raw. The template
files themselves may not switch escaping off for data.
"""

from __future__ import annotations

import html
import re
from importlib.resources import files
from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from geo.render.panels import (
    TEMPLATES,
    Entry,
    Symbol,
    heading,
    line_symbol,
    render,
    route_stats_html,
    row,
    user_legend,
)
from geo.render.supply_map import exports_legend_html, exports_panel_html

HOSTILE = "{{ 7*7 }}</script><img src=x onerror=alert(1)>{% if %}{# c #}'\"&amp;"
ESCAPED = html.escape(HOSTILE, quote=True)
TEMPLATE_DIR = files("geo.render") / "templates"

# Names a template may mark |safe: constants of geo.render, never data. None is needed today.
SAFE_CONSTANTS: frozenset[str] = frozenset()


def hostile_entries() -> list[Entry]:
    """Hostile text in every field of every kind of legend entry and symbol."""
    symbols = [
        Symbol("dot", cls=HOSTILE),
        Symbol("color-dot", color=HOSTILE),
        Symbol("box", color=HOSTILE),
        Symbol("box-border", color=HOSTILE),
        Symbol("cluster", text=HOSTILE),
        line_symbol("#444", 3),
    ]
    return [
        heading(HOSTILE),
        *(row(s, HOSTILE) for s in symbols),
        Entry("colorby", HOSTILE, prop=HOSTILE, rows=(row(Symbol("dot", cls="x"), HOSTILE),)),
    ]


def hostile_values(name: str) -> dict[str, Any]:
    """The variables of each template, every data slot holding :data:`HOSTILE`."""
    cell = {"text": HOSTILE, "detail": HOSTILE, "russia": True}
    route = {"index": HOSTILE, "name": HOSTILE, "short": HOSTILE, "color": HOSTILE,
             "cells": [cell]}  # fmt: skip
    return {
        "legend.html": {"columns": [hostile_entries(), [heading(HOSTILE)]]},
        "one_column_legend.html": {"entries": hostile_entries()},
        "entry.html": {"entry": hostile_entries()[-1]},
        "stats.html": {"columns": [{"header": HOSTILE, "tip": HOSTILE}], "rows": [route]},
        "route_stats.html": {
            "rows": [{"key": HOSTILE, "label": HOSTILE, "value": HOSTILE, "russia": False}],
            "constraints": HOSTILE,
        },
        "exports_panel.html": {"title": HOSTILE},
    }[name]


def template_names() -> list[str]:
    return sorted(p.name for p in TEMPLATE_DIR.iterdir() if p.name.endswith(".html"))


def pages() -> list[str]:
    """Templates rendered on their own (``_*.html`` hold macros the others import)."""
    return [n for n in template_names() if not n.startswith("_")]


@pytest.mark.parametrize("name", pages())
def test_every_template_escapes_hostile_values(name: str) -> None:
    out = render(name, **hostile_values(name))
    slots = len(re.findall(r"\{\{", (TEMPLATE_DIR / name).read_text(encoding="utf-8")))
    assert out.count(ESCAPED) >= min(slots, 1)
    assert "<img" not in out and "</script>" not in out and "<script" not in out
    assert "49" not in out  # {{ 7*7 }} stayed text
    assert "{{ 7*7 }}" in out and "{% if %}" in out and "{# c #}" in out
    assert "&amp;amp;" in out  # an entity in the data is text, shown as typed
    # Every hostile value is accounted for: removing its escaped copies leaves no piece of it.
    rest = out.replace(ESCAPED, "")
    for piece in ("7*7", "onerror", "{%", "{#", "&#x27;", "&quot;"):
        assert piece not in rest, piece


def test_every_template_has_a_hostile_case() -> None:
    for name in pages():
        hostile_values(name)  # a KeyError names a template the test above does not cover


def test_the_legends_count_every_hostile_field() -> None:
    out = render("one_column_legend.html", entries=hostile_entries())
    # heading; 6 row texts; 6 symbol fields (box-border shows its colour twice); the colour-by
    # block's name twice, its property and its row
    assert out.count(ESCAPED) == 1 + 6 + 6 + 3 + 1


def test_public_builders_escape_their_text() -> None:
    stats = {"countries": [HOSTILE], "russia_km": 12.0}
    built = {
        "route stats": route_stats_html(stats, {"constraints": HOSTILE}),
        "exports legend": exports_legend_html([HOSTILE], ["#000"], HOSTILE, (HOSTILE,)),
        "exports panel": exports_panel_html(HOSTILE),
    }
    for what, out in built.items():
        assert ESCAPED in out, what
        assert "<img" not in out and "49" not in out, what
    assert '<td class="cm-ru">12</td>' in built["route stats"]
    assert f'<p class="cm-note">Route {ESCAPED}. From the route' in built["route stats"]


def test_user_layer_name_and_property_are_text() -> None:
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame({HOSTILE: [HOSTILE, "b"]}, geometry=[shapely.Point(60, 45)] * 2,
                           crs=4326)  # fmt: skip
    gdf.attrs.update(kind="node", color_by=HOSTILE)
    out = user_legend(HOSTILE, gdf, 0)
    assert f'data-cm-layer="{ESCAPED}"' in out
    assert f"{ESCAPED}, by {ESCAPED}" in out and f"<span>{ESCAPED}</span>" in out
    assert "<img" not in out


def test_escaping_matches_html_escape() -> None:
    # The pages were built with html.escape before the templates; the bytes stay the same.
    out = render("exports_panel.html", title='Xi\'an "&" <b>')
    assert "Xi&#x27;an &quot;&amp;&quot; &lt;b&gt;" in out


def test_constant_markup_passes_and_missing_names_fail() -> None:
    svg = Markup('<svg class="k"></svg>')
    out = render("one_column_legend.html", entries=[row(Symbol("sym", svg=svg), "t")])
    assert '<span class="cm-sym"><svg class="k"></svg></span><span>t</span>' in out
    with pytest.raises(jinja2.UndefinedError):
        render("exports_panel.html")
    assert TEMPLATES.autoescape is True


def test_templates_leave_no_whitespace_between_tags() -> None:
    out = render("exports_panel.html", title="t")
    assert "\n" not in out and "> <" not in out and not out.startswith(" ")
    assert out.startswith('<div id="cm-stats" class="cm-panel cm-stats cm-exports"')


EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}|\{%\s*(.*?)\s*%\}")


def unsafe_uses(text: str, allowed: frozenset[str] = SAFE_CONSTANTS) -> list[str]:
    """Expressions of a template that mark something safe other than a whitelisted constant,
    or switch escaping off."""
    bad = []
    for out, tag in EXPRESSION.findall(text):
        expr = out or tag
        marks_data = (
            bool(re.search(r"\|\s*safe\b", expr)) and expr.split("|")[0].strip() not in allowed
        )
        if marks_data or tag.startswith("autoescape") or "markup" in expr.lower():
            bad.append(expr)
    return bad


@pytest.mark.parametrize("name", template_names())
def test_no_template_marks_data_safe(name: str) -> None:
    assert unsafe_uses((TEMPLATE_DIR / name).read_text(encoding="utf-8")) == []


def test_the_safe_check_finds_data_marked_safe() -> None:
    text = "{{ e.text|safe }}<b>{{ e.text }}</b>{% autoescape false %}{{ x }}{% endautoescape %}"
    assert unsafe_uses(text) == ["e.text|safe", "autoescape false"]
    allowed = frozenset({"MARKET_SVG"})
    assert unsafe_uses("{{ MARKET_SVG | safe }}{{ name|safe }}", allowed) == ["name|safe"]
