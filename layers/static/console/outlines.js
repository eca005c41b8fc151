// Boundaries as Leaflet canvas polygons made from flat coordinate arrays: a tile's thousands of
// rings become Float64Arrays of [lon, lat, ...] (shifted to GCJ-02 when the basemap is), and
// are projected straight to layer pixels with the Web Mercator formulas Leaflet itself uses,
// with no LatLng per vertex to make, convert, project and collect (that was most of drawing a
// tile). Clipping, simplifying and painting stay Leaflet's own (L.Polygon).

import { shifting, toMap } from "./gcj.js";

const L = window.L;
const { R, MAX_LATITUDE } = L.Projection.SphericalMercator;
const D = Math.PI / 180;
const K = 0.5 / (Math.PI * R); // as L.CRS.EPSG3857.transformation

// A GeoJSON (multi-)polygon's rings, outer and holes alike (the canvas fills even-odd), and
// its outer rings' box [minLon, minLat, maxLon, maxLat] (null when it has none).
export function ringsOf(g) {
  const polygons = g?.type === "Polygon" ? [g.coordinates] : g?.type === "MultiPolygon" ? g.coordinates : [];
  const rings = [];
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const gcj = shifting();
  for (const polygon of polygons) {
    polygon.forEach((ring, r) => {
      const flat = new Float64Array(ring.length * 2);
      for (let i = 0; i < ring.length; i++) {
        const [lon, lat] = gcj ? toMap(ring[i][0], ring[i][1]) : ring[i];
        flat[2 * i] = lon;
        flat[2 * i + 1] = lat;
        if (r === 0) {
          box[0] = Math.min(box[0], lon);
          box[1] = Math.min(box[1], lat);
          box[2] = Math.max(box[2], lon);
          box[3] = Math.max(box[3], lat);
        }
      }
      rings.push(flat);
    });
  }
  return { rings, box: box[0] <= box[2] ? box : null };
}

// One canvas polygon of many rings (each a Float64Array from ringsOf), not interactive.
export const FlatPolygon = L.Polygon.extend({
  initialize(rings, options) {
    L.setOptions(this, { ...options, interactive: false });
    this._flat = rings;
    this._latlngs = [];
    let [s, w, n, e] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const flat of rings) {
      for (let i = 0; i < flat.length; i += 2) {
        w = Math.min(w, flat[i]);
        e = Math.max(e, flat[i]);
        s = Math.min(s, flat[i + 1]);
        n = Math.max(n, flat[i + 1]);
      }
    }
    this._bounds = rings.length ? L.latLngBounds([s, w], [n, e]) : L.latLngBounds([]);
  },

  isEmpty() {
    return !this._flat.length;
  },

  // As L.Polyline's _project (map.latLngToLayerPoint of every vertex, rounded), in one loop.
  _project() {
    const map = this._map;
    const scale = map.options.crs.scale(map.getZoom());
    const origin = map.getPixelOrigin();
    const mercator = map.options.crs === L.CRS.EPSG3857;
    const px = new L.Bounds();
    this._rings = this._flat.map((flat) => {
      const ring = new Array(flat.length / 2);
      for (let i = 0; i < flat.length; i += 2) {
        let p;
        if (mercator) {
          const lat = Math.max(Math.min(MAX_LATITUDE, flat[i + 1]), -MAX_LATITUDE);
          const sin = Math.sin(lat * D);
          const x = (K * R * flat[i] * D + 0.5) * scale;
          const y = (-K * (R * Math.log((1 + sin) / (1 - sin)) / 2) + 0.5) * scale;
          p = new L.Point(Math.round(x) - origin.x, Math.round(y) - origin.y);
        } else {
          p = map.latLngToLayerPoint([flat[i + 1], flat[i]]);
        }
        ring[i / 2] = p;
        px.extend(p);
      }
      return ring;
    });
    if (this._bounds.isValid() && px.isValid()) {
      this._rawPxBounds = px;
      this._updateBounds();
    }
  },
});
