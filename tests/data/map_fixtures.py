"""Small hand-made frames in the shapes build_map takes (the network and statistics contract).

Shared by tests/test_maps.py and tests/browser; loaded by path, not imported as a package.
Coordinates are rough; numbers are made up for tests and are not statistics.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.data.layers import load_layer
from geo.render.spec import MapSpec

HERE = Path(__file__).resolve().parent

NODES = [
    # id, name, kind, country, gauge_change, lon, lat
    ("xian", "Xi'an", "hub", "CHN", False, 108.94, 34.34),
    ("khorgos", "Khorgos", "dry_port", "KAZ", True, 80.30, 44.21),
    ("dostyk", "Dostyk", "border_crossing", "KAZ", True, 82.48, 45.25),
    ("almaty", "Almaty", "city", "KAZ", False, 76.95, 43.24),
    ("aktau", "Aktau", "port", "KAZ", False, 51.17, 43.60),
    ("alat", "Alat (Baku port)", "port", "AZE", False, 49.42, 39.95),
    ("tbilisi", "Tbilisi", "hub", "GEO", False, 44.80, 41.72),
    ("akhalkalaki", "Akhalkalaki", "terminal", "GEO", True, 43.49, 41.41),
    ("kars", "Kars", "city", "TUR", False, 43.10, 40.60),
    ("istanbul", "Istanbul", "city", "TUR", False, 28.98, 41.01),
    ("poti", "Poti", "port", "GEO", False, 41.67, 42.15),
    ("petropavl", "Petropavl", "border_crossing", "KAZ", False, 69.15, 54.87),
    ("moscow", "Moscow", "hub", "RUS", False, 37.62, 55.75),
    ("brest", "Brest", "border_crossing", "BLR", True, 23.69, 52.09),
    ("duisburg", "Duisburg", "terminal", "DEU", False, 6.76, 51.43),
    ("kashgar", "Kashgar", "city", "CHN", False, 75.99, 39.47),
    ("andijan", "Andijan", "city", "UZB", False, 72.34, 40.78),
    ("shanghai", "Shanghai", "port", "CHN", False, 121.80, 31.20),
    ("rotterdam", "Rotterdam", "port", "NLD", False, 4.05, 51.95),
    ("bandar_abbas", "Bandar Abbas", "port", "IRN", False, 56.21, 27.14),
]
_XY = {n[0]: (n[5], n[6]) for n in NODES}

SEGMENTS = [
    # id, corridor, mode, status, gauge, from, to, via (lon, lat), countries, russia_km
    ("xian_khorgos", "TITR", "rail", "operational", 1435, "xian", "khorgos",
     [(103.8, 36.1), (94.7, 40.2), (87.6, 43.8)], ["CHN"], 0.0),
    ("khorgos_aktau", "TITR", "rail", "operational", 1520, "khorgos", "aktau",
     [(76.9, 43.3), (68.3, 43.3), (61.5, 44.8), (53.5, 43.7)], ["KAZ"], 0.0),
    ("aktau_alat", "TITR", "ferry", "operational", None, "aktau", "alat",
     [(50.5, 41.5)], ["KAZ", "AZE"], 0.0),
    ("alat_tbilisi", "TITR", "rail", "operational", 1520, "alat", "tbilisi",
     [(47.2, 40.6)], ["AZE", "GEO"], 0.0),
    ("tbilisi_akhalkalaki", "TITR", "rail", "operational", 1520, "tbilisi", "akhalkalaki",
     [(44.2, 41.6)], ["GEO"], 0.0),
    ("akhalkalaki_kars", "TITR", "rail", "operational", 1435, "akhalkalaki", "kars",
     [], ["GEO", "TUR"], 0.0),
    ("kars_istanbul", "TITR", "rail", "under_construction", 1435, "kars", "istanbul",
     [(39.5, 39.9), (32.8, 39.9)], ["TUR"], 0.0),
    ("tbilisi_poti", "TITR", "rail", "planned", 1520, "tbilisi", "poti", [(42.7, 42.2)],
     ["GEO"], 0.0),
    ("dostyk_petropavl", "Northern", "rail", "operational", 1520, "dostyk", "petropavl",
     [(80.2, 50.4), (73.1, 49.8)], ["KAZ"], 0.0),
    ("petropavl_moscow", "Northern", "rail", "operational", 1520, "petropavl", "moscow",
     [(61.4, 55.2), (49.1, 55.8)], ["KAZ", "RUS"], 2300.0),
    ("moscow_brest", "Northern", "rail", "operational", 1520, "moscow", "brest",
     [(30.3, 53.9)], ["RUS", "BLR"], 1050.0),
    ("brest_duisburg", "Northern", "rail", "operational", 1435, "brest", "duisburg",
     [(21.0, 52.2), (13.4, 52.5)], ["POL", "DEU"], 0.0),
    ("kashgar_andijan", "CKU", "rail", "under_construction", 1435, "kashgar", "andijan",
     [(74.2, 40.4), (73.0, 40.5)], ["CHN", "KGZ", "UZB"], 0.0),
    ("shanghai_rotterdam", "Maritime", "sea", "operational", None, "shanghai", "rotterdam",
     [(105.0, 1.3), (80.0, 6.0), (43.4, 12.6), (32.5, 29.9), (32.3, 31.3), (14.0, 37.0),
      (-5.6, 35.9), (-10.0, 44.0), (-2.0, 49.8)], [], 0.0),
    ("aktau_bandar_abbas", "INSTC", "rail", "proposed", 1435, "aktau", "bandar_abbas",
     [(54.0, 38.0), (55.5, 33.0)], ["TKM", "IRN"], 0.0),
]  # fmt: skip


def nodes() -> gpd.GeoDataFrame:
    rows = [
        {"id": i, "name": n, "kind": k, "country": c, "gauge_change": g,
         "source": f"https://example.org/nodes/{i}", "as_of": "2024-05-01", "notes": None}
        for i, n, k, c, g, _, _ in NODES
    ]  # fmt: skip
    geom = [shapely.Point(x, y) for *_, x, y in NODES]
    gdf = gpd.GeoDataFrame(rows, geometry=geom, crs=4326)
    gdf.attrs["kind"] = "node"
    return gdf


def segments() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for sid, corridor, mode, status, gauge, a, b, via, countries, rkm in SEGMENTS:
        rows.append(
            {"id": sid, "name": f"{_name(a)} – {_name(b)}", "corridor": corridor, "mode": mode,
             "status": status, "gauge_mm": gauge, "from": a, "to": b, "precision": "schematic",
             "source": f"https://example.org/segments/{sid} ; Railway atlas (2023)",
             "as_of": "2024-05-01", "notes": None, "countries": countries, "russia_km": rkm}
        )  # fmt: skip
        geoms.append(shapely.LineString([_XY[a], *via, _XY[b]]))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    gdf.attrs["kind"] = "segment"
    return gdf


def _name(node_id: str) -> str:
    return next(n[1] for n in NODES if n[0] == node_id)


def routes() -> gpd.GeoDataFrame:
    seg = segments().set_index("id")
    defs = [
        ("titr_main", "TITR: Xi'an – Istanbul via Caspian",
         ["xian_khorgos", "khorgos_aktau", "aktau_alat", "alat_tbilisi", "tbilisi_akhalkalaki",
          "akhalkalaki_kars", "kars_istanbul"],
         ["CHN", "KAZ", "AZE", "GEO", "TUR"], False, 0.0, 4, 2, 2, 480.0, [], (18, 25)),
        ("northern_main", "Northern: Dostyk – Duisburg via Moscow",
         ["dostyk_petropavl", "petropavl_moscow", "moscow_brest", "brest_duisburg"],
         ["KAZ", "RUS", "BLR", "POL", "DEU"], True, 3350.0, 3, 1, 0, 0.0, [], (14, 18)),
        ("maritime_suez", "Sea: Shanghai – Rotterdam via Suez",
         ["shanghai_rotterdam"], [], False, 0.0, 0, 0, 0, 19500.0,
         ["malacca", "babalmandab", "suez", "gibraltar"], (35, 45)),
    ]  # fmt: skip
    rows, geoms = [], []
    for rid, name, path, countries, tr, rkm, borders, gauges, trans, sea, choke, days in defs:
        lines = [seg.geometry[s] for s in path]
        geoms.append(shapely.MultiLineString(lines))
        rows.append(
            {
                "id": rid,
                "name": name,
                "length_km": round(sum(g.length for g in lines) * 85.0, 1),
                "countries": countries,
                "transits_russia": tr,
                "russia_km": rkm,
                "border_crossings": {
                    "count": borders, "list": [f"crossing {i}" for i in range(borders)]
                },
                "gauge_breaks": gauges,
                "transshipments": trans,
                "sea_km": sea,
                "chokepoints": choke,
                "transit_days": {"low": days[0], "high": days[1]},
                "deposits_nearby": {"count": 12, "by_commodity": {"uranium": 5, "copper": 7},
                                    "ids": ["inkai", "aktogay"]},
                "precision_share": {"traced": 0.5, "schematic": 0.4, "straight": 0.1},
                "path": [
                    *(_name(seg.loc[s, "from"]) for s in path), _name(seg.loc[path[-1], "to"])
                ],
            }
        )  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


COMMODITY_CYCLE = [
    ["uranium"], ["copper", "gold"], ["gold"], ["oil", "gas"], ["gas"], ["coal"],
    ["rare_earths"], ["lithium"], ["tungsten", "molybdenum"], ["zinc", "lead"], ["phosphate"],
    ["iron"],
]  # fmt: skip


def deposits(n: int = 1500, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` deposits in Central Asia, deterministic; the first is a named real-world one."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(50.0, 85.0, n).round(5)
    lat = rng.uniform(37.0, 52.0, n).round(5)
    rows = []
    for i in range(n):
        rows.append(
            {"id": f"dep_{i:05d}", "name": "Inkai" if i == 0 else f"Deposit {i}",
             "commodities": COMMODITY_CYCLE[i % len(COMMODITY_CYCLE)], "kind": "mine",
             "status": ("producing", "development", "exploration")[i % 3], "country": "KAZ",
             "location_precision": "approximate", "operator": "Example Mining" if i % 2 else None,
             "source": f"https://example.org/deposits/{i}", "as_of": "2023-12-31"}
        )  # fmt: skip
    gdf = gpd.GeoDataFrame(rows, geometry=shapely.points(lon, lat), crs=4326)
    gdf.attrs["kind"] = "deposit"
    return gdf


def countries() -> gpd.GeoDataFrame:
    from geo.data.countries import countries as bundled

    return bundled().reset_index(drop=True)[["id", "name", "continent", "geometry"]]


def hostile() -> gpd.GeoDataFrame:
    return load_layer(HERE / "hostile_nodes.geojson", check_countries=False)


SPEC = MapSpec(
    title="Test map: TITR & alternatives",
    center=(44.0, 58.0),
    zoom=4,
    layers=("countries", "nodes", "trans_caspian", "deposits"),
)


def frames(n_deposits: int = 1500) -> dict[str, object]:
    """Keyword arguments of build_map for the fixture map (hostile layer included)."""
    return {
        "countries": countries(),
        "segments": segments(),
        "nodes": nodes(),
        "deposits": deposits(n_deposits),
        "routes": routes(),
        "user_layers": [("<b>Hostile</b> layer", hostile())],
    }
