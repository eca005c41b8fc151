"""The one-map page (一张图), built with folium and served with local assets only."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template

from gis.extent import Extent
from layers import assets

# How each boundary level is drawn, coarse to fine.
STYLES = {
    "districts": {"color": "#8e1b1b", "weight": 3, "fillOpacity": 0.0, "label": "区县"},
    "towns": {"color": "#c0392b", "weight": 2, "fillOpacity": 0.0, "label": "镇/街道"},
    "villages": {"color": "#2c3e50", "weight": 1.2, "fillOpacity": 0.0, "label": "村/社区"},
    "grids": {
        "color": "#2980b9",
        "weight": 0.8,
        "fillColor": "#aed6f1",
        "fillOpacity": 0.25,
        "label": "网格",
    },
}


class RemoteGeoJson(MacroElement):  # type: ignore[misc]
    """A GeoJSON layer fetched from this server when the page loads (not embedded)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson(null, {
            style: function () { return {{ this.style | tojson }}; },
            onEachFeature: function (f, layer) {
                var p = f.properties;
                layer.bindTooltip(p.name, {sticky: true});
                layer.bindPopup('<b>' + p.name + '</b><br>{{ this.label }} ' + p.code +
                                (p.parent_code ? '<br>上级 ' + p.parent_code : ''));
            }
        }).addTo({{ this._parent.get_name() }});
        fetch({{ this.url | tojson }})
            .then(function (r) { return r.json(); })
            .then(function (data) {
                {{ this.get_name() }}.addData(data);
                document.body.dataset[{{ this.key | tojson }}] = data.features.length;
            });
        {% endmacro %}
    """)

    def __init__(self, url: str, key: str, label: str, style: dict[str, object]) -> None:
        super().__init__()
        self._name = "RemoteGeoJson"
        self.url, self.key, self.label, self.style = url, key, label, style


def build_page(extent: Extent | None) -> str:
    """The page's HTML: boundaries from /api/v1/boundaries, every asset from /vendor."""
    m = folium.Map(
        location=[25.4, 119.0], zoom_start=11, tiles=None, control_scale=True, prefer_canvas=True
    )
    m.default_js = assets.JS
    m.default_css = assets.CSS
    for level, style in STYLES.items():
        group = folium.FeatureGroup(name=f"{style['label']} ({level})")
        group.add_child(
            RemoteGeoJson(
                f"/api/v1/boundaries/{level}.geojson",
                level,
                str(style["label"]),
                {k: v for k, v in style.items() if k != "label"},
            )
        )
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if extent is not None:
        m.fit_bounds([[extent.miny, extent.minx], [extent.maxy, extent.maxx]])
    m.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(
            '<title>OneMap 一张图</title><link rel="icon" href="data:,">'
            "<style>.leaflet-container{background:#f4f1ea}</style>"
        )
    )
    return m.get_root().render()
