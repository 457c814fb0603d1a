// views/playground.js — the Hyperparameter playground tab: O = (W − K + 2P)/S + 1 for the
// sliders' values, a flag when the stride does not fit, and an animated window over the padded
// input. Needs nothing from the server; its animation runs only while its tab is shown.

import { $, svg, svgText } from "../lib/dom.js";

export const tab = "playground";

let timer = null, step = 0, paused = false;
const val = (id) => +$(id).value;

export function init() {
  ["pg-w", "pg-p", "pg-k", "pg-s", "pg-d"].forEach((id) => $(id).addEventListener("input", () => { step = 0; render(); }));
  $("pg-play").addEventListener("click", () => { paused = !paused; $("pg-play").textContent = paused ? "▶ Play" : "Pause"; });
  render();
}
export function show() { if (!timer) timer = setInterval(() => { if (!paused) { step++; draw(params()); } }, 600); render(); }
export function hide() { clearInterval(timer); timer = null; }

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
