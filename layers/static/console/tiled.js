// A registry layer drawn from /tiles/{layer}/{z}/{x}/{y}.geojson for the tiles in view only,
// each feature once (keyed by its code or id), styled per feature, optionally labelled.

import { fetchRaw } from "./api.js";
import { latLngOf } from "./gcj.js";

const L = window.L;

export class TiledLayer {
  constructor(map, id, options) {
    this.map = map;
    this.id = id;
    this.o = options; // {minzoom, maxzoom, style(f), point(f, ll), label(f, z), popup(f)}
    this.group = L.featureGroup();
    this.tiles = new Map();
    this.features = new Map();
    map.on("moveend", () => this.refresh());
  }

  key(f) {
    const p = f.properties;
    return String(p.code ?? p.id ?? p.grid_code ?? p.village_code ?? JSON.stringify(f.geometry).slice(0, 80));
  }

  wanted() {
    const z = Math.min(Math.round(this.map.getZoom()), this.o.maxzoom ?? 18);
    const out = new Set();
    if (z < this.o.minzoom || !this.map.hasLayer(this.group)) {
      return out;
    }
    const b = this.map.getBounds();
    const n = 2 ** z;
    const nw = this.map.project(b.getNorthWest(), z).divideBy(256).floor();
    const se = this.map.project(b.getSouthEast(), z).divideBy(256).floor();
    for (let x = Math.max(0, nw.x); x <= Math.min(n - 1, se.x); x++) {
      for (let y = Math.max(0, nw.y); y <= Math.min(n - 1, se.y); y++) {
        out.add(`${z}/${x}/${y}`);
      }
    }
    return out;
  }

  refresh() {
    const wanted = this.wanted();
    for (const k of [...this.tiles.keys()]) {
      if (!wanted.has(k)) {
        this.tiles.delete(k);
      }
    }
    const zoomChanged = [...this.tiles.keys()].length === 0;
    if (zoomChanged) {
      this.clear();
    }
    for (const k of wanted) {
      if (!this.tiles.has(k)) {
        this.tiles.set(k, true);
        this.load(k);
      }
    }
    this.count();
  }

  clear() {
    this.group.clearLayers();
    this.features.clear();
  }

  reset() {
    this.tiles.clear();
    this.clear();
    this.refresh();
  }

  async load(k) {
    const r = await fetchRaw(`/tiles/${this.id}/${k}.geojson?clip=false`);
    if (r.status !== 200 || !this.tiles.has(k)) {
      return;
    }
    const fc = await r.json();
    for (const f of fc.features) {
      const key = this.key(f);
      if (this.features.has(key)) {
        continue;
      }
      const layer = L.geoJSON(f, {
        style: (feat) => this.o.style(feat),
        pointToLayer: (feat, ll) => this.o.point(feat, ll),
        interactive: Boolean(this.o.popup),
        coordsToLatLng: latLngOf,
      });
      if (this.o.popup) {
        layer.bindPopup(() => this.o.popup(f));
      }
      const label = this.o.label?.(f, this.map.getZoom());
      if (label) {
        layer.bindTooltip(label, { permanent: true, direction: "center", className: "map-label" });
      }
      this.features.set(key, { f, layer });
      this.group.addLayer(layer);
    }
    this.count();
    this.o.loaded?.();
  }

  restyle() {
    for (const { f, layer } of this.features.values()) {
      layer.setStyle?.(this.o.style(f));
    }
  }

  count() {
    document.body.dataset[this.id] = String(this.features.size);
  }
}
