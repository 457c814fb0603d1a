// lib/dom.js — owns the small DOM helpers every view uses ($, el, svg, svgText), the number
// format of the page (fmt) and the page's status line. No state, no requests.

export const $ = (id) => document.getElementById(id);

// el("div", {class: "x", text: "…", onclick: f, "data-k": 1}, ...children)
export const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};

const SVGNS = "http://www.w3.org/2000/svg";
export const svg = (tag, attrs = {}) => {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
export const svgText = (parent, attrs, text) => { const t = svg("text", attrs); t.textContent = text; parent.append(t); return t; };

export function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (digits) return Number(v).toFixed(digits);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toExponential(0);
}

// The line at the bottom of the page: an error from the server, or nothing.
export function status(msg, isError = false) {
  const s = $("status");
  s.textContent = msg || ""; s.className = isError ? "error" : "";
}
