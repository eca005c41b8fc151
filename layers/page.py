"""The one-map page (一张图), built with folium and served with local assets only."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template

from gis.access.policy import visible_fields
from gis.access.roles import PUBLIC
from gis.owners.extent import Extent
from gis.registry.layers import LAYERS
from gis.registry.model import Layer
from layers import assets

# The boundary levels loaded whole, coarse to fine.
WHOLE = ("districts", "towns", "villages", "grids")


def _style(layer: Layer) -> dict[str, object]:
    """The registry's style of a layer, as Leaflet path options."""
    style = layer.style
    return {
        "color": style.color,
        "weight": style.weight,
        "fillColor": style.fill_color or style.color,
        "fillOpacity": style.fill_opacity,
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


class Dispatch(MacroElement):  # type: ignore[misc]
    """The dispatcher's side of the page: a token box (kept in this browser's localStorage)
    whose token goes with every tile request, and case popups that show the owner and
    offer the actions the token's role may take (sent with If-Match)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.OneMap = (function () {
            var listeners = [];
            function token() { return localStorage.getItem('onemap_token') || ''; }
            function headers() {
                return token() ? {'Authorization': 'Bearer ' + token()} : {};
            }
            function esc(v) {
                var d = document.createElement('div');
                d.textContent = v === null || v === undefined ? '' : String(v);
                return d.innerHTML;
            }
            function show(popup, id) {
                fetch('/api/v1/cases/' + id, {headers: headers()}).then(function (r) {
                    return r.json().then(function (c) { return {ok: r.ok, etag: r.headers.get('ETag'), c: c}; });
                }).then(function (res) {
                    var c = res.c;
                    if (!res.ok) { popup.setContent('<i>' + esc(c.detail) + '</i>'); return; }
                    var html = '<div class="onemap-case" data-id="' + esc(c.id) + '">' +
                        '<b>#' + esc(c.id) + ' ' + esc(c.title) + '</b><br>' +
                        esc(c.major_label) + ' / ' + esc(c.category_label) + ' · <span class="status">' +
                        esc(c.status) + '</span>' + (c.overdue ? ' · <b style="color:#c0392b">超期 overdue</b>' : '') +
                        '<br>网格 ' + esc(c.grid && c.grid.name) + ' (' + esc(c.grid && c.grid.code) + ')' +
                        (c.grid && c.grid.leader ? '<br>网格长 ' + esc(c.grid.leader.name) + ' ' + esc(c.grid.leader.phone) : '') +
                        '<br>单元 ' + esc(c.unit && c.unit.name) + '<br>' +
                        c.allowed_actions.map(function (a) {
                            return '<button class="btn btn-sm btn-primary m-1" data-action="' + esc(a) + '">' + esc(a) + '</button>';
                        }).join('') + '</div>';
                    popup.setContent(html);
                    var el = popup.getElement();
                    if (!el) { return; }
                    el.querySelectorAll('button[data-action]').forEach(function (b) {
                        b.addEventListener('click', function () {
                            fetch('/api/v1/cases/' + id + '/actions', {
                                method: 'POST',
                                headers: Object.assign({'Content-Type': 'application/json', 'If-Match': res.etag}, headers()),
                                body: JSON.stringify({action: b.dataset.action, note: 'from the map'})
                            }).then(function (r) { return r.json(); }).then(function (after) {
                                if (after.detail) { alert(after.detail); }
                                show(popup, id);
                            });
                        });
                    });
                });
            }
            var box = L.control({position: 'topleft'});
            box.onAdd = function () {
                var div = L.DomUtil.create('div', 'leaflet-bar bg-white p-1');
                div.innerHTML = '<input id="onemap-token" type="password" size="18" placeholder="token (dispatchers)">';
                L.DomEvent.disableClickPropagation(div);
                var input = div.querySelector('input');
                input.value = token();
                input.addEventListener('change', function () {
                    localStorage.setItem('onemap_token', input.value.trim());
                    listeners.forEach(function (fn) { fn(); });
                });
                return div;
            };
            box.addTo({{ this._parent.get_name() }});
            return {
                esc: esc,
                headers: headers,
                casePopup: function (popup, id) { if (token()) { show(popup, id); } },
                onToken: function (fn) { listeners.push(fn); }
            };
        })();
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "Dispatch"


class TiledGeoJson(MacroElement):  # type: ignore[misc]
    """A registry layer loaded tile by tile from /tiles/{layer}/{z}/{x}/{y}.geojson as the
    map moves (clipped and simplified by the server), styled and with popups from the
    registry. Below the layer's minimum zoom it is empty; cases below their aggregation
    zoom arrive as counts per grid and are drawn as sized circles."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent._parent.get_name() }};
            var group = {{ this._parent.get_name() }};
            var cfg = {{ this.cfg | tojson }};
            var tiles = {};
            var esc = OneMap.esc;
            function popup(p) {
                if (p.cases !== undefined) {
                    return '<b>网格 ' + esc(p.grid_code) + '</b><br>' + esc(p.cases) +
                           ' cases, ' + esc(p.open) + ' open';
                }
                return '<b>' + esc(cfg.title) + '</b><table>' + cfg.popup.filter(function (k) {
                    return p[k] !== undefined;
                }).map(function (k) {
                    return '<tr><th>' + esc(k) + '</th><td>' + esc(p[k]) + '</td></tr>';
                }).join('') + '</table>';
            }
            function count() {
                var n = 0;
                Object.keys(tiles).forEach(function (k) {
                    if (tiles[k].layer) { n += tiles[k].layer.getLayers().length; }
                });
                document.body.dataset[cfg.key] = n;
            }
            function refresh() {
                if (!map.hasLayer(group)) { return; }
                var z = Math.min(Math.round(map.getZoom()), cfg.maxzoom);
                var wanted = {};
                if (z >= cfg.minzoom) {
                    // Leaflet's own Web Mercator: the view's corners in 256-pixel tiles at z.
                    var b = map.getBounds(), n = Math.pow(2, z);
                    var nw = map.project(b.getNorthWest(), z).divideBy(256).floor();
                    var se = map.project(b.getSouthEast(), z).divideBy(256).floor();
                    var x0 = Math.max(0, nw.x), x1 = Math.min(n - 1, se.x);
                    var y0 = Math.max(0, nw.y), y1 = Math.min(n - 1, se.y);
                    for (var x = x0; x <= x1; x++) {
                        for (var y = y0; y <= y1; y++) { wanted[z + '/' + x + '/' + y] = true; }
                    }
                }
                Object.keys(tiles).forEach(function (k) {
                    if (!wanted[k]) {
                        if (tiles[k].layer) { group.removeLayer(tiles[k].layer); }
                        delete tiles[k];
                    }
                });
                Object.keys(wanted).forEach(function (k) {
                    if (tiles[k]) { return; }
                    var entry = tiles[k] = {};
                    // Whole features (not cut at the tile's edge, which Leaflet would outline).
                    fetch('/tiles/' + cfg.layer + '/' + k + '.geojson?clip=false', {headers: OneMap.headers()})
                        .then(function (r) { return r.status === 200 ? r.json() : null; })
                        .then(function (fc) {
                            if (!fc || tiles[k] !== entry) { return; }
                            entry.layer = L.geoJSON(fc, {
                                style: function () { return cfg.style; },
                                pointToLayer: function (f, ll) {
                                    var p = f.properties;
                                    var r = p.cases !== undefined ? 4 + Math.sqrt(p.cases) * 1.5 : 5;
                                    return L.circleMarker(ll, Object.assign({}, cfg.style, {
                                        radius: r, fillOpacity: 0.7, fillColor: cfg.style.color
                                    }));
                                },
                                onEachFeature: function (f, l) {
                                    l.bindPopup(popup(f.properties));
                                    if (cfg.layer === 'cases' && f.properties.category) {
                                        l.on('popupopen', function (e) { OneMap.casePopup(e.popup, f.properties.id); });
                                    }
                                }
                            });
                            group.addLayer(entry.layer);
                            count();
                        });
                });
                count();
            }
            map.on('moveend', refresh);
            OneMap.onToken(function () {
                Object.keys(tiles).forEach(function (k) {
                    if (tiles[k].layer) { group.removeLayer(tiles[k].layer); }
                    delete tiles[k];
                });
                refresh();
            });
            map.on('overlayadd', refresh);
            refresh();
        })();
        {% endmacro %}
    """)

    def __init__(self, layer: Layer) -> None:
        super().__init__()
        self._name = "TiledGeoJson"
        self.cfg = {
            "layer": layer.id,
            "key": layer.id,
            "title": layer.title,
            "minzoom": layer.min_zoom,
            "maxzoom": layer.max_zoom,
            "popup": [
                f.name
                for f, _ in visible_fields(layer, PUBLIC.role, tiles=True)
                if f.name in layer.popup
            ],
            "style": _style(layer),
        }


TILED = ("units", "parcels", "hotspots", "stations", "cases")


def build_page(extent: Extent | None) -> str:
    """The page's HTML: boundaries from /api/v1/boundaries, every asset from /vendor."""
    m = folium.Map(
        location=[25.4, 119.0], zoom_start=11, tiles=None, control_scale=True, prefer_canvas=True
    )
    m.default_js = assets.JS
    m.default_css = assets.CSS
    for level in WHOLE:
        boundary = LAYERS[level]
        group = folium.FeatureGroup(name=f"{boundary.label} ({level})")
        group.add_child(
            RemoteGeoJson(
                f"/api/v1/boundaries/{level}.geojson", level, boundary.label, _style(boundary)
            )
        )
        group.add_to(m)
    m.add_child(Dispatch())
    for layer_id in TILED:
        layer = LAYERS[layer_id]
        group = folium.FeatureGroup(name=f"{layer.title} (z≥{layer.min_zoom})")
        group.add_child(TiledGeoJson(layer))
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
