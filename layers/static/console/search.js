// The search box: a case id, a grid code or name, a village or town name flies there
// (GET /api/v1/search; until the server has it, a number opens that case); an address that
// names none of them is geocoded (GET /api/v1/geocode): the map flies to the best candidate
// and shows its owning grid (owner.js), the other candidates listed below.

import { getJson, optional } from "./api.js";
import { el } from "./esc.js";
import { toMap } from "./gcj.js";
import { t } from "./i18n.js";
import * as owner from "./owner.js";

export function init(map, openCase) {
  const input = document.getElementById("search");
  const results = el("ol", { class: "queue", id: "search-results" });
  input.after(results);
  input.addEventListener("keydown", async (e) => {
    if (e.key !== "Enter") {
      return;
    }
    e.preventDefault();
    const q = input.value.trim();
    if (!q) {
      return;
    }
    const res = await optional(`/api/v1/search?q=${encodeURIComponent(q)}`);
    let hits = res?.ok ? res.data.results : [];
    if (!res && /^\d+$/.test(q)) {
      const c = await getJson(`/api/v1/cases/${q}`);
      hits = c.ok ? [{ kind: "case", id: c.data.id, name: c.data.title, lon: c.data.lon, lat: c.data.lat }] : [];
    }
    if (!hits.length && !/^\d+$/.test(q)) {
      hits = await addresses(q);
    }
    results.replaceChildren(...hits.slice(0, 10).map((h) => {
      const li = el("li", { "data-kind": h.kind }, `${h.kind} ${h.id ?? h.code ?? ""} ${h.name ?? ""}`);
      li.addEventListener("click", () => go(map, h, openCase));
      return li;
    }));
    if (!hits.length) {
      results.replaceChildren(el("li", {}, t("not_found")));
    } else {
      go(map, hits[0], openCase);
    }
  });
}

// Candidates of an address, best first: its full address, precision and owning grid.
async function addresses(q) {
  const g = await getJson(`/api/v1/geocode?q=${encodeURIComponent(q)}`);
  if (!g.ok) {
    return [];
  }
  return g.data.candidates.map((c) => ({
    kind: "address",
    code: c.owner.grid?.code ?? "",
    name: `${c.address} · ${c.precision} · ${c.owner.grid?.name ?? (c.grids ? `${c.grids.length} ${t("grids")}` : "")}`,
    lon: c.lon,
    lat: c.lat,
  }));
}

function go(map, hit, openCase) {
  if (hit.bbox) {
    const [w, s] = toMap(hit.bbox[0], hit.bbox[1]);
    const [e, n] = toMap(hit.bbox[2], hit.bbox[3]);
    map.fitBounds([[s, w], [n, e]]);
  } else if (hit.lat !== undefined && hit.lat !== null) {
    const [lon, lat] = toMap(hit.lon, hit.lat);
    map.setView([lat, lon], Math.max(map.getZoom(), 16));
  }
  if (hit.kind === "case") {
    openCase(hit.id);
  }
  if (hit.kind === "address") {
    const [lon, lat] = toMap(hit.lon, hit.lat);
    owner.show(map, { lat, lng: lon });
  }
}
