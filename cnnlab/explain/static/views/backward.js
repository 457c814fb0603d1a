// views/backward.js — the Backward tab (#tab-backward): for the current input, the cross-entropy
// loss against a chosen class (the true label of a test sample by default, else the predicted
// class), every layer's gradient ∂L/∂output drawn like the forward maps (each layer on its own
// scale), and for a clicked conv kernel ∂L/∂W as the sum over positions of input window ×
// output gradient (the terms of one position, the total, autograd's value). One SGD step with
// a chosen learning rate shows w, ∂L/∂w, lr, the new w and the loss before and after; the
// server takes it on a copy of the model. Owns the target select, the kernel panel and the
// step panel; every number comes from /api/backward*.

import { api, decode } from "../lib/api.js";
import { $, el, fmt, status } from "../lib/dom.js";
import { cellAt, colour, drawInput, drawMap } from "../lib/draw.js";
import { on, state } from "../lib/state.js";

export const tab = "backward";

let visible = false, stale = true;
let current = null;          // the /api/backward answer shown
let kernel = null;           // {layer, channel, y, x, inChannel} of the kernel panel, or null
let kernelAnswer = null;     // the /api/backward/kernel answer shown

const num = (v) => (v === null || v === undefined ? "–" : (v === 0 ? "0" : Number(v).toPrecision(3)));

export function init() {
  on("trace", ({ trace }) => { setDefaultTarget(trace); kernel = null; stale = true; if (visible) load(); });
  $("backward-target").addEventListener("change", () => { stale = true; load(); });
  $("backward-step-go").addEventListener("click", step);
}

export function show() { visible = true; if (stale) return load(); }
export function hide() { visible = false; }

// The true label when the input is a test sample with one, else the predicted class.
function setDefaultTarget(t) {
  const sel = $("backward-target");
  sel.innerHTML = "";
  t.classes.forEach((name, k) => {
    const tags = [k === t.label ? "true label" : null, k === t.predicted ? "predicted" : null].filter(Boolean);
    sel.append(el("option", { value: k, text: `${k}: ${name}` + (tags.length ? ` (${tags.join(", ")})` : "") }));
  });
  sel.value = String(t.label !== undefined ? t.label : t.predicted);
}

async function load() {
  const t = state.trace;
  if (!t) return;
  stale = false;
  const target = +$("backward-target").value;
  let b;
  try { b = await api(`/api/backward?input_id=${t.input_id}&target=${target}`); }
  catch (e) { status(e.message, true); return; }
  if (state.trace !== t) return;            // a newer input won the race
  current = b;
  drawInput($("backward-input"), t.input);
  const src = t.sample !== undefined ? `sample ${t.sample} (true label ${t.label_name})` : (t.source || "the current input");
  $("backward-caption").textContent = `${src}; predicted ${t.predicted_name}`;
  const loss = $("backward-loss");
  loss.dataset.value = b.loss;
  loss.textContent = `L = −log p(${b.target_name}) = ${num(b.loss)}`;
  drawGradients(b);
  if (kernel) await showKernel(kernel);
  else { $("backward-kernel").innerHTML = ""; $("backward-step").classList.add("hidden"); }
}

function drawGradients(b) {
  const box = $("backward-maps"); box.innerHTML = "";
  box.append(gradColumn("∂L/∂input", "input", decode(b.input_grad), -1, null));
  b.layers.forEach((L) => box.append(gradColumn(`∂L/∂${L.name}`, L.kind, decode(L.grad), L.index, L)));
}

