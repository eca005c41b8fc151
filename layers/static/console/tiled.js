// The map's registry layers, fetched together: one request per 512-pixel tile in view
// (/tiles/combined/{z}/{x}/{y}.json) carries every layer shown at that zoom; each layer draws
// each feature once (keyed by its code or id), styled per feature, optionally labelled. The
// tile's URL names the plan version, so the browser keeps it and zooming back costs nothing.

import { fetchRaw } from "./api.js";
import { latLngOf } from "./gcj.js";
import { FlatPolygon, ringsOf } from "./outlines.js";

const L = window.L;
const SIZE = 512; // a tile at z covers what four 256-pixel tiles at z + 1 do
const LABEL_MIN = [40, 16]; // pixels: an area narrower or lower than this goes unlabelled
const LABEL_CELL = [96, 28]; // pixels: two labels' centres are at least this far apart

export class TiledLayer {
  constructor(map, id, options) {
    this.map = map;
    this.id = id;
    this.o = options; // {minzoom, style(f), point(f, ll), label(f, z), popup(f), outline}
    this.group = L.featureGroup();
    this.features = new Map();
    this.placed = new Map(); // cell -> the label placed in it (pixels at this zoom)
    this.shapes = []; // outlines: one multi-polygon per style
  }

  key(f) {
    const p = f.properties;
    return String(p.code ?? p.id ?? JSON.stringify(f.geometry).slice(0, 80));
  }

  shown(zoom) {
    return zoom >= this.o.minzoom && this.map.hasLayer(this.group);
  }

  clear() {
    this.group.clearLayers();
    this.features.clear();
    this.placed.clear();
    this.shapes = [];
    this.count();
  }

  // New features of a tile, drawn in one go. Labels are plain DOM markers centred by CSS (a
  // permanent tooltip measures itself on adding, which forces a layout per label).
  add(fc, zoom) {
    const fresh = fc.features.filter((f) => !this.features.has(this.key(f)));
    if (!fresh.length) {
      return;
    }
    if (this.o.outline) {
      this.addOutlines(fresh, zoom);
    } else {
      this.addEach(fresh, zoom);
    }
    this.count();
  }

  // Points and areas with popups: a Leaflet layer per feature.
  addEach(fresh, zoom) {
    L.geoJSON({ type: "FeatureCollection", features: fresh }, {
      style: (feat) => this.o.style(feat),
      pointToLayer: (feat, ll) => this.o.point(feat, ll),
      interactive: Boolean(this.o.popup),
      coordsToLatLng: latLngOf,
      onEachFeature: (f, layer) => {
        if (this.o.popup) {
          layer.bindPopup(() => this.o.popup(f));
        }
        this.features.set(this.key(f), { f });
        this.group.addLayer(layer);
        const at = layer.getLatLng ? layer.getLatLng() : null;
        this.addLabel(f, zoom, () => at ?? layer.getBounds());
      },
    });
  }

  // Boundaries (outlines, no popup): one multi-polygon per style, however many features (a
  // Leaflet layer per grid costs a thousand times more than its few points on the canvas).
  addOutlines(fresh, zoom) {
    for (const f of fresh) {
      const { rings, box } = ringsOf(f.geometry);
      this.features.set(this.key(f), { f, rings });
      if (box) {
        this.addLabel(f, zoom, () => L.latLngBounds([box[1], box[0]], [box[3], box[2]]));
      }
    }
    this.drawOutlines(fresh.map((f) => this.features.get(this.key(f))));
  }

  drawOutlines(items) {
    const byStyle = new Map();
    for (const { f, rings } of items) {
      const style = this.o.style(f);
      const k = JSON.stringify(style);
      if (!byStyle.has(k)) {
        byStyle.set(k, { style, rings: [] });
      }
      byStyle.get(k).rings.push(...rings);
    }
    for (const { style, rings } of byStyle.values()) {
      if (rings.length && (style.stroke !== false || style.fill)) { // else nothing to draw
        const shape = new FlatPolygon(rings, style);
        this.shapes.push(shape);
        this.group.addLayer(shape);
      }
    }
  }

  addLabel(f, zoom, where) { // where(): a point, or an area's bounds
    const label = this.o.label?.(f, zoom);
    const at = label && this.labelPlace(where(), zoom);
    if (at) {
      const icon = L.divIcon({ className: "label-icon", iconSize: [0, 0], html: `<span class="map-label">${label}</span>` });
      this.group.addLayer(L.marker(at, { icon, interactive: false, keyboard: false }));
    }
  }

