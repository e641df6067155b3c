"""The data room: files -> validated GeoDataFrames.

The schema, the readers, validation, countries, the bundled layers, the user's layer store and
the builders of derived layers (sea legs). It imports nothing from :mod:`geo.analysis`,
:mod:`geo.render` or the application.
"""
