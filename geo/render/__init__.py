"""The render room: validated frames and computed statistics -> self-contained HTML pages.

It may import :mod:`geo.analysis`-level and data-level modules, never the application
(``geo.api``, ``geo.build``, ``geo.cli``, ``geo.report``). Page text is never template source:
see :mod:`geo.render.elements`.
"""
