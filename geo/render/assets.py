"""Offline assets: Leaflet and friends inlined from the XStatic packages, never from a CDN.

folium links its JavaScript and CSS from CDNs (``folium.Map.default_js``/``default_css`` and
each plugin's own lists). A map saved by this project must open without a network, so
:func:`use_offline_assets` empties those lists and puts the files' content in ``<script>`` and
``<style>`` elements instead. Images and fonts that the CSS refers to become ``data:`` URIs.

Leaflet.awesome-markers and the Bootstrap 3 glyphicons have no XStatic package: they are
dropped, and the map draws its own SVG symbols instead.
"""

from __future__ import annotations

import base64
import importlib
import mimetypes
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from branca.element import Element, Figure, MacroElement

from ..errors import GeoError
from .elements import Verbatim


@dataclass(frozen=True)
class Asset:
    """One file of an XStatic package: the module that holds it and its path inside BASE_DIR."""

    name: str
    module: str
    path: str
    kind: str  # "js" or "css"


ASSETS: dict[str, Asset] = {
    a.name: a
    for a in (
        Asset("leaflet_css", "xstatic.pkg.leaflet", "leaflet.css", "css"),
        Asset("leaflet", "xstatic.pkg.leaflet", "leaflet.js", "js"),
        Asset("markercluster_css", "xstatic.pkg.leaflet_markercluster", "MarkerCluster.css", "css"),
        Asset(
            "markercluster_default_css",
            "xstatic.pkg.leaflet_markercluster",
            "MarkerCluster.Default.css",
            "css",
        ),
        Asset(
            "markercluster",
            "xstatic.pkg.leaflet_markercluster",
            "leaflet.markercluster.js",
            "js",
        ),
        Asset("jquery", "xstatic.pkg.jquery", "jquery.min.js", "js"),
        Asset("bootstrap_css", "xstatic.pkg.bootstrap", "css/bootstrap.min.css", "css"),
        Asset("bootstrap", "xstatic.pkg.bootstrap", "js/bootstrap.bundle.min.js", "js"),
        Asset("font_awesome_css", "xstatic.pkg.font_awesome", "css/all.min.css", "css"),
    )
}

# folium's names for its CDN links (and common plugins') -> the assets that replace them.
# An empty tuple means "drop": nothing on our maps needs it.
CDN_REPLACEMENTS: dict[str, tuple[str, ...]] = {
    "leaflet": ("leaflet",),
    "leaflet_css": ("leaflet_css",),
    "jquery": ("jquery",),
    "bootstrap": ("bootstrap",),
    "bootstrap_css": ("bootstrap_css",),
    "awesome_markers": (),
    "awesome_markers_css": (),
    "awesome_rotate_css": (),
    "awesome_markers_font_css": ("font_awesome_css",),
    "glyphicons_css": (),
    "leaflet.markercluster.js": ("markercluster",),
    "markerclusterjs": ("markercluster",),
    "leaflet.markercluster": ("markercluster",),
    "markerclustercss": ("markercluster_css",),
    "markerclusterdefaultcss": ("markercluster_default_css",),
    "markerclusterdefault": ("markercluster_default_css",),
}

# The order in which inline assets appear in <head>: CSS first, then JS in dependency order.
ORDER = (
    "leaflet_css",
    "markercluster_css",
    "markercluster_default_css",
    "bootstrap_css",
    "font_awesome_css",
    "jquery",
    "leaflet",
    "markercluster",
    "bootstrap",
)

_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_SOURCEMAP = re.compile(r"/[/*]#\s*sourceMappingURL=[^\n*]*(\*/)?")


def asset_path(name: str) -> Path:
    """Path of an asset file inside its XStatic package (``BASE_DIR``)."""
    a = ASSETS[name]
    mod: Any = importlib.import_module(a.module)
    p = Path(mod.BASE_DIR) / a.path
    if not p.is_file():
        msg = f"{a.module} has no {a.path} (looked in {mod.BASE_DIR}); reinstall {a.module}"
        raise GeoError(msg)
    return p


