// views/detail.js — the detail panel (#detail) for a selected position: how the layer computed
// that one value (convolution windows × kernel, the pooling window, the elementwise function,
// the linear layer's largest terms, flatten's index), recomputed by the server, next to the
// model's own activation. Shows whatever select() in state.js names, again for every new
// trace; an answer that arrives after a newer selection or input is dropped. Owns the "slide the
// window" animation. The softmax view draws into the same panel.

import { api, decode } from "../lib/api.js";
import { $, el, fmt, status } from "../lib/dom.js";
import { cellAt, colour, drawMap } from "../lib/draw.js";
import { layerScale, on, select, state } from "../lib/state.js";

let anim = null;                        // the animation's interval, while it runs

export function init() {
  on("select", (sel) => sel && showDetail(sel));
  on("trace", () => state.selected && showDetail(state.selected));
}

async function showDetail(sel) {
  const { layer, channel, y, x } = sel, trace = state.trace;
  document.querySelectorAll(".map.selected").forEach((m) => m.classList.remove("selected"));
  const m = document.querySelector(`canvas.map[data-layer="${layer}"][data-channel="${trace.layers[layer].shape.length === 3 ? channel : 0}"]`);
  if (m) m.classList.add("selected");
  let d;
  try { d = await api(`/api/detail?input_id=${trace.input_id}&layer=${layer}&channel=${channel}&y=${y}&x=${x}`); }
  catch (e) { status(e.message, true); return; }
  if (state.selected !== sel || state.trace !== trace) return;   // a later click or input won the race
  const box = $("detail"), first = box.classList.contains("hidden");
  box.classList.remove("hidden"); box.innerHTML = "";
  box.dataset.kind = d.kind;
  if (first) setTimeout(() => box.scrollIntoView({ behavior: "smooth", block: "nearest" }), 0);
  const L = state.trace.layers[layer];
  const where = L.shape.length === 3 ? `channel ${channel}, position (y=${y}, x=${x})` : `unit ${channel}`;
  box.append(el("h2", { text: `${L.name} (${L.kind}) · ${where}` }));
  const render = { conv: convDetail, pool: poolDetail, elementwise: elementwiseDetail, linear: linearDetail, flatten: flattenDetail }[d.kind];
  if (render) render(box, d, L); else box.append(el("p", { text: `value ${fmt(d.result)}` }));
  box.append(resultLine(d));
}

function resultLine(d) {
  const ok = d.match === undefined ? Math.abs(d.result - d.activation) <= 1e-5 * (1 + Math.abs(d.activation)) : d.match;
  return el("p", { class: "result-line" },
    el("span", { text: "result " }), el("b", { id: "detail-result", "data-value": d.result, text: Number(d.result).toPrecision(6) }),
    el("span", { text: " · the model's activation " }), el("b", { id: "detail-activation", "data-value": d.activation, text: Number(d.activation).toPrecision(6) }),
    el("span", { class: ok ? "ok" : "bad", text: ok ? " ✓ equal" : " ✗ differ" }));
}

function numGrid(values, opts = {}) {   // a small table of numbers, with optional cell classes
  const t = el("table", { class: "grid " + (opts.cls || "") });
  values.forEach((row, r) => {
    const tr = el("tr");
    row.forEach((v, c) => {
      const td = el("td", { text: fmt(v) });
      const s = opts.scale ? colour(v / opts.scale) : null;
      if (s) td.style.background = `rgba(${s},0.85)`;
      if (opts.mask && opts.mask[r][c]) td.classList.add("pad");
      if (opts.mark && opts.mark(r, c)) td.classList.add("mark");
      tr.append(td);
    });
    t.append(tr);
  });
  return opts.caption ? el("figure", {}, el("figcaption", { text: opts.caption }), t) : t;
}

