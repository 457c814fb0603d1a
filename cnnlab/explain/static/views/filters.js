// views/filters.js — the Filters tab: the kernels of a conv layer (the first by default; a
// select offers the others), as RGB for 3 input channels, else per channel in the colour map.
// When the run kept the first conv layer at every epoch (/api/filters/history), that layer
// gets an epoch slider and a play button; then each filter keeps one scale over all epochs, so
// the frames show how far it moved. Owns the slider's timer.

import { api, decode } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { drawMap, drawRGB } from "../lib/draw.js";
import { state } from "../lib/state.js";

export const tab = "filters";

let history;                  // the /api/filters/history answer, once asked for
let timer = null;             // the animation's interval, while it plays

export function init() {}

export function show() { return load(); }
export function hide() { stop(); }

function stop() { if (timer) { clearInterval(timer); timer = null; const b = $("filters-play"); if (b) b.textContent = "Play"; } }

async function load(layer) {
  stop();
  const box = $("filters"); box.innerHTML = "";
  let r; try { r = await api("/api/filters" + (layer !== undefined ? `?layer=${layer}` : "")); } catch (e) { box.textContent = e.message; return; }
  if (history === undefined) { try { history = await api("/api/filters/history"); } catch (e) { history = { available: false, note: e.message }; } }
  const sel = $("filters-layer");
  if (!sel.options.length) {
    for (const i of r.conv_layers) sel.append(el("option", { value: i, text: state.model.layers[i].name }));
    sel.addEventListener("change", () => load(+sel.value));
  }
  const a = decode(r.weights), [co, ci, kh, kw] = a.shape;
  const h = history.available && history.layer === r.name ? decode(history.weights) : null;
  const perRun = h && h.shape.slice(1).join() === a.shape.join();
  box.append(el("p", { class: "hint", text: `${r.name}: ${co} filters of ${ci}×${kh}×${kw} (${r.extra}). ` +
    (r.rgb ? "Colour: the three input channels as RGB, each filter normalised to its own range" : "Blue negative, red positive, each filter scaled to its own max |w|") +
    (perRun && !r.rgb ? " over all epochs." : ".") }));
  const grid = el("div", { class: "filter-grid" });
  box.append(grid);
  if (!perRun) { drawGrid(grid, a.data, a.shape, r.rgb, null); return; }
  const n = co * ci * kh * kw, E = h.shape[0];
  const frame = (k) => h.data.subarray(k * n, (k + 1) * n);
  const scales = perFilterMax(h.data, E, co, ci * kh * kw);
  const slider = el("input", { type: "range", id: "filters-epoch", min: 0, max: E - 1, value: E - 1 });
  const label = el("output", { id: "filters-epoch-v" });
  const play = el("button", { id: "filters-play", text: "Play" });
  const showEpoch = (k) => {
    slider.value = k;
    const epoch = history.epochs[k];
    label.textContent = epoch === 0 ? "epoch 0 (initialisation)" : `after epoch ${epoch} of ${history.epochs[E - 1]}`;
    grid.dataset.epoch = epoch;
    drawGrid(grid, frame(k), a.shape, r.rgb, scales);
  };
  slider.addEventListener("input", () => { stop(); showEpoch(+slider.value); });
  play.addEventListener("click", () => {
    if (timer) { stop(); return; }
    play.textContent = "Pause";
    let k = +slider.value >= E - 1 ? -1 : +slider.value;
    timer = setInterval(() => { k += 1; showEpoch(k); if (k >= E - 1) stop(); }, 700);
  });
  box.insertBefore(el("div", { class: "row", id: "filters-epochs" }, el("label", {}, "Epoch ", slider), label, play), grid);
  showEpoch(E - 1);
}

// The largest |w| of each filter over all epochs (E frames of co filters of m numbers).
function perFilterMax(data, E, co, m) {
  const out = new Float32Array(co);
  for (let k = 0; k < E; k++) for (let o = 0; o < co; o++)
    for (let i = 0; i < m; i++) out[o] = Math.max(out[o], Math.abs(data[(k * co + o) * m + i]));
  return out;
}

function drawGrid(grid, data, shape, rgb, scales) {
  const [co, ci, kh, kw] = shape, n = ci * kh * kw;
  grid.innerHTML = "";
  for (let o = 0; o < co; o++) {
    const cell = el("figure", { class: "filter" });
    const chans = rgb ? 1 : Math.min(ci, 8);
    for (let c = 0; c < chans; c++) {
      const cv = el("canvas");
      const sub = data.subarray(o * n, (o + 1) * n);
      if (rgb) drawRGB(cv, sub, kh, kw);
      else { const m = (scales ? scales[o] : Math.max(...sub.map(Math.abs))) || 1; drawMap(cv, sub, c * kh * kw, kh, kw, m, false); }
      cv.style.width = `${Math.max(64, 16 * kw)}px`; cv.style.height = `${Math.max(64, 16 * kh)}px`;
      cell.append(cv);
    }
    cell.append(el("figcaption", { text: `filter ${o}` + (!rgb && ci > 1 ? ` (${Math.min(ci, 8)} of ${ci} channels)` : "") }));
    grid.append(cell);
  }
}
