// Live updates from GET /api/v1/cases/stream: EventSource with the session cookie (or, with
// a token kept in memory, the same stream read through fetch); after a reconnect the caller
// resynchronises.

import { bearerToken, fetchRaw } from "./api.js";

let source = null;
let reader = null;

function parse(block, onCase) {
  let event = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) {
      event = line.slice(6).trim();
    } else if (line.startsWith("data:")) {
      data += line.slice(5).trim();
    }
  }
  if (event === "case" && data) {
    onCase(JSON.parse(data));
  }
}

async function readStream(onCase, onResync, first) {
  const controller = new AbortController();
  reader = controller;
  try {
    const r = await fetchRaw("/api/v1/cases/stream", { signal: controller.signal, headers: { Accept: "text/event-stream" } });
    if (!r.ok) {
      return;
    }
    if (!first) {
      onResync();
    }
    const text = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await text.read();
      if (done) {
        break;
      }
      buffer += value.replace(/\r/g, "");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        parse(buffer.slice(0, cut), onCase);
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch {
    // dropped: reconnect below, unless stopped
  }
  if (reader === controller) {
    setTimeout(() => readStream(onCase, onResync, false), 3000);
  }
}

export function stop() {
  source?.close();
  source = null;
  const r = reader;
  reader = null;
  r?.abort();
}

export function start(onCase, onResync) {
  stop();
  if (bearerToken()) {
    readStream(onCase, onResync, true);
    return;
  }
  let opened = false;
  source = new EventSource("/api/v1/cases/stream");
  source.addEventListener("case", (e) => onCase(JSON.parse(e.data)));
  source.addEventListener("open", () => {
    if (opened) {
      onResync();
    }
    opened = true;
  });
}
