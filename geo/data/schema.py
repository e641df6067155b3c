"""The layer schema, declared once: validation, documentation, popups and CLI help read it."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("segment", "node", "deposit", "area")

MODES = ("rail", "road", "ferry", "sea", "pipeline")
# What freight takes unless a commodity says otherwise: pipelines carry only oil and gas.
FREIGHT_MODES = ("rail", "road", "ferry", "sea")
FUELS = ("oil", "gas", "ngl")
SEGMENT_STATUSES = ("operational", "under_construction", "planned", "proposed", "suspended")
GAUGES_MM = (1435, 1520, 1000)
PRECISIONS = ("traced", "schematic", "straight")
NODE_KINDS = ("port", "dry_port", "border_crossing", "hub", "city", "terminal")
DEPOSIT_KINDS = ("mine", "field", "deposit", "occurrence")
DEPOSIT_STATUSES = ("producing", "development", "exploration", "closed", "unknown")
LOCATION_PRECISIONS = ("exact", "approximate")
COMMODITIES = (
    "uranium", "rare_earths", "rare_metals", "copper", "gold", "silver", "zinc", "lead",
    "tungsten", "molybdenum", "lithium", "antimony", "tin", "chromium", "manganese", "iron",
    "aluminium", "vanadium", "titanium", "nickel", "cobalt", "fluorspar", "phosphate", "potash",
    "coal", "oil", "gas", "gas_condensate",
)  # fmt: skip
# Sea passages by the names of the CLI; searoute's own spelling where it differs.
PASSAGES = ("suez", "panama", "babalmandab", "bosporus", "hormuz", "malacca", "gibraltar", "cape")
# Seas a route can be kept off (not searoute passages): every ferry and sea leg on them.
WATERS = ("caspian", "black_sea")
SEAROUTE_PASSAGE = {"hormuz": "ormuz", "cape": "south_africa"}


@dataclass(frozen=True)
class Field:
    """One property of a layer kind.

    ``type`` is one of ``str``, ``int``, ``bool``, ``list``, ``date``, ``country``, ``url_or_text``,
    ``number``. ``choices`` restricts the values (for a list: each item).
    """

    name: str
    type: str
    required: bool
    doc: str
    choices: tuple[object, ...] = ()
    nullable: bool = False


@dataclass(frozen=True)
class Kind:
    """A layer kind: the geometry it takes and the properties its features carry."""

    name: str
    geometries: tuple[str, ...]
    fields: tuple[Field, ...]
    doc: str
    extra_ok: bool = True  # other properties are kept and shown, never required

    def field(self, name: str) -> Field | None:
        """The declared property ``name`` of this kind, or None if the schema has no such field."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def required(self) -> tuple[str, ...]:
        """The names of the properties every feature of this kind must carry, in schema order."""
        return tuple(f.name for f in self.fields if f.required)


COMMON = (
    Field("id", "str", True, "identifier, unique in its layer"),
    Field("name", "str", True, "name shown on the map"),
    Field("source", "url_or_text", True, "URL or citation supporting existence, status, location"),
    Field("as_of", "date", False, "ISO date (YYYY-MM-DD) of the source's statement"),
    Field("notes", "str", False, "short factual notes"),
)

SEGMENT = Kind(
    "segment",
    ("LineString", "MultiLineString"),
    (
        *COMMON,
        Field(
            "corridor",
            "str",
            False,
            "corridor of a curated line; network legs take theirs from the itineraries",
        ),
        Field("mode", "str", True, "transport mode", MODES),
        Field("status", "str", True, "construction/operating status", SEGMENT_STATUSES),
        Field("gauge_mm", "int", True, "track gauge in mm (null off rail)", GAUGES_MM, True),
        Field("from", "str", False, "id of the start node (else the nearest node within 5 km)"),
        Field("to", "str", False, "id of the end node (else the nearest node within 5 km)"),
        Field("precision", "str", True, "how faithfully the line follows reality", PRECISIONS),
        Field("via", "list", False, "intermediate stations used as vertices"),
        Field("passages", "list", False, "sea passages the leg goes through", PASSAGES),
        Field("country", "country", False, "ISO 3166-1 alpha-3 code of the country it lies in"),
        Field("licence", "str", False, "licence of the geometry, e.g. public domain, ODbL-1.0"),
        Field("length_km", "number", False, "geodesic length on WGS84, km"),
        Field("fuel", "str", False, "what a pipeline carries", FUELS),
        Field("capacity", "number", False, "a pipeline's capacity as its source gives it"),
        Field("capacity_units", "str", False, "units of capacity, as the source gives them"),
        Field("capacity_bcm_y", "number", False, "a gas pipeline's capacity, billion m3/year"),
        Field("capacity_kbd", "number", False, "an oil or NGL pipeline's capacity, 1000 bbl/day"),
        Field("owner", "str", False, "owners (with their shares where known)"),
        Field("start_year", "int", False, "year the line entered (or is to enter) service"),
    ),
    "A rail, road, ferry, sea or pipeline link between two nodes.",
)

NODE = Kind(
    "node",
    ("Point",),
    (
        *COMMON,
        Field("kind", "str", True, "what the place is", NODE_KINDS),
        Field("country", "country", True, "ISO 3166-1 alpha-3 code"),
        Field("gauge_change", "bool", True, "true where 1435 mm and 1520 mm track meet"),
        Field("aliases", "list", False, "other spellings searched by the CLI"),
    ),
    "A port, dry port, border crossing, hub, city or terminal.",
)

DEPOSIT = Kind(
    "deposit",
    ("Point",),
    (
        *COMMON,
        Field("commodities", "list", True, "what is mined or produced", COMMODITIES),
        Field("kind", "str", True, "mine, field, deposit or occurrence", DEPOSIT_KINDS),
        Field("status", "str", True, "production status", DEPOSIT_STATUSES),
        Field("country", "country", True, "ISO 3166-1 alpha-3 code"),
        Field("location_precision", "str", True, "exact or approximate", LOCATION_PRECISIONS),
        Field("operator", "str", False, "operating company"),
        Field("output_value", "number", False, "annual output (with output_unit)"),
        Field("output_unit", "str", False, "unit of output_value, e.g. tU/year"),
        Field("output_year", "int", False, "year of output_value"),
    ),
    "A mine, oil or gas field, deposit or occurrence.",
)

AREA = Kind(
    "area",
    ("Polygon", "MultiPolygon"),
    (
        *COMMON,
        Field("country", "country", False, "ISO 3166-1 alpha-3 code"),
        Field("continent", "str", False, "continent"),
    ),
    "A polygon: a country, a zone, a concession.",
)

SCHEMA: dict[str, Kind] = {k.name: k for k in (SEGMENT, NODE, DEPOSIT, AREA)}


def describe(kind: str) -> str:
    """Plain-text description of one kind, for ``--help`` and docs.

    >>> print(describe("node").splitlines()[0])
    node (Point): A port, dry port, border crossing, hub, city or terminal.
    """
    k = SCHEMA[kind]
    lines = [f"{k.name} ({' or '.join(k.geometries)}): {k.doc}"]
    for f in k.fields:
        req = "required" if f.required else "optional"
        choices = f" [{' | '.join(map(str, f.choices))}]" if f.choices else ""
        lines.append(f"  {f.name} ({req}): {f.doc}{choices}")
    return "\n".join(lines)
