// views/overview.js — the overview: one column per layer (the input, every layer's feature maps
// or vector, the output probabilities), the colour-scale bar, and on hover the lines from the
// maps that feed the hovered one. A click on a map selects that position (select() in state.js;
// the detail view shows it); "how softmax got these" asks for the softmax view.

import { $, el, fmt, svg } from "../lib/dom.js";
import { bars, cellAt, colour, drawInput, drawMap } from "../lib/draw.js";
import { layerScale, notify, on, select, setScale, state } from "../lib/state.js";

export function init() {
  $("scale-range").addEventListener("input", () => setScale({ scaleMax: sliderScale(state.autoMax) }));
  $("scale-per-layer").addEventListener("change", (e) => setScale({ perLayer: e.target.checked, scaleMax: sliderScale(state.autoMax) }));
  on("scale", () => { showScale(); if (state.trace) render(); });
  on("trace", autoScale);
}

// The shared scale starts at the median of the feature-map layers' largest |value|, so early
// layers are not washed out by one layer with large values; the slider moves it ×0.02…×50.
function autoScale() {
  const m = [];
  state.trace.decoded.forEach((a, i) => { if (state.trace.layers[i].shape.length === 3) m.push(Math.max(Math.abs(a.min), Math.abs(a.max))); });
  m.sort((p, q) => p - q);
  const autoMax = (m.length ? m[Math.floor((m.length - 1) / 2)] : 0) || 1;
  setScale({ autoMax, scaleMax: sliderScale(autoMax) });     // redraws the overview
}
function sliderScale(autoMax) {           // slider 0..100 → 0.02..50 × the automatic scale (log)
  const t = +$("scale-range").value / 100;
  return autoMax * Math.pow(10, (t - 0.5) * 2 * 1.7);
}
function showScale() {
  $("scale-value").textContent = state.perLayer ? "(each layer: its own max)" : fmt(state.scaleMax);
  const cb = $("colorbar"), ctx = cb.getContext("2d");
  for (let x = 0; x < cb.width; x++) { const c = colour(2 * x / (cb.width - 1) - 1); ctx.fillStyle = `rgb(${c})`; ctx.fillRect(x, 0, 1, cb.height); }
}

function vectorLayout(n) {               // a 1-D layer as a block of cells, at most 48 rows
  const cols = Math.max(1, Math.ceil(n / 48)), rows = Math.ceil(n / cols);
  const cell = Math.max(3, Math.min(14, Math.floor(520 / rows)));
  return { cols, rows, cell };
}

function render() {
  const ov = $("overview"); ov.innerHTML = "";
  const t = state.trace;
  const inCol = el("div", { class: "column", "data-layer": "input" },
    el("div", { class: "col-head" }, el("b", { text: "input" }), el("span", { text: t.input.shape.join("×") })));
  const ic = el("canvas", { class: "map input-map" }); drawInput(ic, t.input);
  const [, ih, iw] = t.input.shape, isz = Math.min(84, Math.max(56, 3 * ih));
  ic.style.width = `${isz}px`; ic.style.height = `${Math.round(isz * ih / iw)}px`;
  inCol.append(ic); ov.append(inCol);
  t.layers.forEach((L, i) => ov.append(layerColumn(L, i)));
  ov.append(probabilityColumn());
}