function gradColumn(title, kind, a, index, L) {
  const scale = Math.max(Math.abs(a.min), Math.abs(a.max)) || 1;
  const col = el("div", { class: "column", "data-layer": index },
    el("div", { class: "col-head" }, el("b", { text: title }), el("span", { class: "kind", text: kind }),
      el("span", { text: a.shape.join("×") }), el("span", { class: "kind", text: `max |g| ${fmt(scale)}` })));
  const conv = L && L.kind === "Conv2d";
  if (a.shape.length === 3) {
    const [c, h, w] = a.shape, cols = c > 12 ? 2 : 1;
    const size = Math.max(22, Math.min(cols > 1 ? 40 : 56, Math.floor(600 / Math.ceil(c / cols)) - 4));
    const maps = el("div", { class: "maps" + (cols > 1 ? " two" : "") });
    for (let k = 0; k < c; k++) {
      const cv = el("canvas", { class: "map" + (conv ? "" : " plain"), "data-layer": index, "data-channel": k,
        title: conv ? `${title} channel ${k}: click for ∂L/∂W of kernel ${k}` : `${title} channel ${k}` });
      drawMap(cv, a.data, k * h * w, h, w, scale, false);
      cv.style.width = `${size}px`; cv.style.height = `${Math.round(size * h / w)}px`;
      if (conv) cv.addEventListener("click", () => showKernel({ layer: index, channel: k, inChannel: 0 }));
      maps.append(cv);
    }
    col.append(maps);
  } else {
    const n = a.data.length, cols = Math.max(1, Math.ceil(n / 48)), rows = Math.ceil(n / cols);
    const cell = Math.max(3, Math.min(14, Math.floor(520 / rows)));
    const cv = el("canvas", { class: "map vector plain", "data-layer": index, title: `${title}: ${n} values` });
    cv.width = cols; cv.height = rows;
    const ctx = cv.getContext("2d");
    for (let j = 0; j < n; j++) { ctx.fillStyle = `rgb(${colour(a.data[j] / scale)})`; ctx.fillRect(j % cols, Math.floor(j / cols), 1, 1); }
    cv.style.width = `${cols * cell}px`; cv.style.height = `${rows * cell}px`;
    col.append(el("div", { class: "maps" }, cv));
  }
  return col;
}

// A kh×kw table of numbers; each cell keeps its full value in data-value.
function grid(values, caption, id) {
  const t = el("table", { class: "grid bw-grid", ...(id ? { id } : {}) });
  const m = Math.max(...values.flat().map(Math.abs)) || 1;
  values.forEach((row) => {
    const tr = el("tr");
    row.forEach((v) => {
      const td = el("td", { text: num(v), "data-value": v });
      td.style.background = `rgba(${colour(v / m)},0.75)`;
      tr.append(td);
    });
    t.append(tr);
  });
  return el("figure", { class: "bw-fig" }, el("figcaption", { text: caption }), t);
}

