// Keyboard: j/k move in the queue, Enter opens the selected case, ? shows the shortcuts.

import * as queue from "./queue.js";

export function init() {
  const help = document.getElementById("help");
  document.getElementById("help-open").addEventListener("click", () => {
    help.hidden = !help.hidden;
  });
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName);
    if (typing || e.ctrlKey || e.metaKey || e.altKey) {
      return;
    }
    if (e.key === "j") {
      queue.move(1);
    } else if (e.key === "k") {
      queue.move(-1);
    } else if (e.key === "Enter") {
      queue.openSelected();
    } else if (e.key === "?") {
      help.hidden = !help.hidden;
    } else if (e.key === "Escape") {
      help.hidden = true;
    } else {
      return;
    }
    e.preventDefault();
  });
}
