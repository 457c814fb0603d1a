// views/filters.js — the Filters tab: the kernels of a conv layer (the first by default; a
// select offers the others), as RGB for 3 input channels, else per channel in the colour map.

import { api, decode } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { drawMap, drawRGB } from "../lib/draw.js";
import { state } from "../lib/state.js";

export const tab = "filters";

export function init() {}

export function show() { return load(); }

async function load(layer) {
  const box = $("filters"); box.innerHTML = "";
  let r; try { r = await api("/api/filters" + (layer !== undefined ? `?layer=${layer}` : "")); } catch (e) { box.textContent = e.message; return; }
  const sel = $("filters-layer");
  if (!sel.options.length) {
    for (const i of r.conv_layers) sel.append(el("option", { value: i, text: state.model.layers[i].name }));
    sel.addEventListener("change", () => load(+sel.value));
  }
  const a = decode(r.weights), [co, ci, kh, kw] = a.shape, n = ci * kh * kw;
  box.append(el("p", { class: "hint", text: `${r.name}: ${co} filters of ${ci}×${kh}×${kw} (${r.extra}). ` +
    (r.rgb ? "Colour: the three input channels as RGB, each filter normalised to its own range." : "Blue negative, red positive, each filter scaled to its own max |w|.") }));
  const grid = el("div", { class: "filter-grid" });
  for (let o = 0; o < co; o++) {
    const cell = el("figure", { class: "filter" });
    const chans = r.rgb ? 1 : Math.min(ci, 8);
    for (let c = 0; c < chans; c++) {
      const cv = el("canvas");
      const sub = a.data.subarray(o * n, (o + 1) * n);
      if (r.rgb) drawRGB(cv, sub, kh, kw);
      else { const m = Math.max(...sub.map(Math.abs)) || 1; drawMap(cv, sub, c * kh * kw, kh, kw, m, false); }
      cv.style.width = `${Math.max(64, 16 * kw)}px`; cv.style.height = `${Math.max(64, 16 * kh)}px`;
      cell.append(cv);
    }
    cell.append(el("figcaption", { text: `filter ${o}` + (!r.rgb && ci > 1 ? ` (${Math.min(ci, 8)} of ${ci} channels)` : "") }));
    grid.append(cell);
  }
  box.append(grid);
}