async function showKernel(k) {
  const t = state.trace, target = +$("backward-target").value;
  const pos = k.y !== undefined ? `&y=${k.y}&x=${k.x}` : "";
  let d;
  try { d = await api(`/api/backward/kernel?input_id=${t.input_id}&target=${target}&layer=${k.layer}&channel=${k.channel}${pos}`); }
  catch (e) { status(e.message, true); return; }
  if (state.trace !== t) return;
  kernel = { ...k, y: d.y, x: d.x };
  kernelAnswer = d;
  document.querySelectorAll("#backward-maps canvas.map.selected").forEach((m) => m.classList.remove("selected"));
  const m = document.querySelector(`#backward-maps canvas.map[data-layer="${k.layer}"][data-channel="${k.channel}"]`);
  if (m) m.classList.add("selected");
  const box = $("backward-kernel"), first = !box.hasChildNodes(); box.innerHTML = "";
  if (first) setTimeout(() => box.scrollIntoView({ behavior: "smooth", block: "nearest" }), 0);
  const ci = Math.min(k.inChannel || 0, d.input_channels.length - 1);
  box.append(el("h3", { text: `∂L/∂W of ${d.name} kernel ${d.channel}` +
    (d.input_channels.length > 1 ? `, input channel ${d.input_channels[ci]}` : "") }));
  box.append(el("p", { class: "hint", text: `The kernel slid over ${d.positions} positions; at each one its output got a gradient G. ` +
    "The weight's gradient adds up, over all positions, the input window the kernel saw there times G. Click the map of G to choose the position shown." }));
  const row = el("div", { class: "row bw-row" });
  // the output gradient of this channel, enlarged, with the chosen position marked
  const [h, w] = [d.out_grad.length, d.out_grad[0].length];
  const flat = Float32Array.from(d.out_grad.flat()), gmax = Math.max(...flat.map(Math.abs)) || 1;
  const cv = el("canvas", { class: "map big", id: "backward-g" });
  drawMap(cv, flat, 0, h, w, gmax, false);
  const size = Math.min(200, Math.max(120, 8 * w));
  cv.style.width = `${size}px`; cv.style.height = `${Math.round(size * h / w)}px`;
  cv.addEventListener("click", (e) => { const [y, x] = cellAt(e, cv, h, w); showKernel({ ...kernel, y, x }); });
  const mark = el("div", { class: "win" });     // the chosen position
  Object.assign(mark.style, { left: `${100 * d.x / w}%`, top: `${100 * d.y / h}%`, width: `${100 / w}%`, height: `${100 / h}%` });
  row.append(el("figure", { class: "bw-fig" }, el("figcaption", { text: `G = ∂L/∂${d.name}[${d.channel}] (${h}×${w}), position (y=${d.y}, x=${d.x}) marked` }),
    el("div", { class: "bigmap-box" }, cv, mark)));
  if (d.input_channels.length > 1) {
    const sel = el("select", { id: "backward-inchannel" });
    d.input_channels.forEach((c, j) => sel.append(el("option", { value: j, text: `input channel ${c}` })));
    sel.value = String(ci);
    sel.addEventListener("change", () => showKernel({ ...kernel, inChannel: +sel.value }));
    row.append(el("label", {}, "Show ", sel));
  }
  box.append(row);
  const terms = el("div", { class: "row bw-row" });
  terms.append(grid(d.window[ci], `input window at (y=${d.y}, x=${d.x})`, "backward-window"));
  terms.append(el("span", { class: "op", text: "×" }));
  terms.append(el("figure", { class: "bw-fig" }, el("figcaption", { text: "G at that position" }),
    el("b", { id: "backward-gval", "data-value": d.g, text: num(d.g) })));
  terms.append(el("span", { class: "op", text: "=" }));
  terms.append(grid(d.term[ci], "this position's term", "backward-term"));
  terms.append(el("span", { class: "op", text: `Σ over all ${d.positions} →` }));
  terms.append(grid(d.total[ci], "∂L/∂W, the sum", "backward-total"));
  terms.append(grid(d.autograd[ci], "∂L/∂W, autograd", "backward-autograd"));
  box.append(terms);
  box.append(el("p", { class: "result-line" },
    el("span", { text: `bias: ∂L/∂b = Σ G = ${num(d.bias_total)} · autograd ${num(d.bias_autograd)} · ` }),
    el("span", { class: d.match ? "ok" : "bad", text: d.match ? `✓ the sum equals autograd (largest difference ${fmt(d.max_abs_difference)})` : "✗ differ" })));
  $("backward-step").classList.remove("hidden");
  $("backward-step-title").textContent = `One SGD step: w ← w − lr · ∂L/∂w, shown for ${d.name} kernel ${d.channel}` +
    (d.input_channels.length > 1 ? `, input channel ${d.input_channels[ci]}` : "");
  $("backward-step-out").innerHTML = "";
}

async function step() {
  if (!kernel) return;
  const t = state.trace, target = +$("backward-target").value, lr = $("backward-lr").value.trim();
  const out = $("backward-step-out"); out.innerHTML = "";
  let s;
  try { s = await api(`/api/backward/step?input_id=${t.input_id}&target=${target}&layer=${kernel.layer}&channel=${kernel.channel}&lr=${encodeURIComponent(lr)}`); }
  catch (e) { out.append(el("p", { class: "error", id: "backward-step-error", text: e.message })); return; }
  if (state.trace !== t) return;
  const ci = Math.min(kernel.inChannel || 0, s.w.length - 1);
  const row = el("div", { class: "row bw-row" });
  row.append(grid(s.w[ci], "w", "backward-w"), el("span", { class: "op", text: "−" }),
    el("figure", { class: "bw-fig" }, el("figcaption", { text: "lr" }), el("b", { id: "backward-lr-shown", "data-value": s.lr, text: num(s.lr) })),
    el("span", { class: "op", text: "×" }), grid(s.grad[ci], "∂L/∂w", "backward-grad"),
    el("span", { class: "op", text: "=" }), grid(s.new_w[ci], "new w", "backward-new-w"));
  out.append(row);
  const better = s.loss_after < s.loss_before;
  out.append(el("p", { class: "result-line" },
    el("span", { text: "loss before " }), el("b", { id: "backward-loss-before", "data-value": s.loss_before, text: num(s.loss_before) }),
    el("span", { text: " → after " }), el("b", { id: "backward-loss-after", "data-value": s.loss_after, text: num(s.loss_after) }),
    el("span", { class: better ? "ok" : "bad", text: better ? " (lower)" : " (not lower: the step overshot; try a smaller lr)" })));
  out.append(el("p", { class: "hint", text: `Every parameter of the model (${s.parameters_stepped.toLocaleString()} numbers) took the step, ` +
    "on a copy: the model this page explains is unchanged." }));
}
