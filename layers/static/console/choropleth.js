// The choropleth switch: grids filled, for a period, by cases, overdue cases, the on-time
// closure rate (/api/v1/cases/stats) or the performance grade (/api/v1/stats/kpis).

import { getJson } from "./api.js";

// The performance grades (A best), as the coverage bands: green to red.
export const GRADES = { A: "#1a9850", B: "#91cf60", C: "#fee08b", D: "#d73027" };
let chor = { metric: "", stats: new Map() };

export function chorColour(code) {
  const s = chor.stats.get(code);
  if (!chor.metric || !s) {
    return null;
  }
  if (chor.metric === "score") {
    return GRADES[s.grade] ?? null; // the 综合指标值's grade (kpi.toml), no grade: unfilled
  }
  const v = chor.metric === "on_time_rate" ? s.on_time_rate : s[chor.metric];
  if (v === null || v === undefined) {
    return null;
  }
  const max = chor.metric === "on_time_rate" ? 1 : chor.max || 1;
  const k = Math.min(1, v / max);
  const shade = chor.metric === "on_time_rate" ? 1 - k : k;
  return `rgb(${255},${Math.round(240 - 200 * shade)},${Math.round(220 - 200 * shade)})`;
}

export async function choropleth(metric, days, restyle) {
  chor = { metric, stats: new Map(), max: 1 };
  const since = new Date(Date.now() - days * 86400000).toISOString();
  if (metric === "score") { // the performance figures (/api/v1/stats/kpis): grade per grid
    const res = await getJson(`/api/v1/stats/kpis?by=grid&since=${encodeURIComponent(since)}`);
    for (const [code, a] of Object.entries(res.data?.areas ?? {})) {
      chor.stats.set(code, a);
    }
  } else if (metric) {
    const res = await getJson(`/api/v1/cases/stats?level=grid&since=${encodeURIComponent(since)}`);
    for (const a of res.data?.areas ?? []) {
      const rate = a.on_time_rate ?? (a.closed ? a.closed_on_time / a.closed : null);
      chor.stats.set(a.code, { ...a, on_time_rate: rate });
      chor.max = Math.max(chor.max, a[metric] ?? 0);
    }
  }
  restyle();
  document.body.dataset.choropleth = metric;
}
