// The queue's filter: read from and written to the URL (a link reproduces the view), and
// turned into the query of GET /api/v1/cases for the queue, the map's markers and the CSV.

const KEYS = [
  "status", "overdue", "category", "grid", "district", "town", "village", "q",
  "reported_after", "reported_before", "sort", "in_view", "offset",
];
export const PAGE = 50;
let current = {};

export function fromUrl() {
  const p = new URLSearchParams(location.search);
  current = {};
  for (const k of KEYS) {
    if (p.get(k)) {
      current[k] = p.get(k);
    }
  }
  return current;
}

export function get() {
  return current;
}

export function set(values) {
  current = {};
  for (const k of KEYS) {
    if (values[k]) {
      current[k] = String(values[k]);
    }
  }
  const p = new URLSearchParams(location.search);
  for (const k of KEYS) {
    p.delete(k);
    if (current[k]) {
      p.set(k, current[k]);
    }
  }
  const query = p.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
  return current;
}

function day(value, endOfDay) {
  return `${value}T${endOfDay ? "23:59:59" : "00:00:00"}+08:00`;
}

// The API query for this filter: open cases by default, soonest deadline first.
export function query({ bbox = null, limit = PAGE, offset = null, format = null } = {}) {
  const f = current;
  const p = new URLSearchParams();
  if (f.status) {
    p.set("status", f.status);
  } else {
    p.set("open", "true");
  }
  for (const k of ["overdue", "category", "grid", "district", "town", "village", "q"]) {
    if (f[k]) {
      p.set(k, f[k]);
    }
  }
  if (f.reported_after) {
    p.set("reported_after", day(f.reported_after, false));
  }
  if (f.reported_before) {
    p.set("reported_before", day(f.reported_before, true));
  }
  p.set("sort", f.sort || "close_by");
  if (bbox) {
    p.set("bbox", bbox);
  }
  if (format) {
    p.set("f", format);
  } else {
    p.set("limit", String(limit));
    p.set("offset", String(offset ?? (Number(f.offset) || 0)));
  }
  return p;
}

export function bboxOf(bounds) {
  return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
    .map((v) => v.toFixed(5))
    .join(",");
}
