// The queue beside the map: a page of cases for the filter, overdue and nearly-due rows
// marked, j/k selection, the CSV export of exactly this view.

import { getJson } from "./api.js";
import { el } from "./esc.js";
import * as filter from "./filter.js";
import { stageLabel, t } from "./i18n.js";

const SOON_MS = 24 * 3600 * 1000; // "nearly due": less than a day to the deadline
const list = () => document.getElementById("case-queue");
let cases = [];
let total = 0;
let selected = -1;
let onOpen = () => {};
let viewBbox = () => null;

export function init(options) {
  onOpen = options.onOpen;
  viewBbox = options.viewBbox;
}

function row(c) {
  const li = el("li", { "data-testid": "case-row", "data-case-id": c.id, tabindex: "-1" });
  const due = c.close_by ? Date.parse(c.close_by) - Date.now() : Infinity;
  if (c.overdue) {
    li.classList.add("overdue");
  } else if (due < SOON_MS && c.status !== "closed" && c.status !== "evaluated") {
    li.classList.add("due-soon");
  }
  li.append(el("strong", {}, `#${c.id} `), el("span", { class: "title" }, c.title), " ");
  li.append(el("span", { class: `stage s-${c.status}` }, c.stage_label || stageLabel(c.status)));
  const deadline = c.close_by ? `${t("close_by")} ${c.close_by.slice(0, 16).replace("T", " ")}` : "";
  const meta = [c.grid?.code, c.category_label, deadline, c.overdue ? t("overdue") : ""];
  li.append(el("div", { class: "meta" }, meta.filter(Boolean).join(" · ")));
  li.addEventListener("click", () => {
    select(cases.findIndex((x) => x.id === c.id));
    onOpen(c.id);
  });
  return li;
}

function render() {
  list().replaceChildren(...cases.map(row));
  showTotal();
  if (selected >= 0) {
    list().children[selected]?.classList.add("selected");
  }
}

export async function reload() {
  const f = filter.get();
  const bbox = f.in_view ? viewBbox() : null;
  const res = await getJson(`/api/v1/cases?${filter.query({ bbox })}`);
  if (!res.ok) {
    cases = [];
    list().replaceChildren(el("li", { class: "error" }, res.data?.detail ?? res.status));
    return;
  }
  cases = res.data.cases;
  total = res.data.total;
  selected = Math.min(selected, cases.length - 1);
  document.getElementById("export").href = `/api/v1/cases?${filter.query({ bbox, format: "csv" })}`;
  render();
}

function showTotal() {
  const offset = Number(filter.get().offset) || 0;
  document.getElementById("total").textContent =
    `${t("total", { n: total })} · ${offset + 1}–${offset + cases.length}`;
  document.getElementById("prev").disabled = offset === 0;
  document.getElementById("next").disabled = offset + cases.length >= total;
}

// A live case: its row refreshed, placed by the sort, added or dropped as it now passes the
// filter or not (`bounds`: the view when only in view), without asking for the whole page.
export function upsert(c, bounds = null) {
  const was = cases.findIndex((x) => x.id === c.id);
  const keep = filter.matches(c, bounds);
  const chosen = cases[selected]?.id;
  if (was >= 0) {
    cases.splice(was, 1);
    list().children[was]?.remove();
    if (!keep) {
      total -= 1;
    }
  } else if (keep) {
    total += 1;
  }
  if (keep) {
    let at = cases.findIndex((x) => filter.compare(c, x) < 0);
    at = at < 0 ? cases.length : at;
    const offset = Number(filter.get().offset) || 0;
    const onPage = (at > 0 || offset === 0) && (at < filter.PAGE || was >= 0);
    if (onPage) {
      cases.splice(at, 0, c);
      const fresh = row(c);
      fresh.classList.add("fresh");
      list().insertBefore(fresh, list().children[at] ?? null);
      if (cases.length > filter.PAGE) {
        cases.pop();
        list().lastElementChild?.remove();
      }
    }
  }
  selected = chosen === undefined ? -1 : cases.findIndex((x) => x.id === chosen);
  [...list().children].forEach((li, k) => li.classList.toggle("selected", k === selected));
  showTotal();
  return keep;
}

export function select(i) {
  if (!cases.length) {
    return;
  }
  selected = Math.max(0, Math.min(cases.length - 1, i));
  [...list().children].forEach((li, k) => li.classList.toggle("selected", k === selected));
  list().children[selected]?.scrollIntoView({ block: "nearest" });
}

export function move(delta) {
  select(selected + delta);
}

export function openSelected() {
  if (selected >= 0 && cases[selected]) {
    onOpen(cases[selected].id);
  }
}

export function page(delta) {
  const f = filter.get();
  const offset = Math.max(0, (Number(f.offset) || 0) + delta * filter.PAGE);
  filter.set({ ...f, offset: offset || "" });
  selected = -1;
  return reload();
}
