"""The committed maps are current, and building is reproducible byte for byte.

"Current" compares what this project puts in the page: the title, our CSS and runtime, the
panels in the body and every ``CorridorMap.*`` call with its JSON payload. The parts folium,
branca and the XStatic packages write (their templates, inlined Leaflet) are left out, so a
new upstream release cannot make this check red; two fresh builds are still compared whole.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.build import build_from_spec

MAPS = Path(__file__).parents[1] / "maps"
SPECS = sorted(MAPS.glob("*.toml"))
HEAD = re.compile(r"<title>.*?</title>\n<style>.*?</style>\n<script>.*?</script>", re.DOTALL)
BODY = re.compile(r"<body>(.*?)</body>", re.DOTALL)
CALL = re.compile(r"^\s*(CorridorMap\.\w+\(map_\w+, .*\);)$", re.MULTILINE)


def own_parts(page: str) -> dict[str, object]:
    """The parts of a page that this project writes."""
    head = HEAD.search(page)
    body = BODY.search(page)
    assert head is not None and body is not None, "not a Corridor Map page"
    panels = [line.strip() for line in body.group(1).splitlines()
              if line.strip() and 'class="folium-map"' not in line]  # fmt: skip
    return {"head": head.group(0), "panels": panels, "calls": CALL.findall(page)}


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_committed_map_is_current(spec: Path, tmp_path: Path) -> None:
    committed = spec.with_suffix(".html")
    assert committed.is_file(), f"{committed} missing: run `corridor map`"
    fresh = build_from_spec(spec, out=tmp_path / committed.name).read_text(encoding="utf-8")
    ours, theirs = own_parts(fresh), own_parts(committed.read_text(encoding="utf-8"))
    assert len(ours["calls"]) >= 3  # init, layers, finish: the pattern still finds them
    for part in ("head", "panels", "calls"):
        assert ours[part] == theirs[part], (
            f"{committed.name} ({part}) is stale against the code and layers: "
            "run `corridor map` and commit it"
        )


def test_a_changed_payload_is_noticed(tmp_path: Path) -> None:
    spec = MAPS / "corridor.toml"
    page = spec.with_suffix(".html").read_text(encoding="utf-8")
    assert own_parts(page) != own_parts(page.replace('"label":"', '"label":"x', 1))
    upstream = page.replace("(offline, from XStatic)", "(offline, from XStatic 9)")
    assert upstream != page and own_parts(page) == own_parts(upstream)  # not ours: ignored


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    spec = MAPS / "corridor.toml"
    a = build_from_spec(spec, out=tmp_path / "a.html")
    b = build_from_spec(spec, out=tmp_path / "b.html")
    assert a.read_bytes() == b.read_bytes()
