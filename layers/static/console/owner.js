// Clicking an empty spot: the owner chain (district, town, village, grid, unit, leaders as
// the policy allows) in the owner panel, and the owning grid and unit outlined on the map.

import { getJson } from "./api.js";
import { el } from "./esc.js";
import { fromMap, latLngOf } from "./gcj.js";
import { t } from "./i18n.js";

const L = window.L;
const box = () => document.getElementById("owner-panel");
let outline = null;

async function draw(map, collection, code, style) {
  const res = await getJson(`/ogc/collections/${collection}/items/${encodeURIComponent(code)}?f=json`);
  if (res.ok) {
    outline.addLayer(L.geoJSON(res.data, { style, interactive: false, coordsToLatLng: latLngOf }));
  }
}

// `extra(gridCode)`: more [label, text] rows for the owning grid (the analysis layers shown).
export async function show(map, latlng, extra = () => []) {
  const [x, y] = fromMap(latlng.lng, latlng.lat);
  const lon = x.toFixed(6);
  const lat = y.toFixed(6);
  const res = await getJson(`/api/v1/locate?lon=${lon}&lat=${lat}`);
  const panel = box();
  panel.hidden = false;
  outline?.remove();
  outline = L.featureGroup().addTo(map);
  if (!res.ok || res.data.status !== "inside") {
    panel.replaceChildren(el("p", {}, `${t("no_owner")} ${res.data?.detail ?? ""}`));
    return;
  }
  const o = res.data;
  const tbl = el("table");
  for (const level of ["district", "town", "village", "grid", "unit"]) {
    const part = o[level];
    if (!part) {
      continue;
    }
    const tr = el("tr", { "data-level": level });
    const lead = part.leader ? ` · ${t("leader")} ${part.leader.name ?? ""} ${part.leader.phone ?? ""}` : "";
    tr.append(el("th", {}, t(level)), el("td", {}, `${part.name} (${part.code})${lead}`));
    tbl.append(tr);
  }
  for (const [label, text] of extra(o.grid.code)) {
    const tr = el("tr", { "data-level": "analysis" });
    tr.append(el("th", {}, label), el("td", {}, text));
    tbl.append(tr);
  }
  panel.replaceChildren(el("h4", {}, `${t("owner")} ${lon}, ${lat}`), tbl);
  await Promise.all([
    draw(map, "grids", o.grid.code, { color: "#e74c3c", weight: 4, fill: false }),
    o.unit ? draw(map, "units", o.unit.code, { color: "#f39c12", weight: 3, dashArray: "6 4", fill: false }) : null,
  ]);
  document.body.dataset.ownerGrid = o.grid.code;
}