  // Where an area's label goes, or null: an area too small on screen for its name, or one whose
  // centre is within a LABEL_CELL of a label already placed, has none; a dense city stays
  // readable and the page draws fewer labels. Points are always labelled.
  labelPlace(where, zoom) {
    if (!where.getNorthEast) {
      return where;
    }
    const ne = this.map.project(where.getNorthEast(), zoom);
    const sw = this.map.project(where.getSouthWest(), zoom);
    if (ne.x - sw.x < LABEL_MIN[0] || sw.y - ne.y < LABEL_MIN[1]) {
      return null;
    }
    const at = where.getCenter();
    const p = this.map.project(at, zoom);
    const [w, h] = LABEL_CELL;
    const cx = Math.floor(p.x / w);
    const cy = Math.floor(p.y / h);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const q = this.placed.get(`${cx + dx}:${cy + dy}`);
        if (q && Math.abs(q.x - p.x) < w && Math.abs(q.y - p.y) < h) {
          return null;
        }
      }
    }
    this.placed.set(`${cx}:${cy}`, p);
    return at;
  }

  // The styles follow the features again (the choropleth changed).
  restyle() {
    if (this.o.outline) {
      this.shapes.forEach((shape) => this.group.removeLayer(shape));
      this.shapes = [];
      this.drawOutlines([...this.features.values()]);
      return;
    }
    this.group.eachLayer((layer) => {
      if (layer.feature) {
        layer.setStyle?.(this.o.style(layer.feature));
      }
    });
  }

  count() {
    document.body.dataset[this.id] = String(this.features.size);
  }
}

// The tiles in view and, per tile, which layers it has been asked for at this zoom.
export class TileSet {
  constructor(map, layers, version) {
    this.map = map;
    this.layers = layers; // {id: TiledLayer}
    this.version = version ?? "";
    this.zoom = null;
    this.asked = new Map(); // "z/x/y" -> Set of layer ids
    this.pending = 0;
    map.on("moveend", () => this.refresh());
    map.on("overlayadd overlayremove", () => this.refresh());
  }

  wanted(zoom) {
    const z = Math.max(0, zoom - 1);
    const b = this.map.getBounds();
    const n = 2 ** z;
    const nw = this.map.project(b.getNorthWest(), z).divideBy(256).floor();
    const se = this.map.project(b.getSouthEast(), z).divideBy(256).floor();
    const out = [];
    for (let x = Math.max(0, nw.x); x <= Math.min(n - 1, se.x); x++) {
      for (let y = Math.max(0, nw.y); y <= Math.min(n - 1, se.y); y++) {
        out.push(`${z}/${x}/${y}`);
      }
    }
    return out;
  }

  refresh() {
    const zoom = Math.round(this.map.getZoom());
    if (zoom !== this.zoom) {
      this.zoom = zoom; // styles, labels and simplification follow the zoom: start afresh
      this.asked.clear();
      Object.values(this.layers).forEach((l) => l.clear());
    }
    for (const [id, layer] of Object.entries(this.layers)) {
      if (!layer.shown(zoom) && layer.features.size) {
        layer.clear();
        this.asked.forEach((ids) => ids.delete(id));
      }
    }
    const ids = Object.keys(this.layers).filter((id) => this.layers[id].shown(zoom));
    for (const k of this.wanted(zoom)) {
      const asked = this.asked.get(k) ?? new Set();
      const missing = ids.filter((id) => !asked.has(id));
      if (missing.length) {
        missing.forEach((id) => asked.add(id));
        this.asked.set(k, asked);
        this.load(k, missing, zoom);
      }
    }
  }

  reset() {
    this.zoom = null;
    this.refresh();
  }

  async load(k, ids, zoom) {
    this.busy(1);
    try {
      const v = encodeURIComponent(this.version);
      const r = await fetchRaw(`/tiles/combined/${k}.json?layers=${ids.join(",")}&size=${SIZE}&v=${v}`);
      const fresh = r.headers.get("X-Plan-Version");
      if (fresh && fresh !== this.version) {
        this.version = fresh; // the plan changed: ask again under the new version
        this.asked.clear();
        setTimeout(() => this.reset(), 0);
      }
      if (r.status !== 200 || zoom !== this.zoom) {
        return;
      }
      const body = await r.json();
      for (const id of ids) {
        if (body[id] && this.layers[id].shown(zoom)) {
          this.layers[id].add(body[id], zoom);
        }
      }
    } finally {
      this.busy(-1);
    }
  }

  busy(delta) {
    this.pending += delta;
    document.body.dataset.tilesPending = String(this.pending);
  }
}
