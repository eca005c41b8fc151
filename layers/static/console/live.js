// Live updates from GET /api/v1/cases/stream: EventSource with the session cookie (or, with
// a token kept in memory, the same stream read through fetch); after a reconnect the caller
// resynchronises.

import { bearerToken, fetchRaw } from "./api.js";

const RETRY_MS = 3000;
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
    setTimeout(() => readStream(onCase, onResync, onEnd, false), RETRY_MS);
  }
}

export function stop() {
  source?.close();
  source = null;
  const r = reader;
  reader = null;
  r?.abort();
}

function state(value) {
  document.body.dataset.live = value;
}

// An EventSource on the session cookie. The browser reconnects by itself after a drop; when it
// gives up (the server answered an error while restarting), a new one is opened shortly. Every
// reconnection resynchronises, as events may have been missed meanwhile.
function openSource(onCase, onResync, onEnd, first) {
  const s = new EventSource("/api/v1/cases/stream");
  source = s;
  let opened = !first;
  s.addEventListener("case", (e) => onCase(JSON.parse(e.data)));
  s.addEventListener("end", () => {
    stop();
    state("ended");
    onEnd();
  });
  s.addEventListener("open", () => {
    state("open");
    if (opened) {
      onResync();
    }
    opened = true;
  });
  s.addEventListener("error", () => {
    state("down");
    if (s.readyState === EventSource.CLOSED && source === s) {
      setTimeout(() => {
        if (source === s) {
          openSource(onCase, onResync, onEnd, false);
        }
      }, RETRY_MS);
    }
  });
}

// onEnd: the server ended the stream because the token was revoked or expired.
export function start(onCase, onResync, onEnd) {
  stop();
  if (bearerToken()) {
    readStream(onCase, onResync, onEnd, true);
    return;
  }
  openSource(onCase, onResync, onEnd, true);
}
