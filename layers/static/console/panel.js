// The case panel: details, owner chain with leaders, reporter (as the policy allows), full
// history, nearby cases and stations, and one button per allowed action sent with If-Match;
// a case with no point yet (filed by a vague address) is placed by the next map click.

import { act, getJson, optional } from "./api.js";
import { el } from "./esc.js";
import { fromMap } from "./gcj.js";
import { actionLabel, stageLabel, t } from "./i18n.js";
import { map } from "./mapview.js";

const box = () => document.getElementById("case-panel");
let openId = null;
let onChanged = () => {};

export function init(options) {
  onChanged = options.onChanged;
}

export function currentId() {
  return openId;
}

function table(rows) {
  const tbl = el("table");
  for (const [label, value] of rows) {
    if (value) {
      const tr = el("tr");
      tr.append(el("th", {}, label), el("td", {}, value));
      tbl.append(tr);
    }
  }
  return tbl;
}

function named(part) {
  return part ? `${part.name ?? ""} (${part.code ?? ""})` : "";
}

function leader(part) {
  return part?.leader ? `${part.leader.name ?? ""} ${part.leader.phone ?? ""}` : "";
}

function list(title, items, text, name) {
  if (!items?.length) {
    return [];
  }
  const ol = el("ol", { class: name });
  items.forEach((item) => ol.append(el("li", {}, text(item))));
  return [el("h4", {}, title), ol];
}

function actions(c, message) {
  const div = el("div", { class: "actions" });
  for (const name of c.allowed_actions ?? []) {
    const b = el("button", { type: "button", "data-testid": "case-action", "data-action": name });
    b.textContent = actionLabel(name);
    b.addEventListener("click", () => run(c, name, message));
    div.append(b);
  }
  return div;
}

// No point yet: say so, and place it where the map is clicked next (POST .../location).
function unplaced(c, message) {
  if (c.lon !== null && c.lon !== undefined) {
    return [];
  }
  const b = el("button", { type: "button", "data-testid": "case-place" }, t("place_on_map"));
  b.addEventListener("click", () => {
    b.disabled = true;
    b.textContent = t("click_map");
    map.once("click", async (e) => {
      const [lon, lat] = fromMap(e.latlng.lng, e.latlng.lat);
      const res = await getJson(`/api/v1/cases/${c.id}/location`, {
        method: "POST",
        body: JSON.stringify({ lon, lat }),
        headers: { "Content-Type": "application/json", "If-Match": `"${c.version}"` },
      });
      await settle(c, res, message);
    });
  });
  return [el("p", { class: "unlocated", "data-testid": "case-unlocated" }, t("unlocated")), b];
}

async function run(c, name, message) {
  await settle(c, await act(c.id, name, c.version), message);
}

// After a change: a conflict (412) reloads and says so, a refusal says why, else reload.
async function settle(c, res, message) {
  if (res.status === 412) {
    await open(c.id);
    const now = await getJson(`/api/v1/cases/${c.id}`);
    box().prepend(el("p", { class: "conflict", role: "alert" }, t("conflict", { v: now.data?.version ?? "?" })));
    return;
  }
  if (!res.ok) {
    message.textContent = `${t("not_allowed")}${res.data?.detail ?? res.status}`;
    return;
  }
  await open(c.id);
  onChanged(res.data);
}

export function close() {
  openId = null;
  box().hidden = true;
}

export async function open(id) {
  openId = id;
  const res = await getJson(`/api/v1/cases/${encodeURIComponent(id)}`);
  const panel = box();
  panel.hidden = false;
  if (!res.ok) {
    panel.replaceChildren(el("p", { class: "error" }, res.data?.detail ?? t("not_found")));
    return null;
  }
  const c = res.data;
  const [hist, near] = await Promise.all([
    getJson(`/api/v1/cases/${c.id}/history`),
    optional(`/api/v1/cases/${c.id}/nearby`),
  ]);
  const message = el("p", { class: "error", role: "alert" });
  const shut = el("button", { type: "button", class: "small" }, "×");
  shut.addEventListener("click", close);
  const head = el("h4", { "data-case-id": c.id }, `#${c.id} ${c.title ?? ""} `);
  head.append(el("span", { class: `stage s-${c.status}` }, c.stage_label || stageLabel(c.status)), shut);
  const steps = hist.ok ? (hist.data.history ?? hist.data) : [];
  const n = near?.ok ? near.data : {};
  panel.replaceChildren(
    head,
    table([
      ["", `${c.major_label ?? ""} / ${c.category_label ?? ""}${c.overdue ? ` · ${t("overdue")}` : ""}`],
      ["", c.description],
      [t("address"), c.address],
      [t("district"), named(c.district)],
      [t("town"), named(c.town)],
      [t("village"), named(c.village)],
      [t("grid"), named(c.grid)],
      [t("leader"), leader(c.grid)],
      [t("unit"), named(c.unit)],
      [t("reporter"), [c.reporter?.name, c.reporter?.phone].filter(Boolean).join(" ")],
      [t("reported_at"), c.reported_at],
      [t("close_by"), c.close_by],
    ]),
    ...unplaced(c, message),
    el("h4", {}, t("actions")),
    actions(c, message),
    message,
    ...list(t("history"), steps, (h) =>
      `${(h.at ?? h.created_at ?? "").slice(0, 16).replace("T", " ")} ${actionLabel(h.action)} → ${stageLabel(h.to_status ?? h.status ?? "")} ${h.actor ?? ""} ${h.note ?? ""}`, "history"),
    ...list(t("duplicates"), n.duplicates, (d) => `#${d.id} ${d.title} ${Math.round(d.distance_m ?? 0)} m`, "duplicates"),
    ...list(t("nearby"), n.nearby, (d) => `#${d.id} ${d.title} · ${d.stage_label ?? stageLabel(d.status)} · ${Math.round(d.distance_m)} m`, "nearby"),
    ...list(t("stations"), n.stations, (s) => `${s.name} · ${s.kind_label ?? s.kind} · ${Math.round(s.distance_m)} m · ${s.hours ?? ""}`, "stations"),
  );
  return c;
}
