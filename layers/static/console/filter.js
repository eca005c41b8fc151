// The queue's filter: read from and written to the URL (a link reproduces the view), and
// turned into the query of GET /api/v1/cases for the queue, the map's markers and the CSV.

const KEYS = [
  "status", "overdue", "category", "grid", "district", "town", "village", "q",
  "reported_after", "reported_before", "sort", "in_view", "offset",
];
export const PAGE = 50;
let current = {};
let openStages = ["reported", "registered", "dispatched", "in_progress", "responded"];

// The open stages as the server counts them (/api/v1/config), for matching live cases.
export function setOpenStages(stages) {
  if (Array.isArray(stages) && stages.length) {
    openStages = stages;
  }
}

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
  writeQuery(p);
  return current;
}

// The page's URL with these parameters (slashes left readable: ?at=13/25.3/119.0).
function writeQuery(p) {
  const query = p.toString().replaceAll("%2F", "/");
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

// The map's view in the URL (?at=zoom/lat/lon, WGS-84): a link opens the same place; a value
// that is not a zoom and a point on Earth is ignored.
const AT = /^(\d{1,2})\/(-?\d{1,2}(?:\.\d{1,7})?)\/(-?\d{1,3}(?:\.\d{1,7})?)$/;

export function viewFromUrl() {
  const m = AT.exec(new URLSearchParams(location.search).get("at") ?? "");
  if (!m) {
    return null;
  }
  const [zoom, lat, lon] = m.slice(1).map(Number);
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { zoom, lat, lon } : null;
}

export function viewToUrl(zoom, lat, lon) {
  const p = new URLSearchParams(location.search);
  p.set("at", `${zoom}/${lat.toFixed(5)}/${lon.toFixed(5)}`);
  writeQuery(p);
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

function list(value) {
  return String(value).split(",").map((v) => v.trim()).filter(Boolean);
}

// Whether a case (as GET /api/v1/cases/{id} gives it) passes the filter, as the server's
// query would pass it; `bounds` is the view (a Leaflet LatLngBounds) when only in view.
export function matches(c, bounds = null) {
  const f = current;
  if (!(f.status ? list(f.status) : openStages).includes(c.status)) {
    return false;
  }
  if (f.overdue && String(Boolean(c.overdue)) !== f.overdue) {
    return false;
  }
  if (f.category && !list(f.category).includes(c.category)) {
    return false;
  }
  const village = c.village?.code ?? "";
  const areas = { grid: c.grid?.code, village, town: c.town?.code, district: village && `${village.slice(0, 6)}000000` };
  if (["grid", "village", "town", "district"].some((k) => f[k] && f[k] !== areas[k])) {
    return false;
  }
  if (f.q) {
    const q = f.q.trim().toLowerCase();
    const text = [c.title, c.description, c.address].some((v) => (v ?? "").toLowerCase().includes(q));
    if (!text && String(c.id) !== q) {
      return false;
    }
  }
  const at = Date.parse(c.reported_at);
  if (f.reported_after && at < Date.parse(day(f.reported_after, false))) {
    return false;
  }
  if (f.reported_before && at >= Date.parse(day(f.reported_before, true))) {
    return false;
  }
  return !bounds || bounds.contains([c.lat, c.lon]);
}

// The queue's order as a comparison of two cases (the sort key, then the id).
export function compare(a, b) {
  const sort = current.sort || "close_by";
  const key = sort.replace(/^-/, "");
  const way = sort.startsWith("-") ? -1 : 1;
  const v = (c) => (key === "id" ? c.id : Date.parse(c[key]));
  const d = v(a) - v(b) || a.id - b.id;
  return way * Math.sign(d);
}
