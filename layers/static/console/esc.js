// The one escape helper: every piece of text from the database goes through esc() before
// it reaches innerHTML (or through el() which sets textContent).

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value) {
  if (value === null || value === undefined) {
    return "";
  }
  return String(value).replace(/[&<>"']/g, (ch) => ENTITIES[ch]);
}

// An element with text content (never parsed as HTML) and attributes.
export function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) {
      node.setAttribute(k, String(v));
    }
  }
  node.textContent = text === null || text === undefined ? "" : String(text);
  return node;
}
