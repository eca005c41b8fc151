// The analysts' layers on the map (off by default): case and waterlogging hotspots per grid
// coloured by their Gi* class, and service coverage per grid coloured by the distance to the
// nearest station of a chosen kind; their legend, and what they say of a clicked grid.

import { el } from "./esc.js";
import { t } from "./i18n.js";
import { TiledLayer } from "./tiled.js";

// Gi* classes (gis/stats/hotspots.py): red hot, blue cold, darker the surer; ns unfilled.
export const GI = {
  hot_99: "#b2182b", hot_95: "#ef8a62", hot_90: "#fddbc7",
  cold_90: "#d1e5f0", cold_95: "#67a9cf", cold_99: "#2166ac", island: "#bdbdbd",
};
// Metres to the nearest station: GB 50180-2018's 5- and 10-minute walks, then 1 km.
export const BANDS = [[300, "#1a9850"], [500, "#91cf60"], [1000, "#fee08b"], [Infinity, "#d73027"]];
export const HOTSPOT_IDS = ["case_hotspots", "waterlogging_hotspots"];
const IDS = [...HOTSPOT_IDS, "coverage"];
const MIN_ZOOM = 10; // the registry's min_zoom of these layers

let layers = {};
let kind = "party_service_center"; // the coverage layer's station kind
let stationKinds = [];
const sections = {}; // layer id -> its legend section

export function band(metres) {
  if (metres === null || metres === undefined) {
    return null;
  }
  return BANDS.find(([upTo]) => metres <= upTo)[1];
}

function area(map, id, fillOf) {
  return new TiledLayer(map, id, {
    minzoom: MIN_ZOOM,
    style: (f) => {
      const fill = fillOf(f.properties);
      return { stroke: false, fill: Boolean(fill), fillColor: fill ?? "#000", fillOpacity: 0.7 };
    },
    outline: true,
  });
}

// The three layers (not on the map until the layer control turns them on).
export function create(map, kinds) {
  stationKinds = kinds;
  layers = {
    case_hotspots: area(map, "case_hotspots", (p) => GI[p.gi_class] ?? null),
    waterlogging_hotspots: area(map, "waterlogging_hotspots", (p) => GI[p.gi_class] ?? null),
    coverage: area(map, "coverage", (p) => band(p[`${kind}_m`])),
  };
  map.on("overlayadd overlayremove", () => {
    for (const id of IDS) {
      sections[id].hidden = !map.hasLayer(layers[id].group);
    }
  });
  return layers;
}

function swatch(colour, text) {
  const i = el("i");
  i.style.background = colour;
  return [i, text, el("br")];
}

// The legend's sections, each shown while its layer is.
export function legend() {
  const out = [];
  for (const id of HOTSPOT_IDS) {
    const div = el("div", { "data-legend": id, hidden: "" });
    div.append(el("b", {}, t(id)), el("br"));
    for (const [cls, colour] of Object.entries(GI)) {
      div.append(...swatch(colour, t(cls)));
    }
    sections[id] = div;
    out.push(div);
  }
  const div = el("div", { "data-legend": "coverage", hidden: "" });
  const select = el("select", { "data-testid": "coverage-kind", "aria-label": t("coverage") });
  for (const k of stationKinds) {
    select.append(el("option", { value: k }, t(`st_${k}`)));
  }
  select.value = kind;
  select.addEventListener("change", () => {
    kind = select.value;
    layers.coverage.restyle();
    document.body.dataset.coverageKind = kind;
  });
  div.append(el("b", {}, t("coverage")), el("br"), select, el("br"));
  let from = 0;
  for (const [upTo, colour] of BANDS) {
    div.append(...swatch(colour, upTo === Infinity ? t("beyond_m", { m: from }) : t("within_m", { m: upTo })));
    from = upTo;
  }
  sections.coverage = div;
  out.push(div);
  return out;
}

// What the layers on the map say of a grid (by code), for the owner panel: [[label, text]].
export function describe(code) {
  const out = [];
  for (const id of HOTSPOT_IDS) {
    const p = layers[id]?.features.get(code)?.f.properties;
    if (p && layers[id].map.hasLayer(layers[id].group)) {
      const z = p.gi_z === null || p.gi_z === undefined ? "" : ` z=${Number(p.gi_z).toFixed(2)} p=${p.gi_p}`;
      out.push([t(id), `${t(p.gi_class)}${z} · Moran ${p.moran_class ?? ""}`]);
    }
  }
  const c = layers.coverage?.features.get(code)?.f.properties;
  if (c && layers.coverage.map.hasLayer(layers.coverage.group)) {
    const m = c[`${kind}_m`];
    const text = m === null || m === undefined ? t("no_data") : `${Math.round(m)} m (${c.method ?? ""})`;
    out.push([`${t("coverage")} · ${t(`st_${kind}`)}`, text]);
  }
  return out;
}