def _data_uri(path: Path) -> str:
    mime = {".woff2": "font/woff2", ".ttf": "font/ttf", ".svg": "image/svg+xml"}.get(
        path.suffix, mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css_urls(css: str, base: Path) -> str:
    """Relative ``url()`` references to files next to the CSS become data: URIs.

    Font Awesome lists a .woff2 and a .ttf for each face; only the .woff2 is kept (every
    browser that runs Leaflet 1.9 reads it) so the fonts are embedded once.
    """
    css = re.sub(r",\s*url\([^)]*\.ttf\)\s*format\(['\"]truetype['\"]\)", "", css)

    def repl(m: re.Match[str]) -> str:
        ref = m.group(2).strip()
        if ref.startswith(("data:", "#")):
            return m.group(0)
        if re.match(r"^[a-z]+:", ref, re.IGNORECASE) or ref.startswith("//"):
            msg = f"asset CSS refers to a remote file ({ref}); it cannot work offline"
            raise GeoError(msg)
        target = (base / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            return "url(data:,)"  # a missing optional file: an empty resource, not a request
        return f'url("{_data_uri(target)}")'

    return _URL.sub(repl, css)


@lru_cache(maxsize=16)
def asset_text(name: str) -> str:
    """The content of an asset, ready to inline: source maps dropped, CSS urls as data URIs."""
    p = asset_path(name)
    text = p.read_text(encoding="utf-8")
    text = _SOURCEMAP.sub("", text)
    if ASSETS[name].kind == "css":
        text = re.sub(r"/\*(?!!).*?\*/", "", text, flags=re.DOTALL)  # keep /*! licences */
        text = _inline_css_urls(text, p.parent)
    # Inline content must not close its own element early.
    text = re.sub(r"</(script|style)", r"<\\/\1", text, flags=re.IGNORECASE)
    return text


def inline_element(name: str) -> Verbatim:
    """A ``<script>`` or ``<style>`` element holding one asset (never compiled as a template)."""
    tag = "style" if ASSETS[name].kind == "css" else "script"
    return Verbatim(f"<{tag}>/* {name} (offline, from XStatic) */\n{asset_text(name)}\n</{tag}>")


class OfflineAssets(MacroElement):
    """Adds the inline assets to the figure's ``<head>`` when rendered.

    Also empties the CDN link lists of every element in the tree, so that folium plugins added
    later still render offline. A plugin whose link has no offline replacement raises
    :class:`GeoError` rather than producing a map that silently needs the network.
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "OfflineAssets"
        self.names = names

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Inline the named assets into the figure's ``<head>`` and drop every CDN link.

        Raises
        ------
        TypeError
            This element is not inside a map that is in a :class:`branca.element.Figure`.
        GeoError
            A plugin links an asset that has no bundled offline copy.
        """
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = "OfflineAssets must be added to a map that is in a Figure"
            raise TypeError(msg)
        names = set(self.names) | strip_cdn_links(figure)
        # Links that elements rendered before this one already put into <head>.
        for key, child in list(figure.header._children.items()):
            url = getattr(child, "url", None)
            if isinstance(url, str) and re.match(r"^(https?:)?//", url):
                repl = CDN_REPLACEMENTS.get(key.lower())
                if repl is None:
                    msg = f"{key} links {url}, which has no offline copy; remove that plugin"
                    raise GeoError(msg)
                names.update(repl)
                del figure.header._children[key]
        for name in ORDER:
            if name in names:
                figure.header.add_child(inline_element(name), name=f"inline_{name}")
        super().render(**kwargs)  # type: ignore[no-untyped-call]


def strip_cdn_links(root: Element) -> set[str]:
    """Empty every element's ``default_js``/``default_css``; return the assets that replace them.

    Raises
    ------
    GeoError
        When an element links a file that has no offline replacement.
    """
    needed: set[str] = set()
    stack = [root]
    while stack:
        el = stack.pop()
        stack.extend(el._children.values())
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if not links:
                continue
            for link_name, url in links:
                key = link_name.lower()
                if key not in CDN_REPLACEMENTS:
                    msg = (
                        f"{type(el).__name__} needs {url}, which has no offline copy; "
                        "remove that plugin or add its file to geo/render/assets.py"
                    )
                    raise GeoError(msg)
                needed.update(CDN_REPLACEMENTS[key])
            setattr(el, attr, [])  # an instance attribute: folium's class lists stay untouched
    return needed


def use_offline_assets(
    m: Element, *, markercluster: bool = True, bootstrap: bool = False, jquery: bool = False
) -> None:
    """Make a folium map load its libraries from inline content instead of CDNs.

    Leaflet is always inlined. jQuery and Bootstrap are only inlined on request: nothing this
    project draws needs them and together they weigh 400 KB. Font Awesome is never needed
    here (the map draws its own SVG symbols); a plugin that asks for it gets the CSS with its
    fonts as data: URIs.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> use_offline_assets(m)
    >>> "cdn.jsdelivr" in m.get_root().render()
    False
    """
    names = ["leaflet_css", "leaflet"]
    if markercluster:
        names += ["markercluster_css", "markercluster_default_css", "markercluster"]
    if bootstrap:
        names += ["bootstrap_css", "bootstrap"]
    if jquery:
        names.append("jquery")
    # folium's defaults would otherwise pull jQuery/Bootstrap/awesome-markers from CDNs.
    m.default_js = []  # type: ignore[attr-defined]
    m.default_css = []  # type: ignore[attr-defined]
    m.add_child(OfflineAssets(tuple(names)), name="offline_assets")
