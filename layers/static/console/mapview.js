// The map: boundaries, hotspots, parcels and stations from combined tiles; cases as counts
// per grid (clustered, summed) at low zoom, fetched for the whole view in one request, and as
// clustered markers by stage at street zoom, fetched for the view with the queue's filter;
// legend, layer control and the choropleth switch.

import * as analysis from "./analysis.js";
import { getJson, signedIn } from "./api.js";
import { chorColour, choropleth } from "./choropleth.js";
import { el, esc } from "./esc.js";
import { fromMap, latLngOf, toMap, useGcj } from "./gcj.js";
import * as filter from "./filter.js";
import { stageLabel, t } from "./i18n.js";
import { TiledLayer, TileSet } from "./tiled.js";

const L = window.L;
export const STREET_ZOOM = 15; // from here a signed-in user sees each case
const COUNTS_ZOOM = 10; // the cases layer's first zoom (registry): counts from here
const STAGE_COLOURS = {
  reported: "#e74c3c", registered: "#e67e22", dispatched: "#f1c40f", in_progress: "#3498db",
  responded: "#9b59b6", closed: "#27ae60", evaluated: "#16a085", cancelled: "#7f8c8d",
};
const RISK = { low: "#f9e79f", medium: "#f5b041", high: "#e67e22", severe: "#922b21" };
const PARCEL = {
  surveyed: "#d6eaf8", negotiating: "#f9e79f", signed: "#abebc6", demolished: "#aab7b8",
  rectifying: "#f5cba7",
};
// Stations are squares in hues no stage uses (stages: dots in STAGE_COLOURS).
export const STATION = {
  party_service_center: "#ad1457", convenience_point: "#1a237e", grid_council_hall: "#6d4c41",
  neighbourhood_center: "#f06292", elderly_care_center: "#827717",
};
// Boundaries: [layer, first zoom shown, label zooms [from, to], colour, weight]
const BOUNDARIES = [
  ["districts", 0, [0, 10], "#2c3e50", 3], ["towns", 10, [11, 12], "#7d3c98", 2],
  ["villages", 12, [13, 14], "#a04000", 1.5], ["grids", 13, [15, 16], "#2980b9", 1],
  ["units", 15, [17, 18], "#16a085", 0.5],
];

export let map = null;
const tiled = {};
let tileset = null;
let markers = null;
let counts = null;
let countsAsked = 0; // the latest counts request: older answers are dropped
let countsWanted = true; // the layer control's counts switch

function square(colour) {
  return L.divIcon({
    className: "",
    iconSize: [12, 12],
    html: `<span class="station" style="background:${colour}"></span>`,
  });
}

function dot(colour, ring) {
  return L.divIcon({
    className: "",
    iconSize: [14, 14],
    html: `<span style="display:block;width:12px;height:12px;border-radius:50%;background:${colour};border:2px solid ${ring}"></span>`,
  });
}


function boundary(id, first, labelZ, colour, weight) {
  return new TiledLayer(map, id, {
    minzoom: first,
    style: (f) => {
      const fill = id === "grids" ? chorColour(f.properties.code) : null;
      return { color: colour, weight, fill: Boolean(fill), fillColor: fill ?? colour, fillOpacity: 0.6 };
    },
    label: (f, z) => (z >= labelZ[0] && z <= labelZ[1] ? esc(f.properties.name) : null),
    outline: true,
  });
}

function pointLayer(id, colourOf, title, icon = null) {
  return new TiledLayer(map, id, {
    minzoom: 13,
    style: () => ({}),
    point: (f, ll) => (icon
      ? L.marker(ll, { icon: icon(colourOf(f.properties)), title: f.properties.name ?? "" })
      : L.circleMarker(ll, { radius: 6, color: "#333", weight: 1, fillColor: colourOf(f.properties), fillOpacity: 0.9 })),
    popup: (f) => `<b>${esc(title)}</b> ${esc(f.properties.name)}<br>${esc(f.properties.kind)} ${esc(f.properties.risk_level ?? f.properties.hours ?? "")}`,
  });
}

// Cases per grid (per village when zoomed out) for the whole view: one request per move,
// clustered and summed.
function countLayer() {
  return L.markerClusterGroup({
    showCoverageOnHover: false,
    iconCreateFunction: (c) => {
      const children = c.getAllChildMarkers();
      const n = children.reduce((sum, m) => sum + (m.options.n || 0), 0);
      const more = children.some((m) => m.options.n === null) ? "+" : ""; // and some withheld
      return L.divIcon({ className: "count-icon", iconSize: [30, 30], html: esc(`${n}${more}`) });
    },
  });
}