// An enlarged feature map with a highlighted rectangle; clicking picks a position.
function bigMap(data, offset, h, w, scale, rect, onPick, gray, caption) {
  const wrap = el("figure", { class: "bigmap" });
  const cv = el("canvas", { class: "big" });
  drawMap(cv, data, offset, h, w, scale, gray);
  const size = Math.min(220, Math.max(120, 8 * w));
  cv.style.width = `${size}px`; cv.style.height = `${Math.round(size * h / w)}px`;
  const box = el("div", { class: "bigmap-box" }, cv);
  if (rect) {
    const o = el("div", { class: "win" });
    o.style.left = `${100 * rect.x0 / w}%`; o.style.top = `${100 * rect.y0 / h}%`;
    o.style.width = `${100 * (rect.x1 - rect.x0) / w}%`; o.style.height = `${100 * (rect.y1 - rect.y0) / h}%`;
    box.append(o);
  }
  if (onPick) {
    cv.addEventListener("click", (e) => onPick(...cellAt(e, cv, h, w)));
    cv.classList.add("pickable");
  }
  wrap.append(box, el("figcaption", { text: caption }));
  return wrap;
}

function inputArray(layer) {             // what the layer at index `layer` received (previous output)
  if (layer === 0) return decode(state.trace.input);
  return state.trace.decoded[layer - 1];
}

function pickOutput(d) {                 // a click in the enlarged output map selects that position
  return (y, x) => select({ layer: d.layer, channel: d.channel, y, x });
}

function convDetail(box, d, L) {
  const src = inputArray(d.layer), [, h, w] = src.shape, out = state.trace.decoded[d.layer], [, oh, ow] = L.shape;
  const rect = { y0: Math.max(0, d.rows[0]), y1: Math.min(h, d.rows[d.rows.length - 1] + 1), x0: Math.max(0, d.cols[0]), x1: Math.min(w, d.cols[d.cols.length - 1] + 1) };
  const ch0 = d.input_channels[0], srcScale = d.layer === 0 ? 1 : layerScale(d.layer - 1);
  const maps = el("div", { class: "row maps-row" },
    bigMap(src.data, ch0 * h * w, h, w, srcScale, rect, null, d.layer === 0, `input channel ${ch0} with the window`),
    bigMap(out.data, d.channel * oh * ow, oh, ow, layerScale(d.layer), { y0: d.y, y1: d.y + 1, x0: d.x, x1: d.x + 1 },
      pickOutput(d), false, `output channel ${d.channel} (click a position)`));
  const play = el("div", { class: "anim" },
    el("button", { id: "conv-play", text: anim ? "⏹ Stop" : "▶ Slide the window", onclick: () => toggleAnim(d) }),
    el("span", { class: "hint", text: ` stride ${d.stride.join("×")}, padding ${d.padding.join("×")}, dilation ${d.dilation.join("×")}` }));
  box.append(maps, play);
  const cards = el("div", { class: "cards" });
  const kscale = Math.max(...d.kernel.flat(2).map(Math.abs)) || 1;
  d.input_channels.forEach((c, j) => {
    cards.append(el("div", { class: "card" },
      el("h4", { text: `input channel ${c}` }),
      el("div", { class: "row" },
        numGrid(d.windows[j], { caption: "window", mask: d.padding_mask }),
        el("span", { class: "op", text: "⊙" }),
        numGrid(d.kernel[j], { caption: "kernel", scale: kscale }),
        el("span", { class: "op", text: "=" }),
        numGrid(d.products[j], { caption: "products" }),
        el("span", { class: "op", text: "Σ" }),
        el("b", { class: "chsum", text: fmt(d.channel_sums[j]) }))));
  });
  box.append(cards);
  const sums = d.channel_sums.map((v) => fmt(v)).join(" + ");
  box.append(el("p", { class: "sum-line" },
    el("span", { text: d.channel_sums.length > 1 ? `Σ over ${d.channel_sums.length} channels: ${d.channel_sums.length > 12 ? "…" : sums} = ` : "sum = " }),
    el("b", { text: fmt(d.sum) }), el("span", { text: " ; + bias " }), el("b", { text: fmt(d.bias) }),
    el("span", { text: " = " }), el("b", { text: Number(d.result).toPrecision(6) })));
}

