// The console's entry: sign-in, the filter form, queue, panel, map, live updates, search
// and keyboard wired together.

import * as analysis from "./analysis.js";
import * as api from "./api.js";
import { el } from "./esc.js";
import * as filter from "./filter.js";
import * as i18n from "./i18n.js";
import * as keyboard from "./keyboard.js";
import * as live from "./live.js";
import * as mapview from "./mapview.js";
import * as owner from "./owner.js";
import * as panel from "./panel.js";
import * as queue from "./queue.js";
import * as search from "./search.js";
import * as upload from "./upload.js";

const form = document.getElementById("filters");
const notice = document.getElementById("live-notice");

function fillStages() {
  const select = form.elements.status;
  select.replaceChildren(select.options[0]);
  for (const code of i18n.stageCodes()) {
    select.append(el("option", { value: code }, i18n.stageLabel(code)));
  }
}

async function fillCategories() {
  const res = await api.getJson("/api/v1/cases/categories");
  const select = form.elements.category;
  for (const c of res.ok ? (res.data.categories ?? res.data) : []) {
    select.append(el("option", { value: c.code }, `${c.major_label ?? ""} / ${c.label ?? c.name ?? c.code}`));
  }
}

function formToFilter() {
  const values = Object.fromEntries(new FormData(form).entries());
  filter.set(values);
}

function filterToForm() {
  const f = filter.get();
  for (const node of form.elements) {
    if (!node.name) {
      continue;
    }
    if (node.type === "checkbox") {
      node.checked = Boolean(f[node.name]);
    } else {
      node.value = f[node.name] ?? (node.name === "sort" ? "close_by" : "");
    }
  }
}

function showWho() {
  const me = api.whoami();
  const signed = api.signedIn();
  document.getElementById("who").textContent = signed
    ? i18n.t("signed_in_as", { name: me.name ?? "", role: me.role })
    : i18n.t("public");
  document.getElementById("queue-box").hidden = !signed;
  document.getElementById("sign-out").hidden = !signed;
  document.body.dataset.role = me.role;
}

function say(text) {
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { notice.hidden = true; }, 8000);
}

// A live event: only the changed case is fetched, then its row and marker follow it.
async function onCase(event) {
  say(i18n.t(event.event === "created" ? "live_new" : "live_changed", { id: event.id }));
  document.body.dataset.lastEvent = `${event.event}:${event.id}:${event.version}`;
  const res = await api.getJson(`/api/v1/cases/${event.id}`);
  if (!res.ok) {
    return;
  }
  caseChanged(res.data);
  if (panel.currentId() === event.id) {
    panel.open(event.id);
  }
}

function caseChanged(c) {
  const inView = filter.get().in_view ? mapview.wgsBounds() : null;
  mapview.showCase(c, filter.matches(c));
  queue.upsert(c, inView);
}

function resync() {
  say(i18n.t("resynced"));
  queue.reload();
  mapview.refreshCases();
}

// `opening`: the map has just asked for the view's cases with the session it found.
async function afterSignIn(opening = false) {
  showWho();
  if (!opening) {
    mapview.reloadAll();
  }
  if (api.signedIn()) {
    await queue.reload();
    live.start(onCase, resync, () => say(i18n.t("session_ended")));
  } else {
    live.stop();
    panel.close();
  }
}

async function start() {
  i18n.setLang(i18n.getLang());
  document.getElementById("lang").textContent = i18n.getLang() === "en" ? "中文" : "EN";
  const [lifecycle, config] = await Promise.all([
    api.optional("/api/v1/cases/lifecycle"),
    api.optional("/api/v1/config"),
    api.loadSession(),
  ]);
  if (config?.ok && config.data.lang && !new URLSearchParams(location.search).get("lang")) {
    i18n.setLang(config.data.lang);
  }
  if (lifecycle?.ok) {
    i18n.setLifecycle(lifecycle.data);
  }
  filter.setOpenStages(config?.ok ? config.data.open_stages : null);
  fillStages();
  filter.fromUrl();
  filterToForm();
  mapview.init((id) => panel.open(id), config?.ok ? config.data : null);
  queue.init({ onOpen: (id) => panel.open(id), viewBbox: () => filter.bboxOf(mapview.wgsBounds()) });
  panel.init({ onChanged: caseChanged });
  search.init(mapview.map, (id) => panel.open(id));
  keyboard.init();
  upload.init();
  mapview.map.on("click", (e) => owner.show(mapview.map, e.latlng, analysis.describe));
  mapview.map.on("moveend", () => { if (filter.get().in_view && api.signedIn()) { queue.reload(); } });
  form.addEventListener("change", () => {
    formToFilter();
    queue.reload();
    mapview.refreshCases();
  });
  form.addEventListener("submit", (e) => e.preventDefault());
  document.getElementById("prev").addEventListener("click", () => queue.page(-1));
  document.getElementById("next").addEventListener("click", () => queue.page(1));
  document.getElementById("sign-in").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("sign-in-token");
    const me = await api.signIn(input.value.trim());
    input.value = "";
    if (!me) {
      say(i18n.t("bad_token"));
    }
    await afterSignIn();
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    await api.signOut();
    await afterSignIn();
  });
  document.getElementById("lang").addEventListener("click", () => {
    const p = new URLSearchParams(location.search);
    p.set("lang", i18n.getLang() === "en" ? "zh" : "en");
    location.search = p.toString();
  });
  if (api.signedIn()) {
    fillCategories();
  }
  await afterSignIn(true);
  document.body.dataset.ready = "true";
}

start();