// A count marker: the open cases (else all); null when the public may not see so few
// (1 to k-1, `min_count` k): shown as "<k".
function countMarker(f, k) {
  const p = f.properties;
  const n = p.open ?? null;
  if (n === 0 || (n === null && !k)) {
    return null; // no open case here: nothing to read
  }
  const few = `<${k}`;
  const text = n === null ? few : String(n);
  const m = L.marker(latLngOf(f.geometry.coordinates), { n, icon: L.divIcon({ className: "count-icon", iconSize: [30, 30], html: esc(text) }) });
  const area = p.grid_code ? t("grid") : t("village");
  return m.bindPopup(() => `${esc(area)} ${esc(p.grid_code ?? p.village_code)}: ${esc(p.cases ?? few)} / ${esc(p.open ?? few)}`);
}

async function refreshCounts() {
  const zoom = Math.round(map.getZoom());
  const asked = ++countsAsked;
  if (zoom < COUNTS_ZOOM || !map.hasLayer(counts)) {
    counts.clearLayers();
    document.body.dataset.cases = "0";
    return;
  }
  const bbox = filter.bboxOf(wgsBounds());
  const res = await getJson(`/api/v1/cases/counts.geojson?bbox=${bbox}&zoom=${zoom}`);
  if (asked !== countsAsked || !res.ok) {
    return;
  }
  const drawn = res.data.features.map((f) => countMarker(f, res.data.min_count)).filter(Boolean);
  counts.clearLayers();
  counts.addLayers(drawn);
  document.body.dataset.cases = String(res.data.features.length);
  document.body.dataset.countsZoom = String(zoom);
}

// The optional basemap from /api/v1/config: {url, crs, attribution}; none by default.
function basemap(config) {
  const b = config?.basemap;
  if (!b?.url) {
    return;
  }
  useGcj(String(b.crs ?? "").toUpperCase().replace("-", "") === "GCJ02");
  L.tileLayer(b.url, { attribution: b.attribution ?? "", maxZoom: 19 }).addTo(map);
}

export function init(onOpenCase, config = null) {
  map = window.map_console;
  basemap(config);
  map.setMinZoom(5);
  map.setMaxZoom(19); // no basemap tile layer to set it; the clusters need it
  const at = filter.viewFromUrl(); // a shared link's place, else the city's extent
  if (at) {
    const [lon, lat] = toMap(at.lon, at.lat);
    map.setView([lat, lon], at.zoom, { animate: false });
  }
  for (const [id, first, labelZ, colour, weight] of BOUNDARIES) {
    tiled[id] = boundary(id, first, labelZ, colour, weight);
  }
  tiled.hotspots = pointLayer("hotspots", (p) => RISK[p.risk_level] ?? "#5dade2", t("hotspots"));
  tiled.parcels = new TiledLayer(map, "parcels", {
    minzoom: 14,
    style: (f) => ({ color: "#d35400", weight: 1, fillColor: PARCEL[f.properties.status] ?? "#f5cba7", fillOpacity: 0.5 }),
    popup: (f) => `${esc(f.properties.name)} · ${esc(f.properties.status)}`,
  });
  tiled.stations = pointLayer("stations", (p) => STATION[p.kind] ?? "#455a64", t("stations_l"), square);
  Object.assign(tiled, analysis.create(map, Object.keys(STATION)));
  counts = countLayer();
  markers = L.markerClusterGroup({ disableClusteringAtZoom: 18, showCoverageOnHover: false });
  markers.on("click", (e) => onOpenCase(e.layer.options.caseId));
  const overlays = {};
  const off = ["parcels", "hotspots", ...analysis.HOTSPOT_IDS, "coverage"]; // until turned on
  for (const id of ["districts", "towns", "villages", "grids", "units", ...off, "stations"]) {
    overlays[t(id === "stations" ? "stations_l" : id)] = tiled[id].group;
    if (!off.includes(id)) {
      tiled[id].group.addTo(map);
    }
  }
  overlays[`${t("cases")} (${t("cases_per_grid")})`] = counts;
  overlays[t("cases")] = markers;
  counts.addTo(map);
  markers.addTo(map);
  // The view's tiles and cases asked for first (the session is known by now), then the
  // controls built while they come.
  tileset = new TileSet(map, tiled, config?.plan_version);
  tileset.refresh();
  refreshCases();
  L.control.layers(null, overlays, { collapsed: true }).addTo(map);
  legend();
  map.on("overlayadd overlayremove", (e) => {
    if (e.layer === counts) {
      countsWanted = e.type === "overlayadd";
      refreshCases();
    }
  });
  map.on("moveend", () => {
    refreshCases();
    const c = map.getCenter();
    const [lon, lat] = fromMap(c.lng, c.lat);
    filter.viewToUrl(Math.round(map.getZoom()), lat, lon);
  });
}