function toggleAnim(d) {                 // step the window over every output position, row by row
  if (anim) { clearInterval(anim); anim = null; $("conv-play").textContent = "▶ Slide the window"; return; }
  const [, oh, ow] = state.trace.layers[d.layer].shape;
  let p = d.y * ow + d.x, busy = false;
  anim = setInterval(async () => {
    if (busy) return;
    if (!state.selected || state.selected.layer !== d.layer) { clearInterval(anim); anim = null; return; }
    p = (p + 1) % (oh * ow); busy = true;
    await select({ layer: d.layer, channel: d.channel, y: Math.floor(p / ow), x: p % ow });
    busy = false;
  }, 180);
  $("conv-play").textContent = "⏹ Stop";
}

function poolDetail(box, d, L) {
  const src = inputArray(d.layer), [, h, w] = src.shape, out = state.trace.decoded[d.layer], [, oh, ow] = L.shape;
  const rect = { y0: d.rows[0], y1: d.rows[d.rows.length - 1] + 1, x0: d.cols[0], x1: d.cols[d.cols.length - 1] + 1 };
  box.append(el("div", { class: "row maps-row" },
    bigMap(src.data, d.channel * h * w, h, w, layerScale(d.layer - 1), rect, null, d.layer === 0, `input channel ${d.channel} with the window`),
    bigMap(out.data, d.channel * oh * ow, oh, ow, layerScale(d.layer), { y0: d.y, y1: d.y + 1, x0: d.x, x1: d.x + 1 },
      pickOutput(d), false, `output channel ${d.channel} (click a position)`)));
  const mark = d.argmax ? (r, c) => d.rows[r] === d.argmax[0] && d.cols[c] === d.argmax[1] : null;
  const how = d.op === "max" ? `max of the ${d.window.length}×${d.window[0].length} window = ${fmt(d.result)}`
    : `(sum ${fmt(d.sum)}) / ${d.divisor} = ${fmt(d.result)}`;
  box.append(el("div", { class: "row" }, numGrid(d.window, { caption: `${d.op} pooling window`, mark }),
    el("span", { class: "op", text: "→" }), el("p", { class: "formula", text: how })));
}

function elementwiseDetail(box, d) {
  const c = (r, k) => d.rows[r] === (d.position.length === 3 ? d.position[1] : 0) && d.cols[k] === d.position[d.position.length - 1];
  box.append(el("p", { class: "formula", text: `${d.op}(x) = ${d.formula}` }),
    el("div", { class: "row" }, numGrid(d.inputs, { caption: "in", mark: c }), el("span", { class: "op", text: "→" }),
      numGrid(d.outputs, { caption: "out", mark: c })),
    el("p", { text: `${d.op}(${fmt(d.value_in)}) = ${fmt(d.activation)}` }));
}

function linearDetail(box, d) {
  const rows = d.top_inputs.map((j, k) => [j, d.top_x[k], d.top_w[k], d.top_products[k]]);
  const t = el("table", { class: "tbl" }, el("tr", {}, ...["input i", "xᵢ", "wᵢ", "wᵢ·xᵢ"].map((h) => el("th", { text: h }))));
  for (const r of rows) t.append(el("tr", {}, el("td", { text: r[0] }), ...r.slice(1).map((v) => el("td", { text: fmt(v) }))));
  box.append(el("p", { text: `Σ wᵢxᵢ over ${d.n_inputs} inputs (the ${rows.length} largest |wᵢxᵢ| shown) = ${fmt(d.sum)}; + bias ${fmt(d.bias)} = ${fmt(d.result)}` }), t);
}

function flattenDetail(box, d) {
  box.append(el("p", { class: "formula", text: `Flatten (${d.in_shape.join("×")}) → ${d.length}: index = ${d.formula}` }),
    el("p", { text: `element ${d.channel} comes from (c, y, x) = (${d.source.join(", ")}), value ${fmt(d.value_in)}` }));
}
