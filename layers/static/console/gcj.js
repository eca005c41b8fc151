// WGS-84 <-> GCJ-02 (the offset of Chinese web basemaps such as AMap and Tianditu's GCJ
// mirrors): overlays are shifted when the configured basemap is GCJ-02 so they line up.

const A = 6378245.0;
const EE = 0.006693421622965943;
let active = false;

export function useGcj(on) {
  active = Boolean(on);
}

// Whether overlays are being shifted to GCJ-02.
export function shifting() {
  return active;
}

function outside(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function tLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function tLon(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

function delta(lon, lat) {
  const rad = (lat / 180) * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  const dLat = (tLat(lon - 105, lat - 35) * 180) / (((A * (1 - EE)) / (magic * sq)) * Math.PI);
  const dLon = (tLon(lon - 105, lat - 35) * 180) / ((A / sq) * Math.cos(rad) * Math.PI);
  return [dLon, dLat];
}

// [lon, lat] as drawn: shifted to GCJ-02 when the basemap is GCJ-02.
export function toMap(lon, lat) {
  if (!active || outside(lon, lat)) {
    return [lon, lat];
  }
  const [dx, dy] = delta(lon, lat);
  return [lon + dx, lat + dy];
}

// A point on the map back to WGS-84 (two fixed-point steps: well under a metre).
export function fromMap(lon, lat) {
  if (!active || outside(lon, lat)) {
    return [lon, lat];
  }
  let x = lon;
  let y = lat;
  for (let i = 0; i < 3; i++) {
    const [gx, gy] = toMap(x, y);
    x += lon - gx;
    y += lat - gy;
  }
  return [x, y];
}

// For L.geoJSON's coordsToLatLng option.
export function latLngOf(coords) {
  const [lon, lat] = toMap(coords[0], coords[1]);
  return window.L.latLng(lat, lon);
}