function legend() {
  const control = L.control({ position: "bottomright" });
  control.onAdd = () => {
    const div = el("div", { class: "legend" });
    div.append(el("b", {}, t("legend")), el("br"));
    for (const [code, colour] of Object.entries(STAGE_COLOURS)) {
      const i = el("i", { class: "dot" });
      i.style.background = colour;
      div.append(i, stageLabel(code), el("br"));
    }
    div.append(el("b", {}, t("stations_l")), el("br"));
    for (const [kind, colour] of Object.entries(STATION)) {
      const i = el("i", { class: "station", "data-kind": kind });
      i.style.background = colour;
      div.append(i, t(`st_${kind}`), el("br"));
    }
    div.append(...analysis.legend());
    const select = el("select", { "data-testid": "choropleth", "aria-label": t("choropleth") });
    for (const [v, k] of [["", "chor_none"], ["reported", "chor_reported"], ["overdue", "chor_overdue"], ["on_time_rate", "chor_on_time"], ["score", "chor_score"]]) {
      select.append(el("option", { value: v }, `${t("choropleth")}: ${t(k)}`));
    }
    const days = el("select", { "data-testid": "choropleth-period", "aria-label": "period" });
    for (const n of [7, 30, 90, 365]) {
      days.append(el("option", { value: n }, t("period_days", { n })));
    }
    const apply = () => choropleth(select.value, Number(days.value), () => tiled.grids.restyle());
    select.addEventListener("change", apply);
    days.addEventListener("change", apply);
    div.append(select, days);
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  control.addTo(map);
}


// Cases for the view: counts per grid when public or zoomed out, else each case (filtered).
export async function refreshCases() {
  const street = signedIn() && map.getZoom() >= STREET_ZOOM;
  if (!street) {
    markers.clearLayers();
    if (countsWanted && !map.hasLayer(counts)) {
      counts.addTo(map);
    }
    document.body.dataset.caseMarkers = "0";
    await refreshCounts();
    return;
  }
  map.removeLayer(counts);
  const bbox = filter.bboxOf(wgsBounds());
  const res = await getJson(`/api/v1/cases?${filter.query({ bbox, limit: 1000, offset: 0 })}`);
  markers.clearLayers();
  for (const c of res.ok ? res.data.cases : []) {
    upsertMarker(c);
  }
  document.body.dataset.caseMarkers = String(markers.getLayers().length);
}

// The view's bounds in WGS-84 (the API's coordinates), whatever the basemap.
export function wgsBounds() {
  const b = map.getBounds();
  const [w, s] = fromMap(b.getWest(), b.getSouth());
  const [e, n] = fromMap(b.getEast(), b.getNorth());
  return L.latLngBounds([s, w], [n, e]);
}

export function upsertMarker(c) {
  dropMarker(c.id);
  if (c.lat === undefined || c.lat === null) {
    return;
  }
  const [lon, lat] = toMap(c.lon, c.lat);
  const m = L.marker([lat, lon], {
    caseId: c.id,
    icon: dot(STAGE_COLOURS[c.status] ?? "#333", c.overdue ? "#000" : "#fff"),
    title: `#${c.id}`,
  });
  markers.addLayer(m);
  document.body.dataset.caseMarkers = String(markers.getLayers().length);
}

let countsTimer = null;

// A live case on the map: its marker at street zoom (dropped when it no longer passes the
// filter), else the view's counts asked again (at most every 2 s).
export function showCase(c, passes) {
  if (signedIn() && map.getZoom() >= STREET_ZOOM) {
    if (passes) {
      upsertMarker(c);
    } else {
      dropMarker(c.id);
    }
    return;
  }
  countsTimer ??= setTimeout(() => {
    countsTimer = null;
    refreshCounts();
  }, 2000);
}

function dropMarker(id) {
  const old = markers.getLayers().find((m) => m.options.caseId === id);
  if (old) {
    markers.removeLayer(old);
  }
  document.body.dataset.caseMarkers = String(markers.getLayers().length);
}

// After signing in or out: the cases again (the combined tiles are the same for every reader).
export function reloadAll() {
  refreshCases();
}
