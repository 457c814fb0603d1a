// cnnlab explain: the page. Plain JS, no build step, no network beyond this server.
// Every number shown comes from the server's JSON; this file only draws.
"use strict";

const S = {                     // page state
  model: null, trace: null, scaleMax: 1, perLayer: false, page: 0, pageSize: 24,
  selected: null,               // {layer, channel, y, x}
  anim: null, drawBusy: false, drawPending: false, shiftTimer: null,
};
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};
const SVGNS = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}) => {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
const svgText = (parent, attrs, text) => { const t = svg("text", attrs); t.textContent = text; parent.append(t); return t; };

// ------------------------------------------------------------------ helpers
async function api(path, opts = {}) {
  const r = await fetch(path, opts);
  let body;
  try { body = await r.json(); } catch (e) { body = { error: `HTTP ${r.status}` }; }
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}
function status(msg, isError = false) {
  const s = $("status");
  s.textContent = msg || ""; s.className = isError ? "error" : "";
}
function decode(enc) {             // base64 float32 → {shape, data}
  const bin = atob(enc.b64), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return { shape: enc.shape, data: new Float32Array(buf), min: enc.min, max: enc.max };
}
function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (digits) return Number(v).toFixed(digits);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toExponential(0);
}
// Diverging colour map: blue (negative) – white (0) – red (positive), t in [-1, 1].
function colour(t) {
  t = Math.max(-1, Math.min(1, t));
  const neg = [33, 102, 172], pos = [178, 24, 43];
  const c = t < 0 ? neg : pos, a = Math.abs(t);
  return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
}
// The (row, column) of the cell under a click; offsetX is inside the border, like clientWidth.
function cellAt(e, cv, h, w) {
  const y = Math.floor(e.offsetY / cv.clientHeight * h), x = Math.floor(e.offsetX / cv.clientWidth * w);
  return [Math.max(0, Math.min(h - 1, y)), Math.max(0, Math.min(w - 1, x))];
}
function drawMap(canvas, data, offset, h, w, scale, gray) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
  let lo = Infinity, hi = -Infinity;
  if (gray) for (let i = 0; i < h * w; i++) { const v = data[offset + i]; lo = Math.min(lo, v); hi = Math.max(hi, v); }
  for (let i = 0; i < h * w; i++) {
    const v = data[offset + i];
    let c;
    if (gray) { const g = hi > lo ? 255 * (v - lo) / (hi - lo) : 0; c = [g, g, g]; }
    else c = colour(v / scale);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
function drawRGB(canvas, data, h, w) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
  let lo = Infinity, hi = -Infinity;
  for (const v of data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const n = h * w;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++)
    img.data[4 * i + c] = hi > lo ? 255 * (data[c * n + i] - lo) / (hi - lo) : 0;
  for (let i = 0; i < n; i++) img.data[4 * i + 3] = 255;
  ctx.putImageData(img, 0, 0);
}
function drawInput(canvas, enc) {
  const a = decode(enc), [c, h, w] = a.shape;
  if (c === 3) drawRGB(canvas, a.data, h, w); else drawMap(canvas, a.data, 0, h, w, 1, true);
}

