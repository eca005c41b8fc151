"""OneMap for analysts: the city's layers, owners and performance figures as (Geo)DataFrames,
from the local store or a remote OneMap server, under the same access policy.

    import onemap
    om = onemap.connect()                       # the local store, as an analyst
    grids = om.read_layer("grids")              # a GeoDataFrame in EPSG:4326

    om = onemap.connect("http://127.0.0.1:8000", token="om_...")   # a server, as the token's user
    cases = om.read_layer("cases", where={"status": "dispatched"}, bbox=(119.0, 25.4, 119.1, 25.5))
    owned = om.locate(points, crs="GCJ02")      # owner columns for AMap/Tencent coordinates
    figures = om.kpis(by="grid", since="2026-10-01", until="2026-10-15")
    onemap.to_excel(figures, "figures.xlsx")    # Chinese headers
    onemap.local_map_assets("http://127.0.0.1:8000")  # explore() maps load Leaflet from its /vendor
"""

from __future__ import annotations

from onemap.client import OneMap, connect
from onemap.files import to_csv, to_excel, to_geoparquet
from onemap.maps import local_map_assets

__all__ = ["OneMap", "connect", "local_map_assets", "to_csv", "to_excel", "to_geoparquet"]
