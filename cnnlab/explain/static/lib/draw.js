// lib/draw.js — owns the pictures several views share: the diverging colour map, feature maps
// and images on canvas, the probability bars and the SVG line chart. Pure functions of their
// arguments: no page state, no requests.

import { decode } from "./api.js";
import { el, fmt, svg, svgText } from "./dom.js";

// Diverging colour map: blue (negative) – white (0) – red (positive), t in [-1, 1].
export function colour(t) {
  t = Math.max(-1, Math.min(1, t));
  const neg = [33, 102, 172], pos = [178, 24, 43];
  const c = t < 0 ? neg : pos, a = Math.abs(t);
  return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
}

// The (row, column) of the cell under a click; offsetX is inside the border, like clientWidth.
export function cellAt(e, cv, h, w) {
  const y = Math.floor(e.offsetY / cv.clientHeight * h), x = Math.floor(e.offsetX / cv.clientWidth * w);
  return [Math.max(0, Math.min(h - 1, y)), Math.max(0, Math.min(w - 1, x))];
}

// One h×w map starting at data[offset]: diverging colours at ±scale, or gray stretched to its range.
export function drawMap(canvas, data, offset, h, w, scale, gray) {
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

// A (3, h, w) array as an RGB image, stretched to its range.
export function drawRGB(canvas, data, h, w) {
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

// A model input as the server encodes it: RGB for 3 channels, else gray.
export function drawInput(canvas, enc) {
  const a = decode(enc), [c, h, w] = a.shape;
  if (c === 3) drawRGB(canvas, a.data, h, w); else drawMap(canvas, a.data, 0, h, w, 1, true);
}

// Horizontal probability bars; the best class and the true label (✓) are marked.
export function bars(probs, classes, trueLabel) {
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

// series: [{name, x: [...], y: [... or null]}] → an <svg class="chart"> with axes and a legend.
export function lineChart(series, title, ylabel, w = 540, h = 280) {
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