// ------------------------------------------------------------------ tabs
function initTabs() {
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  document.querySelectorAll("#input-panel .subtabs button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll("#input-panel .subtabs button").forEach((x) => x.classList.toggle("active", x === b));
    document.querySelectorAll(".input-view").forEach((v) => v.classList.toggle("active", v.id === `input-${b.dataset.input}`));
  }));
}
function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((x) => x.classList.toggle("active", x.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${name}`));
  if (name === "training") loadTraining();
  if (name === "filters") loadFilters();
  if (name === "shift") updateShift();
  if (name === "playground") Playground.start(); else Playground.stop();
}

// ------------------------------------------------------------------ input
async function loadGallery() {
  const r = await api(`/api/samples?offset=${S.page * S.pageSize}&count=${S.pageSize}`);
  const g = $("gallery"); g.innerHTML = "";
  if (!r.total) { g.append(el("p", { class: "hint", text: "No dataset attached: draw or upload an input." })); return; }
  for (const s of r.samples) {
    const item = el("button", { class: "sample", "data-index": s.index, title: `sample ${s.index}: ${s.label_name}`,
      onclick: () => runInput({ sample: s.index }) },
      el("img", { src: s.image, alt: s.label_name }), el("span", { text: s.label_name }));
    g.append(item);
  }
  const pages = Math.ceil(r.total / S.pageSize);
  $("page-info").textContent = `${S.page + 1} / ${pages}`;
  $("prev-page").disabled = S.page === 0; $("next-page").disabled = S.page >= pages - 1;
}
async function runInput(body, caption) {
  try {
    const t = await api("/api/infer", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    setTrace(t, caption);
    document.querySelectorAll(".sample").forEach((s) => s.classList.toggle("active", body.sample !== undefined && +s.dataset.index === body.sample));
    return t;
  } catch (e) { status(e.message, true); }
}
function setTrace(t, caption) {
  S.trace = t;
  t.decoded = t.layers.map((l) => decode(l.data));
  drawInput($("input-preview"), t.input);
  const cap = caption || (t.sample !== undefined ? `sample ${t.sample} · true label: ${t.label_name}` : t.source || "");
  $("input-caption").textContent = `${cap} · predicted: ${t.predicted_name} (${fmt(t.probabilities[t.predicted], 3)})`;
  autoScale();
  renderOverview();
  if (S.selected) showDetail(S.selected.layer, S.selected.channel, S.selected.y, S.selected.x);
  status("");
}

// Drawing: strokes on a 280×280 canvas, downsampled to the model's H×W.
function initDraw() {
  const cv = $("draw-canvas"), ctx = cv.getContext("2d");
  const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, cv.width, cv.height); };
  clear();
  let down = false, last = null;
  const pos = (e) => { const r = cv.getBoundingClientRect(); return [(e.clientX - r.left) * cv.width / r.width, (e.clientY - r.top) * cv.height / r.height]; };
  const stroke = (p) => {
    ctx.strokeStyle = "#fff"; ctx.fillStyle = "#fff"; ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.lineWidth = +$("draw-brush").value;
    ctx.beginPath();
    if (last) { ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke(); }
    else { ctx.arc(p[0], p[1], ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fill(); }
    last = p; predictDrawing();
  };
  cv.addEventListener("pointerdown", (e) => { down = true; last = null; cv.setPointerCapture(e.pointerId); stroke(pos(e)); });
  cv.addEventListener("pointermove", (e) => { if (down) stroke(pos(e)); });
  const up = () => { down = false; last = null; predictDrawing(); };
  cv.addEventListener("pointerup", up); cv.addEventListener("pointercancel", up);
  $("draw-clear").addEventListener("click", () => { clear(); predictDrawing(); });
}
// MNIST digits fill a 20×20 box centred in 28×28; the drawing gets the same treatment:
// its bounding box is scaled to 5/7 of the input and centred, so the model sees what it learned.
function inkBox(cv) {
  const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
  let x0 = cv.width, y0 = cv.height, x1 = -1, y1 = -1;
  for (let y = 0; y < cv.height; y += 2) for (let x = 0; x < cv.width; x += 2)
    if (d[4 * (y * cv.width + x)] > 20) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  return x1 < 0 ? null : { x0, y0, w: x1 - x0 + 2, h: y1 - y0 + 2 };
}
function drawingPixels() {
  const [, h, w] = S.model.input_shape;
  const small = el("canvas"); small.width = w; small.height = h;
  const sctx = small.getContext("2d");
  sctx.imageSmoothingEnabled = true; sctx.imageSmoothingQuality = "high";
  sctx.fillStyle = "#000"; sctx.fillRect(0, 0, w, h);
  const box = inkBox($("draw-canvas"));
  if (box) {
    const k = (5 / 7) * Math.min(w, h) / Math.max(box.w, box.h), dw = box.w * k, dh = box.h * k;
    sctx.drawImage($("draw-canvas"), box.x0, box.y0, box.w, box.h, (w - dw) / 2, (h - dh) / 2, dw, dh);
  }
  const d = sctx.getImageData(0, 0, w, h).data, rows = [];
  for (let y = 0; y < h; y++) { const row = []; for (let x = 0; x < w; x++) row.push(d[4 * (y * w + x)] / 255); rows.push(row); }
  return rows;
}
async function predictDrawing() {       // at most one request in flight; the latest drawing wins
  if (S.drawBusy) { S.drawPending = true; return; }
  S.drawBusy = true;
  try { await runInput({ pixels: drawingPixels() }, "your drawing"); }
  finally {
    S.drawBusy = false;
    if (S.drawPending) { S.drawPending = false; predictDrawing(); }
  }
}

function initUpload() {
  $("upload-file").addEventListener("change", async (e) => {
    const f = e.target.files[0]; if (!f) return;
    $("upload-error").textContent = ""; $("upload-steps").innerHTML = "";
    const fd = new FormData(); fd.append("file", f);
    try {
      const t = await api("/api/upload", { method: "POST", body: fd });
      for (const s of t.steps) $("upload-steps").append(el("li", { text: s }));
      setTrace(t, `upload: ${f.name}`);
    } catch (err) { $("upload-error").textContent = err.message; }
  });
}

// ------------------------------------------------------------------ overview
// The shared scale starts at the median of the feature-map layers' largest |value|, so early
// layers are not washed out by one layer with large values; the slider moves it ×0.02…×50.
function autoScale() {
  const m = [];
  S.trace.decoded.forEach((a, i) => { if (S.trace.layers[i].shape.length === 3) m.push(Math.max(Math.abs(a.min), Math.abs(a.max))); });
  m.sort((p, q) => p - q);
  S.autoMax = (m.length ? m[Math.floor((m.length - 1) / 2)] : 0) || 1;
  updateScaleLabel();
}
function currentScale() {                 // slider 0..100 → 0.02..2 × the largest activation (log)
  const t = +$("scale-range").value / 100;
  return S.autoMax * Math.pow(10, (t - 0.5) * 2 * 1.7);
}
function updateScaleLabel() {
  S.scaleMax = currentScale();
  $("scale-value").textContent = S.perLayer ? "(each layer: its own max)" : fmt(S.scaleMax);
  const cb = $("colorbar"), ctx = cb.getContext("2d");
  for (let x = 0; x < cb.width; x++) { const c = colour(2 * x / (cb.width - 1) - 1); ctx.fillStyle = `rgb(${c})`; ctx.fillRect(x, 0, 1, cb.height); }
}
function layerScale(i) {
  if (!S.perLayer) return S.scaleMax;
  const a = S.trace.decoded[i]; return Math.max(Math.abs(a.min), Math.abs(a.max)) || 1;
}
function vectorLayout(n) {               // a 1-D layer as a block of cells, at most 48 rows
  const cols = Math.max(1, Math.ceil(n / 48)), rows = Math.ceil(n / cols);
  const cell = Math.max(3, Math.min(14, Math.floor(520 / rows)));
  return { cols, rows, cell };
}
function renderOverview() {
  const ov = $("overview"); ov.innerHTML = "";
  const t = S.trace;
  // input column
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
  const a = S.trace.decoded[i], scale = layerScale(i);
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
      cv.addEventListener("click", (e) => { const [y, x] = cellAt(e, cv, h, w); showDetail(i, k, y, x); });
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
    cv.addEventListener("click", (e) => { const [y, x] = cellAt(e, cv, rows, cols); showDetail(i, Math.min(n - 1, y * cols + x), 0, 0); });
    col.append(el("div", { class: "maps" }, cv));
  }
  return col;
}
function probabilityColumn() {
  const t = S.trace;
  const col = el("div", { class: "column probs", "data-layer": "output" },
    el("div", { class: "col-head" }, el("b", { text: "output" }), el("span", { class: "kind", text: "softmax" }),
      el("span", { text: `${t.probabilities.length} classes` })));
  col.append(bars(t.probabilities, t.classes, t.label));
  col.append(el("button", { class: "link", text: "how softmax got these →", onclick: showSoftmax }));
  return col;
}
function bars(probs, classes, trueLabel) {
  const box = el("div", { class: "bars", id: "prob-bars" });
  const best = probs.indexOf(Math.max(...probs));
  probs.forEach((p, k) => {
    const row = el("div", { class: "bar-row" + (k === best ? " best" : "") + (k === trueLabel ? " true" : ""), "data-class": k, "data-prob": p },
      el("span", { class: "bar-label", text: classes[k] + (k === trueLabel ? " ✓" : "") }),
      el("span", { class: "bar-track" }, el("span", { class: "bar-fill", style: `width:${(100 * p).toFixed(1)}%` })),
      el("span", { class: "bar-value", text: fmt(p, 2) }));
    box.append(row);
  });
  return box;
}
// Connections: which maps of the previous column feed the hovered one.
function sources(i, k) {
  const L = S.trace.layers[i], prevShape = i === 0 ? S.trace.input.shape : S.trace.layers[i - 1].shape;
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

// ------------------------------------------------------------------ details
async function showDetail(layer, channel, y, x) {
  S.selected = { layer, channel, y, x };
  document.querySelectorAll(".map.selected").forEach((m) => m.classList.remove("selected"));
  const m = document.querySelector(`canvas.map[data-layer="${layer}"][data-channel="${S.trace.layers[layer].shape.length === 3 ? channel : 0}"]`);
  if (m) m.classList.add("selected");
  let d;
  try { d = await api(`/api/detail?input_id=${S.trace.input_id}&layer=${layer}&channel=${channel}&y=${y}&x=${x}`); }
  catch (e) { status(e.message, true); return; }
  const box = $("detail"), first = box.classList.contains("hidden");
  box.classList.remove("hidden"); box.innerHTML = "";
  box.dataset.kind = d.kind;
  if (first) setTimeout(() => box.scrollIntoView({ behavior: "smooth", block: "nearest" }), 0);
  const L = S.trace.layers[layer];
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
  if (layer === 0) return decode(S.trace.input);
  return S.trace.decoded[layer - 1];
}
function convDetail(box, d, L) {
  const src = inputArray(d.layer), [, h, w] = src.shape, out = S.trace.decoded[d.layer], [, oh, ow] = L.shape;
  const rect = { y0: Math.max(0, d.rows[0]), y1: Math.min(h, d.rows[d.rows.length - 1] + 1), x0: Math.max(0, d.cols[0]), x1: Math.min(w, d.cols[d.cols.length - 1] + 1) };
  const ch0 = d.input_channels[0], srcScale = d.layer === 0 ? 1 : layerScale(d.layer - 1);
  const maps = el("div", { class: "row maps-row" },
    bigMap(src.data, ch0 * h * w, h, w, srcScale, rect, null, d.layer === 0, `input channel ${ch0} with the window`),
    bigMap(out.data, d.channel * oh * ow, oh, ow, layerScale(d.layer), { y0: d.y, y1: d.y + 1, x0: d.x, x1: d.x + 1 },
      (y, x) => showDetail(d.layer, d.channel, y, x), false, `output channel ${d.channel} (click a position)`));
  const anim = el("div", { class: "anim" },
    el("button", { id: "conv-play", text: S.anim ? "⏹ Stop" : "▶ Slide the window", onclick: () => toggleAnim(d) }),
    el("span", { class: "hint", text: ` stride ${d.stride.join("×")}, padding ${d.padding.join("×")}, dilation ${d.dilation.join("×")}` }));
  box.append(maps, anim);
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
  if (S.anim) { clearInterval(S.anim); S.anim = null; $("conv-play").textContent = "▶ Slide the window"; return; }
  const [, oh, ow] = S.trace.layers[d.layer].shape;
  let p = d.y * ow + d.x, busy = false;
  S.anim = setInterval(async () => {
    if (busy) return;
    if (!S.selected || S.selected.layer !== d.layer) { clearInterval(S.anim); S.anim = null; return; }
    p = (p + 1) % (oh * ow); busy = true;
    await showDetail(d.layer, d.channel, Math.floor(p / ow), p % ow);
    busy = false;
  }, 180);
  $("conv-play").textContent = "⏹ Stop";
}
function poolDetail(box, d, L) {
  const src = inputArray(d.layer), [, h, w] = src.shape, out = S.trace.decoded[d.layer], [, oh, ow] = L.shape;
  const rect = { y0: d.rows[0], y1: d.rows[d.rows.length - 1] + 1, x0: d.cols[0], x1: d.cols[d.cols.length - 1] + 1 };
  box.append(el("div", { class: "row maps-row" },
    bigMap(src.data, d.channel * h * w, h, w, layerScale(d.layer - 1), rect, null, d.layer === 0, `input channel ${d.channel} with the window`),
    bigMap(out.data, d.channel * oh * ow, oh, ow, layerScale(d.layer), { y0: d.y, y1: d.y + 1, x0: d.x, x1: d.x + 1 },
      (y, x) => showDetail(d.layer, d.channel, y, x), false, `output channel ${d.channel} (click a position)`)));
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
async function showSoftmax() {
  let d;
  try { d = await api(`/api/softmax?input_id=${S.trace.input_id}`); } catch (e) { status(e.message, true); return; }
  S.selected = null;
  const box = $("detail"); box.classList.remove("hidden"); box.innerHTML = ""; box.dataset.kind = "softmax";
  box.append(el("h2", { text: "Flatten → logits → softmax" }));
  const flat = S.trace.layers.find((l) => l.kind === "Flatten");
  if (flat) box.append(el("p", { text: `Flatten turns the ${flat.in_shape.join("×")} feature maps into one vector of ${flat.shape[0]} numbers; the linear layers map it to ${d.logits.length} logits.` }));
  box.append(el("p", { class: "formula", text: `pᵢ = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z);  max z = ${fmt(d.max)},  Σ = ${fmt(d.sum, 4)}` }));
  const t = el("table", { class: "tbl", id: "softmax-table" }, el("tr", {}, ...["class", "logit z", "z − max", "exp", "÷ Σ = p"].map((h) => el("th", { text: h }))));
  d.classes.forEach((c, k) => t.append(el("tr", {}, el("td", { text: c }), el("td", { text: fmt(d.logits[k], 3) }),
    el("td", { text: fmt(d.shifted[k], 3) }), el("td", { text: fmt(d.exps[k], 4) }), el("td", { text: fmt(d.probabilities[k], 4), "data-value": d.probabilities[k] }))));
  box.append(t);
}

// ------------------------------------------------------------------ playground
const Playground = (() => {
  let timer = null, step = 0, paused = false;
  const val = (id) => +$(id).value;
  function params() {
    const W = val("pg-w"), P = val("pg-p"), K = val("pg-k"), St = val("pg-s"), D = val("pg-d");
    const Ke = D * (K - 1) + 1, span = W - Ke + 2 * P;
    const fits = span >= 0 && span % St === 0, O = span >= 0 ? Math.floor(span / St) + 1 : 0;
    return { W, P, K, St, D, Ke, span, fits, O };
  }
  function render() {
    const p = params(); ["w", "p", "k", "s", "d"].forEach((k) => { $(`pg-${k}-v`).textContent = $(`pg-${k}`).value; });
    const kTxt = p.D > 1 ? `K = ${p.D}·(${p.K} − 1) + 1 = ${p.Ke}` : `K = ${p.K}`;
    $("pg-formula").textContent = `O = (W − K + 2P) / S + 1 = (${p.W} − ${p.Ke} + 2·${p.P}) / ${p.St} + 1 = ${p.span}/${p.St} + 1` +
      (p.span >= 0 ? ` = ${p.fits ? p.O : (p.span / p.St + 1).toFixed(2)}` : "") + `   (${kTxt})`;
    const flag = $("pg-flag");
    if (p.span < 0) { flag.className = "bad"; flag.textContent = `The kernel (${p.Ke}) is larger than the padded input (${p.W + 2 * p.P}): no output.`; }
    else if (!p.fits) {
      flag.className = "bad";
      flag.textContent = `Stride ${p.St} does not fit: (W − K + 2P) / S = ${p.span}/${p.St} is not an integer. ` +
        `PyTorch rounds down to O = ${p.O}; the last ${p.span % p.St} row(s) and column(s) of the padded input are never covered.`;
    } else { flag.className = "good"; flag.textContent = `Stride ${p.St} fits: the output is ${p.O} × ${p.O}.`; }
    draw(p);
  }
  function draw(p) {
    const g = $("pg-svg"); g.innerHTML = "";
    const N = p.W + 2 * p.P, cell = Math.min(28, Math.floor(380 / Math.max(N, 1))), ox = 20, oy = 30;
    svgText(g, { x: ox, y: 18, class: "pg-title" }, `input ${p.W}×${p.W} with padding ${p.P}`);
    const reach = p.O > 0 ? (p.O - 1) * p.St + p.Ke : 0;   // rows/columns any window touches
    for (let r = 0; r < N; r++) for (let c = 0; c < N; c++) {
      const pad = r < p.P || c < p.P || r >= p.P + p.W || c >= p.P + p.W;
      const missed = r >= reach || c >= reach;
      g.append(svg("rect", { x: ox + c * cell, y: oy + r * cell, width: cell - 1, height: cell - 1,
        class: (pad ? "pg-pad" : "pg-in") + (missed ? " pg-missed" : "") }));
    }
    if (p.O > 0 && !p.fits) svgText(g, { x: ox, y: oy + N * cell + 16, class: "pg-note" }, "red: never covered by a window");
    if (p.O > 0) {
      const pos = step % (p.O * p.O), oy0 = Math.floor(pos / p.O), ox0 = pos % p.O;
      for (let i = 0; i < p.K; i++) for (let j = 0; j < p.K; j++) {
        const r = oy0 * p.St + i * p.D, c = ox0 * p.St + j * p.D;
        g.append(svg("rect", { x: ox + c * cell, y: oy + r * cell, width: cell - 1, height: cell - 1, class: "pg-win" }));
      }
      const bx = ox + N * cell + 60, oc = Math.min(28, Math.floor(300 / p.O));
      svgText(g, { x: bx, y: 18, class: "pg-title" }, `output ${p.O}×${p.O}`);
      for (let r = 0; r < p.O; r++) for (let c = 0; c < p.O; c++) {
        const k = r * p.O + c;
        g.append(svg("rect", { x: bx + c * oc, y: oy + r * oc, width: oc - 1, height: oc - 1,
          class: k === pos ? "pg-cur" : k < pos ? "pg-done" : "pg-out" }));
      }
      const tx = ox + N * cell + 10;
      svgText(g, { x: tx, y: oy + 14, class: "pg-arrow" }, "→");
    }
    g.setAttribute("height", Math.max(200, oy + N * cell + 20));
  }
  return {
    init() {
      ["pg-w", "pg-p", "pg-k", "pg-s", "pg-d"].forEach((id) => $(id).addEventListener("input", () => { step = 0; render(); }));
      $("pg-play").addEventListener("click", () => { paused = !paused; $("pg-play").textContent = paused ? "▶ Play" : "Pause"; });
      render();
    },
    start() { if (!timer) timer = setInterval(() => { if (!paused) { step++; draw(params()); } }, 600); render(); },
    stop() { clearInterval(timer); timer = null; },
    params,
  };
})();

// ------------------------------------------------------------------ training
function lineChart(series, title, ylabel, w = 540, h = 280) {
  const g = svg("svg", { width: w, height: h, class: "chart" });
  const m = { l: 56, r: 120, t: 26, b: 40 }, all = series.flatMap((s) => s.y.filter((v) => v !== null));
  const xs = series.flatMap((s) => s.x);
  if (!all.length) return g;
  let lo = Math.min(...all), hi = Math.max(...all); if (hi === lo) { hi += 0.5; lo -= 0.5; }
  const x0 = Math.min(...xs), x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const X = (v) => m.l + (v - x0) / (x1 - x0) * (w - m.l - m.r), Y = (v) => h - m.b - (v - lo) / (hi - lo) * (h - m.t - m.b);
  svgText(g, { x: w / 2, y: 16, "text-anchor": "middle", class: "chart-title" }, title);
  g.append(svg("line", { x1: m.l, y1: h - m.b, x2: w - m.r, y2: h - m.b, class: "axis" }));
  g.append(svg("line", { x1: m.l, y1: m.t, x2: m.l, y2: h - m.b, class: "axis" }));
  for (let k = 0; k <= 4; k++) {
    const v = lo + (hi - lo) * k / 4;
    svgText(g, { x: m.l - 6, y: Y(v) + 4, "text-anchor": "end", class: "tick" }, fmt(v, 3));
  }
  const xt = [...new Set(xs)]; const stepT = Math.ceil(xt.length / 8);
  xt.forEach((v, k) => { if (k % stepT === 0) svgText(g, { x: X(v), y: h - m.b + 16, "text-anchor": "middle", class: "tick" }, v); });
  svgText(g, { x: w / 2, y: h - 6, "text-anchor": "middle", class: "axis-label" }, "epoch");
  svgText(g, { x: 14, y: h / 2, transform: `rotate(-90 14 ${h / 2})`, "text-anchor": "middle", class: "axis-label" }, ylabel);
  const colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  series.forEach((s, k) => {
    const pts = s.x.map((x, j) => [x, s.y[j]]).filter((p) => p[1] !== null);
    g.append(svg("polyline", { points: pts.map((p) => `${X(p[0])},${Y(p[1])}`).join(" "), fill: "none", stroke: colours[k % 4], "stroke-width": 2 }));
    for (const p of pts) g.append(svg("circle", { cx: X(p[0]), cy: Y(p[1]), r: 3, fill: colours[k % 4] }));
    svgText(g, { x: w - m.r + 8, y: m.t + 14 * (k + 1), fill: colours[k % 4], class: "legend" }, s.name);
  });
  return g;
}
async function loadTraining() {
  const box = $("training"); box.innerHTML = "";
  let r; try { r = await api("/api/run"); } catch (e) { box.textContent = e.message; return; }
  if (!r.available) { box.append(el("p", { class: "hint", text: r.note })); return; }
  if (r.note) box.append(el("p", { class: "hint", text: r.note }));
  const c = r.curves || {}, x = c.epoch || [];
  const charts = el("div", { class: "row charts" });
  for (const [what, label] of [["loss", "loss"], ["accuracy", "accuracy"]]) {
    const series = Object.keys(c).filter((k) => k.endsWith(what) && !k.includes("top")).map((k) => ({ name: k, x, y: c[k] }));
    if (series.length) charts.append(lineChart(series, `${label} per epoch`, label));
  }
  box.append(charts);
  if (r.confusion) box.append(confusion(r.confusion, r.classes));
}
function confusion(cm, classes) {
  const max = Math.max(...cm.flat()), t = el("table", { class: "confusion" });
  t.append(el("caption", { text: "Confusion matrix (rows: true class, columns: predicted), validation set" }));
  t.append(el("tr", {}, el("th", { text: "true \\ pred" }), ...classes.map((c) => el("th", { class: "rot", text: c }))));
  cm.forEach((row, i) => {
    const tr = el("tr", {}, el("th", { text: classes[i] || i }));
    row.forEach((v) => { const a = max ? v / max : 0; const td = el("td", { text: v }); td.style.background = `rgba(33,102,172,${a})`; if (a > 0.55) td.style.color = "#fff"; tr.append(td); });
    t.append(tr);
  });
  return t;
}

// ------------------------------------------------------------------ filters
async function loadFilters(layer) {
  const box = $("filters"); box.innerHTML = "";
  let r; try { r = await api("/api/filters" + (layer !== undefined ? `?layer=${layer}` : "")); } catch (e) { box.textContent = e.message; return; }
  const sel = $("filters-layer");
  if (!sel.options.length) {
    for (const i of r.conv_layers) sel.append(el("option", { value: i, text: S.model.layers[i].name }));
    sel.addEventListener("change", () => loadFilters(+sel.value));
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

// ------------------------------------------------------------------ shift
async function updateShift() {
  if (!S.trace) return;
  const dx = +$("shift-x").value, dy = +$("shift-y").value;
  $("shift-x-v").textContent = dx; $("shift-y-v").textContent = dy;
  const base = S.shiftBase && S.shiftBase.from === S.trace.input_id ? S.shiftBase.id : S.trace.input_id;
  S.shiftBase = { from: S.trace.input_id, id: base };
  let t;
  try { t = await api("/api/infer", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ input_id: base, shift: [dx, dy] }) }); }
  catch (e) { status(e.message, true); return; }
  drawInput($("shift-canvas"), t.input);
  $("shift-canvas").style.width = "168px"; $("shift-canvas").style.height = "168px";
  $("shift-caption").textContent = `shift (${dx}, ${dy}) · predicted ${t.predicted_name} (${fmt(t.probabilities[t.predicted], 2)})`;
  const b = $("shift-bars"); b.innerHTML = ""; b.append(bars(t.probabilities, t.classes, S.trace.label));
  b.firstChild.id = "shift-prob-bars";
  if (!S.sweep || S.sweep.id !== base) {
    try { S.sweep = { id: base, r: await api(`/api/shift?input_id=${base}&max_shift=8`) }; } catch (e) { return; }
  }
  const r = S.sweep.r, k = S.trace.predicted;
  const plot = lineChart([
    { name: `horizontal: p(${r.classes[k]})`, x: r.shifts, y: r.horizontal.map((p) => p[k]) },
    { name: `vertical: p(${r.classes[k]})`, x: r.shifts, y: r.vertical.map((p) => p[k]) }],
    `probability of "${r.classes[k]}" against the shift`, "probability", 600, 300);
  plot.querySelectorAll(".axis-label")[0].textContent = "shift (pixels)";
  $("shift-plot").replaceWith(plot); plot.id = "shift-plot";
}

// ------------------------------------------------------------------ start
async function main() {
  initTabs(); initDraw(); initUpload(); Playground.init();
  $("scale-range").addEventListener("input", () => { updateScaleLabel(); if (S.trace) renderOverview(); });
  $("scale-per-layer").addEventListener("change", (e) => { S.perLayer = e.target.checked; updateScaleLabel(); if (S.trace) renderOverview(); });
  $("prev-page").addEventListener("click", () => { S.page--; loadGallery(); });
  $("next-page").addEventListener("click", () => { S.page++; loadGallery(); });
  ["shift-x", "shift-y"].forEach((id) => $(id).addEventListener("input", () => { clearTimeout(S.shiftTimer); S.shiftTimer = setTimeout(updateShift, 60); }));
  try { S.model = await api("/api/model"); } catch (e) { status(e.message, true); return; }
  const m = S.model;
  $("model-name").textContent = `— ${m.model}${m.dataset ? " on " + m.dataset : ""} · input ${m.input_shape.join("×")}`;
  if (!m.grayscale) { $("draw-tab").disabled = true; $("draw-tab").title = "drawing is for grayscale models"; }
  ["shift-x", "shift-y"].forEach((id) => { $(id).min = -m.max_shift; $(id).max = m.max_shift; });
  await loadGallery();
  if (m.n_samples) await runInput({ sample: 0 });
  else {
    const [c, h, w] = m.input_shape, plane = () => Array.from({ length: h }, () => new Array(w).fill(0));
    await runInput({ pixels: c === 1 ? plane() : Array.from({ length: c }, plane) }, "blank input");
  }
  document.body.dataset.ready = "1";
}
main();
