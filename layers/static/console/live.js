// Live updates from GET /api/v1/cases/stream: EventSource with the session cookie (or, with
// a token kept in memory, the same stream read through fetch); after a reconnect the caller
// resynchronises.

import { bearerToken, fetchRaw } from "./api.js";

let source = null;
let reader = null;

function parse(block, onCase, onEnd) {
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
  } else if (event === "end") {
    stop();
    onEnd();
  }
}

async function readStream(onCase, onResync, onEnd, first) {
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
        parse(buffer.slice(0, cut), onCase, onEnd);
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch {
    // dropped: reconnect below, unless stopped
  }
  if (reader === controller) {
    setTimeout(() => readStream(onCase, onResync, onEnd, false), 3000);
  }
}

export function stop() {
  source?.close();
  source = null;
  const r = reader;
  reader = null;
  r?.abort();
}

// onEnd: the server ended the stream because the token was revoked or expired.
export function start(onCase, onResync, onEnd) {
  stop();
  if (bearerToken()) {
    readStream(onCase, onResync, onEnd, true);
    return;
  }
  let opened = false;
  source = new EventSource("/api/v1/cases/stream");
  source.addEventListener("case", (e) => onCase(JSON.parse(e.data)));
  source.addEventListener("end", () => {
    stop();
    onEnd();
  });
  source.addEventListener("open", () => {
    if (opened) {
      onResync();
    }
    opened = true;
  });
}