function layerColumn(L, i) {
  const a = state.trace.decoded[i], scale = layerScale(i);
  const col = el("div", { class: "column", "data-layer": i },
    el("div", { class: "col-head", title: L.extra }, el("b", { text: L.name }), el("span", { class: "kind", text: L.kind }),
      el("span", { text: L.shape.join("×") })));
  if (L.shape.length === 3) {
    // Many channels go in two columns so each map stays large enough to see.
    const [c, h, w] = L.shape, cols = c > 12 ? 2 : 1;
    const size = Math.max(22, Math.min(cols > 1 ? 40 : 56, Math.floor(600 / Math.ceil(c / cols)) - 4));
    const maps = el("div", { class: "maps" + (cols > 1 ? " two" : "") });
    for (let k = 0; k < c; k++) {
      const cv = el("canvas", { class: "map", "data-layer": i, "data-channel": k, title: `${L.name} channel ${k}` });
      drawMap(cv, a.data, k * h * w, h, w, scale, false);
      cv.style.width = `${size}px`; cv.style.height = `${Math.round(size * h / w)}px`;
      cv.addEventListener("mouseenter", () => showConnections(i, k));
      cv.addEventListener("mouseleave", clearConnections);
      cv.addEventListener("click", (e) => { const [y, x] = cellAt(e, cv, h, w); select({ layer: i, channel: k, y, x }); });
      maps.append(cv);
    }
    col.append(maps);
  } else {
    const n = a.data.length, { cols, rows, cell } = vectorLayout(n);
    const cv = el("canvas", { class: "map vector", "data-layer": i, "data-channel": 0, title: `${L.name}: ${n} values` });
    cv.width = cols; cv.height = rows;
    const ctx = cv.getContext("2d");
    for (let j = 0; j < n; j++) { ctx.fillStyle = `rgb(${colour(a.data[j] / scale)})`; ctx.fillRect(j % cols, Math.floor(j / cols), 1, 1); }
    cv.style.width = `${cols * cell}px`; cv.style.height = `${rows * cell}px`;
    cv.addEventListener("mouseenter", () => showConnections(i, 0));
    cv.addEventListener("mouseleave", clearConnections);
    cv.addEventListener("click", (e) => { const [y, x] = cellAt(e, cv, rows, cols); select({ layer: i, channel: Math.min(n - 1, y * cols + x), y: 0, x: 0 }); });
    col.append(el("div", { class: "maps" }, cv));
  }
  return col;
}

function probabilityColumn() {
  const t = state.trace;
  const col = el("div", { class: "column probs", "data-layer": "output" },
    el("div", { class: "col-head" }, el("b", { text: "output" }), el("span", { class: "kind", text: "softmax" }),
      el("span", { text: `${t.probabilities.length} classes` })));
  col.append(bars(t.probabilities, t.classes, t.label));
  col.append(el("button", { class: "link", text: "how softmax got these →", onclick: () => notify("softmax") }));
  return col;
}

// Connections: which maps of the previous column feed the hovered one.
function sources(i, k) {
  const L = state.trace.layers[i], prevShape = i === 0 ? state.trace.input.shape : state.trace.layers[i - 1].shape;
  const prevN = prevShape.length === 3 ? prevShape[0] : 1;
  if (L.kind === "Conv2d") {
    const groups = (/groups=(\d+)/.exec(L.extra) || [0, 1])[1] * 1, per = prevN / groups, g = Math.floor(k / (L.shape[0] / groups));
    return Array.from({ length: per }, (_, j) => g * per + j);
  }
  if (L.shape.length === 3 && prevShape.length === 3 && L.shape[0] === prevN) return [k];
  return Array.from({ length: prevN }, (_, j) => j);
}

function showConnections(i, k) {
  clearConnections();
  const wrap = $("overview-wrap"), g = $("connections"), base = wrap.getBoundingClientRect();
  g.setAttribute("width", wrap.scrollWidth); g.setAttribute("height", wrap.scrollHeight);
  const target = document.querySelector(`canvas.map[data-layer="${i}"][data-channel="${k}"]`);
  const prevSel = i === 0 ? "canvas.input-map" : `canvas.map[data-layer="${i - 1}"]`;
  const prev = Array.from(document.querySelectorAll(prevSel));
  const tr = target.getBoundingClientRect();
  target.classList.add("hover");
  for (const j of sources(i, k)) {
    const s = prev[Math.min(j, prev.length - 1)]; if (!s) continue;
    s.classList.add("source");
    const sr = s.getBoundingClientRect();
    g.append(svg("line", { x1: sr.right - base.left + wrap.scrollLeft, y1: sr.top + sr.height / 2 - base.top,
      x2: tr.left - base.left + wrap.scrollLeft, y2: tr.top + tr.height / 2 - base.top, class: "conn" }));
  }
}

function clearConnections() {
  $("connections").innerHTML = "";
  document.querySelectorAll(".map.source, .map.hover").forEach((m) => m.classList.remove("source", "hover"));
}
