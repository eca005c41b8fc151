// Talking to our server: every fetch goes with the session cookie (same origin); until the
// server has /api/v1/session, a signed-in token is kept in memory only (never localStorage)
// and sent as a bearer header.

let memoryToken = null;
let me = { role: "public" };
const absent = new Set(); // endpoints this server does not have (404): asked once only

function headers(extra = {}) {
  const h = { Accept: "application/json", ...extra };
  if (memoryToken) {
    h.Authorization = `Bearer ${memoryToken}`;
  }
  return h;
}

export function bearerToken() {
  return memoryToken;
}

export function fetchRaw(path, opts = {}) {
  return fetch(path, { credentials: "same-origin", ...opts, headers: headers(opts.headers) });
}

// A JSON answer: {ok, status, data, etag}; data is the problem body on an error.
export async function getJson(path, opts = {}) {
  const r = await fetchRaw(path, opts);
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  return { ok: r.ok, status: r.status, data, etag: r.headers.get("ETag") };
}

// An optional endpoint: null when this server does not have it (asked once; 422 is an
// older server reading /cases/lifecycle as a case id).
export async function optional(path, opts = {}) {
  const key = path.split("?")[0];
  if (absent.has(key)) {
    return null;
  }
  const res = await getJson(path, opts);
  if ([404, 405, 422].includes(res.status)) {
    absent.add(key);
    return null;
  }
  return res;
}

export function whoami() {
  return me;
}

export async function loadSession() {
  const res = await optional("/api/v1/session");
  if (res?.ok && res.data) {
    me = res.data;
  }
  return me;
}

// Sign in with a token: a session cookie when the server offers one, else memory only.
export async function signIn(token) {
  const body = JSON.stringify({ token });
  const res = await optional("/api/v1/session", {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json" },
  });
  if (res) {
    if (!res.ok) {
      return null;
    }
    memoryToken = null;
    me = res.data;
    return me;
  }
  memoryToken = token;
  const probe = await getJson("/api/v1/cases?limit=1");
  if (!probe.ok) {
    memoryToken = null;
    return null;
  }
  me = { name: "", role: "signed-in", grid_code: null };
  return me;
}

export async function signOut() {
  memoryToken = null;
  me = { role: "public" };
  await optional("/api/v1/session", { method: "DELETE" });
}

export function signedIn() {
  return me.role !== "public";
}

// Act on a case with its version; the answer tells conflicts (412) from refusals (409).
export async function act(id, action, version, note = "") {
  return getJson(`/api/v1/cases/${encodeURIComponent(id)}/actions`, {
    method: "POST",
    body: JSON.stringify({ action, note }),
    headers: { "Content-Type": "application/json", "If-Match": `"${version}"` },
  });
}
