// A CSV of points in, the same CSV with owner columns out (POST /api/v1/locate, text/csv),
// with the upload's and the answer's progress; a refused file shows which rows and why.

import * as api from "./api.js";
import { el } from "./esc.js";
import * as i18n from "./i18n.js";

let box = null;

function status(text) {
  box.querySelector("[data-upload-status]").textContent = text;
}

function bar(fraction) {
  const progress = box.querySelector("progress");
  progress.hidden = fraction === null;
  if (fraction === null) {
    return;
  }
  if (fraction < 0) {
    progress.removeAttribute("value"); // indeterminate: the answer's length is not known
  } else {
    progress.value = fraction;
  }
}

function megabytes(n) {
  return (n / 1e6).toFixed(1);
}

// The refusal's rows, as a person can fix them (the problem body of a 422, RFC 9457).
function refused(problem) {
  const list = box.querySelector("[data-upload-errors]");
  list.replaceChildren(
    ...(problem?.errors ?? []).slice(0, 20).map((e) =>
      el("li", {}, i18n.t("upload_row", { row: e.row, column: e.column, reason: e.reason })),
    ),
  );
  status(problem?.detail ?? i18n.t("upload_failed"));
}

function offer(blob, name, rows) {
  const link = box.querySelector("[data-upload-result]");
  if (link.href) {
    URL.revokeObjectURL(link.href);
  }
  link.href = URL.createObjectURL(blob);
  link.download = name.replace(/\.csv$/i, "") + ".located.csv";
  link.hidden = false;
  status(i18n.t("upload_done", { n: Number(rows).toLocaleString() }));
}

// XMLHttpRequest, not fetch: only it reports an upload's progress.
function send(file) {
  const crs = box.querySelector("select").value;
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/api/v1/locate?crs=${encodeURIComponent(crs)}`);
  xhr.withCredentials = true;
  xhr.setRequestHeader("Content-Type", "text/csv");
  const token = api.bearerToken();
  if (token) {
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
  }
  xhr.responseType = "blob";
  xhr.upload.onprogress = (e) => {
    bar(e.lengthComputable ? e.loaded / e.total : -1);
    status(i18n.t("upload_sending", { mb: megabytes(e.loaded) }));
  };
  xhr.onprogress = (e) => {
    bar(-1);
    status(i18n.t("upload_receiving", { mb: megabytes(e.loaded) }));
  };
  xhr.onerror = () => {
    bar(null);
    status(i18n.t("upload_failed"));
  };
  xhr.onload = async () => {
    bar(null);
    box.dataset.status = String(xhr.status);
    if (xhr.status === 200) {
      offer(xhr.response, file.name, xhr.getResponseHeader("X-OneMap-Rows") ?? "");
      return;
    }
    let problem = null;
    try {
      problem = JSON.parse(await xhr.response.text());
    } catch {
      problem = null;
    }
    refused(problem);
  };
  box.querySelector("[data-upload-errors]").replaceChildren();
  box.querySelector("[data-upload-result]").hidden = true;
  bar(0);
  xhr.send(file);
}

export function init() {
  box = document.getElementById("upload-box");
  if (!box) {
    return;
  }
  const input = box.querySelector("input[type=file]");
  box.querySelector("form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.files.length) {
      send(input.files[0]);
    }
  });
}
