"""The analysis room: validated frames -> the route network, routes and their statistics.

Network building, routing, statistics and reference routes, supply routes from deposits to
markets. Functions take the network or the layers they work on as arguments; this room never
reads the user's layer store and never imports :mod:`geo.render` or the application.
"""
