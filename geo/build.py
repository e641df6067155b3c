"""Build a map from its spec: spec -> layers -> network -> statistics -> page -> file.

The application's one place that joins the bundled layers, the user's stored layers and the
layers given on the command line, builds the network once and hands it to the renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .analysis.network import RAIL_LAYERS, sections_frame, segments_frame
from .analysis.stats import reference_routes
from .api import network, stored_layers
from .data.bundled import bundled_layers
from .data.layers import load_bundled, load_layer
from .render.corridor_map import build_map
from .render.page import save_html
from .render.spec import load_spec, spec_error
from .render.style import LIST_SHOWN
from .render.supply_map import build_exports_map

__all__ = ["build_from_spec"]


def build_from_spec(
    spec_path: str | Path,
    *,
    out: str | Path | None = None,
    extra_layers: Iterable[tuple[str, gpd.GeoDataFrame] | str | Path] = (),
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Load a spec's layers and the user's, build the network once, compute the statistics, save.

    Parameters
    ----------
    spec_path : str or Path
        TOML map spec, e.g. ``maps/corridor.toml``.
    out : str or Path, optional
        Output HTML; default: the spec's path with ``.html``.
    extra_layers : iterable
        ``(name, GeoDataFrame)`` pairs or layer file paths (``corridor map --layer FILE``).
        They and the stored user layers (:func:`geo.api.stored_layers`) are drawn in
        "Your layers" and join the network the statistics are computed on.
    progress : callable, optional
        Called with a short message at each step.

    Returns
    -------
    Path
        The written HTML file.
    """
    say = progress or (lambda _msg: None)
    spec = load_spec(spec_path)
    available = bundled_layers()
    missing = [s for s in spec.layers if s not in available]
    if missing:
        msg = (
            f"bundled layer '{missing[0]}' not found (have: {', '.join(available)}); "
            "remove it from the spec or add the layer"
        )
        raise spec_error(Path(spec_path), "layers", msg)
    by_kind: dict[str, list[gpd.GeoDataFrame]] = {}
    for stem in spec.layers:
        say(f"loading layer {stem}")
        gdf = load_bundled(stem)
        by_kind.setdefault(_drawn_as(gdf), []).append(gdf)

    def concat(kind: str) -> gpd.GeoDataFrame | None:
        frames = by_kind.get(kind, [])
        if not frames:
            return None
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)

    countries = next((g for g in by_kind.get("area", []) if "id" in g), None)
    user = [(str(g.attrs["name"]), g) for g in stored_layers()]
    extra: list[tuple[str, gpd.GeoDataFrame]] = []
    for item in extra_layers:
        if isinstance(item, str | Path):
            say(f"loading layer {item}")
            extra.append((Path(item).stem, load_layer(item)))
        else:
            extra.append(item)
    # One network for the drawn segments and the statistics: the stored user layers and the
    # extra ones join it, so user segments extend routes and user deposits count as nearby.
    say("building the network")
    net = network([g for _, g in extra])
    segments = None
    rail = None
    if by_kind.get("segment"):
        curated = [g for g in by_kind["segment"]
                   if Path(str(g.attrs.get("path", ""))).stem not in RAIL_LAYERS]  # fmt: skip
        wanted = set(pd.concat([g["id"] for g in curated]).astype(str)) if curated else set()
        allseg = segments_frame(net)
        segments = allseg[allseg["id"].astype(str).isin(wanted).to_numpy()]
        # the corridor sections traced on the network, drawn with the layer they came from
        traced = sections_frame(net, list(spec.layers))
        if len(traced):
            segments = gpd.GeoDataFrame(pd.concat([segments, traced], ignore_index=True),
                                        geometry="geometry", crs=4326)  # fmt: skip
        rail = next((g for g in by_kind["segment"]
                     if Path(str(g.attrs.get("path", ""))).stem in RAIL_LAYERS), None)  # fmt: skip
    if spec.exports is not None:
        say("finding every deposit's supply routes")
        m = build_exports_map(spec, countries=countries, segments=segments_frame(net),
                              network=net)  # fmt: skip
        target = Path(out) if out is not None else Path(spec_path).with_suffix(".html")
        say(f"writing {target}")
        return save_html(m, target)
    say("computing route statistics")
    ids = None if spec.stats_routes is None else list(spec.stats_routes)
    routes = reference_routes(ids, network=net, nearby_limit=LIST_SHOWN)  # what popups show
    say("drawing the map")
    m = build_map(
        spec,
        countries=countries,
        segments=segments,
        nodes=concat("node"),
        deposits=concat("deposit"),
        routes=routes,
        user_layers=[*user, *extra],
        network=rail,
        pipelines=concat("pipeline"),
        terminals=concat("terminal"),
    )
    target = Path(out) if out is not None else Path(spec_path).with_suffix(".html")
    say(f"writing {target}")
    return save_html(m, target)


def _drawn_as(gdf: gpd.GeoDataFrame) -> str:
    """A layer's kind, except that pipelines and terminals are drawn in a group of their own.

    A segment layer whose every line is a pipeline is ``"pipeline"`` (it is not part of the
    corridor network), a node layer of terminals only is ``"terminal"``.
    """
    kind = str(gdf.attrs.get("kind"))
    if kind == "segment" and len(gdf) and "mode" in gdf and bool((gdf["mode"] == "pipeline").all()):
        return "pipeline"
    if kind == "node" and len(gdf) and "kind" in gdf and bool((gdf["kind"] == "terminal").all()):
        return "terminal"
    return kind
