"""Page building blocks that never turn text into template source.

branca's :class:`~branca.element.MacroElement` renders a macro and then wraps the result in
``Element(text)``, which compiles ``text`` with :class:`jinja2.Template`. Any data that reached
a macro's output would therefore run as Jinja (``{{ 7*7 }}`` showed 49; ``lipsum.__globals__``
reached ``os.popen``). The elements here take no part in that: each produces its final text in
Python (values escaped with :func:`~geo.render.style.esc` for HTML or
:func:`~geo.render.style.script_json` for JSON inside ``<script>``) and hands it to the figure as
:class:`Verbatim`, whose ``render`` returns the text as it is. No Jinja template ever sees a
value from a layer, a spec, a layer name or a command-line argument.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Any

from branca.element import Element, Figure, MacroElement

from .style import esc, script_json

__all__ = ["Head", "Html", "PageElement", "Script", "Verbatim", "static_text"]

_CLOSE = re.compile(r"</(script|style)", re.IGNORECASE)


@cache
def static_text(name: str) -> str:
    """A file of ``geo/render/static/`` (the page runtime's JavaScript and CSS), as text.

    Examples
    --------
    >>> "window.CorridorMap" in static_text("corridor.js")
    True
    """
    return files("geo.render").joinpath("static", name).read_text(encoding="utf-8")


class Verbatim(Element):
    """Finished text placed in the page as it is: never compiled, never re-rendered."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """The text given, unchanged; ``kwargs`` (branca's render options) are ignored."""
        return self.text


class PageElement(MacroElement):
    """An element of ours: its parts are plain text made in Python, added to the figure verbatim.

    Subclasses override :meth:`header`, :meth:`html` and :meth:`script`; each returns the
    finished, escaped text of that part of the page or None.
    """

    def __init__(self, name: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = name

    def header(self) -> str | None:
        """The finished text this element puts in ``<head>``; None (nothing) by default."""
        return None

    def html(self) -> str | None:
        """The finished markup this element puts in ``<body>``; None (nothing) by default."""
        return None

    def script(self) -> str | None:
        """The finished JavaScript this element runs after the map exists; None by default."""
        return None

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add this element's header, body markup and script to its figure, then its children's.

        Raises
        ------
        TypeError
            The element is not inside a map that is in a :class:`branca.element.Figure`.
        """
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = f"{type(self).__name__} must be added to a map that is in a Figure"
            raise TypeError(msg)
        name = self.get_name()
        for part, text in (
            (figure.header, self.header()),
            (figure.html, self.html()),
            (figure.script, self.script()),
        ):
            if text is not None:
                part.add_child(Verbatim(text), name=name)
        for child in self._children.values():
            child.render(**kwargs)


class Script(PageElement):
    """A call into the page runtime with a JSON payload: ``CorridorMap.CALL(map, PAYLOAD);``."""

    def __init__(self, call: str, payload: Any, name: str = "CorridorLayer") -> None:
        if not call.isidentifier():
            msg = f"Script: call must be a JavaScript identifier, got {call!r}"
            raise ValueError(msg)
        super().__init__(name)
        self.call = call
        self.payload = script_json(payload)

    def script(self) -> str:
        """The call into the page runtime, with the map's JavaScript name and the JSON payload.

        Raises
        ------
        TypeError
            The script has not been added to a map.
        """
        if self._parent is None:
            msg = "Script must be added to a map before it is rendered"
            raise TypeError(msg)
        return f"CorridorMap.{self.call}({self._parent.get_name()}, {self.payload});"


class Html(PageElement):
    """Markup built in Python from escaped values, placed in the body (the runtime moves it)."""

    def __init__(self, markup: str, name: str) -> None:
        super().__init__(name)
        self.markup = markup

    def html(self) -> str:
        """The markup given, already escaped by whoever built it."""
        return self.markup


class Head(PageElement):
    """The page title, our inline CSS and the page runtime, in ``<head>``."""

    def __init__(self, title: str, css: str, js: str) -> None:
        super().__init__("CorridorHead")
        self.title = esc(title)
        # Our own code, but a closing tag inside it would still end the element early.
        self.css = _CLOSE.sub(r"<\\/\1", css)
        self.js = _CLOSE.sub(r"<\\/\1", js)

    def header(self) -> str:
        """The ``<title>``, ``<style>`` and ``<script>`` elements, closing tags in code escaped."""
        return f"<title>{self.title}</title>\n<style>{self.css}</style>\n<script>{self.js}</script>"
