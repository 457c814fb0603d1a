// views/why.js — the Why tab: an attribution map of the current input (saliency, input × gradient,
// integrated gradients, SmoothGrad, Grad-CAM, occlusion) for the predicted class or the class
// clicked in the tab's probability bars, drawn over the input and alone, as /api/attribution
// computed it. Owns the method, layer, window and target choices, the request in flight (the
// latest one wins) and what it last drew (also put in state.why for the tests).

import { decode, postJSON } from "../lib/api.js";
import { $, el, fmt, status } from "../lib/dom.js";
import { bars, colour } from "../lib/draw.js";
import { on, state } from "../lib/state.js";

export const tab = "why";

const ABOUT = {
  "saliency": "Saliency: |∂z/∂x|, how strongly each pixel's change would move the class score z.",
  "input-x-gradient": "Input × gradient: x · ∂z/∂x, red where a pixel adds to the class score, blue where it takes away.",
  "integrated-gradients": "Integrated gradients: the gradient averaged along the straight path from the baseline (BASELINE) to this input, times the change; the map adds up to z(x) − z(baseline).",
  "smoothgrad": "SmoothGrad: the saliency averaged over 25 noisy copies of the input (noise 15% of its range), which removes speckle.",
  "grad-cam": "Grad-CAM: the layer's feature maps weighted by the mean gradient of the class score over each map, summed, negatives cut (ReLU); coarse, at the layer's resolution.",
  "occlusion": "Occlusion: slide a window over the input, set it to the baseline (BASELINE), and record how much the class score drops; red where hiding the window hurts the class.",
};
// Both baselines are 0 in the model's input; with normalisation that is the data set's mean colour.
const baseline = () => state.model && state.model.normalize ? "0 after normalisation: the data set's mean colour" : "0: black";
// The colour map of unsigned maps (inferno's stops); signed maps use the page's blue–white–red.
const INFERNO = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];

let visible = false, target = null, seq = 0, timer = null, shownKey = "";

export function init() {
  $("why-method").addEventListener("change", () => { controls(); update(); });
  $("why-layer").addEventListener("change", update);
  $("why-window").addEventListener("input", () => { controls(); clearTimeout(timer); timer = setTimeout(update, 150); });
  $("why-predicted").addEventListener("click", () => { target = null; update(); });
  on("model", (m) => {
    const sel = $("why-layer"); sel.innerHTML = "";
    const convs = m.layers.filter((l) => l.kind === "Conv2d" && l.shape.length === 3);
    for (const l of convs) sel.append(new Option(`${l.name} (${l.shape.slice(1).join("×")})`, l.index));
    if (convs.length) sel.value = convs[convs.length - 1].index;   // the last convolution, as the CLI
    else $("why-method").querySelector("option[value='grad-cam']").disabled = true;
    if (!convs.length && $("why-method").value === "grad-cam") $("why-method").value = "saliency";
    const [, h, w] = m.input_shape;
    $("why-window").max = Math.min(h, w); $("why-window").value = Math.max(2, Math.round(h / 7));
    controls();
  });
  on("trace", () => {          // a new input: explain its own prediction, now if the tab is open
    target = null;
    if (visible) { clearTimeout(timer); timer = setTimeout(update, 60); }
  });
  on("open", ({ tab: t, method }) => {
    if (t === "why" && method) { $("why-method").value = method; target = null; controls(); }
  });
}

export function show() { visible = true; update(); }
export function hide() { visible = false; }

function controls() {
  const m = $("why-method").value;
  $("why-layer-box").classList.toggle("hidden", m !== "grad-cam");
  $("why-window-box").classList.toggle("hidden", m !== "occlusion");
  const k = +$("why-window").value;
  $("why-window-v").textContent = `${k}×${k}, stride ${Math.max(1, Math.floor(k / 2))}`;
}

function request() {
  const method = $("why-method").value, body = { input_id: state.trace.input_id, method };
  if (target !== null) body.target = target;
  if (method === "grad-cam") body.layer = +$("why-layer").value;
  if (method === "occlusion") body.window = +$("why-window").value;
  return body;
}

async function update() {
  if (!visible || !state.trace) return;
  const body = request(), key = JSON.stringify(body);
  if (key === shownKey) return;
  const mine = ++seq;
  let r;
  try { r = await postJSON("/api/attribution", body); } catch (e) { status(e.message, true); return; }
  if (mine !== seq || !state.trace || r.input_id !== state.trace.input_id) return;   // a newer request won
  shownKey = key;
  draw(r);
}

function draw(r) {
  const map = decode(r.map), [h, w] = map.shape;
  const top = Math.max(Math.abs(map.min), Math.abs(map.max)) || 1;
  const heat = (v) => r.signed ? colour(v / top) : inferno(v / top);
  paint($("why-heat"), h, w, (i) => [...heat(map.data[i]), 255]);
  const base = inputGray(state.trace.input, h, w);
  paint($("why-overlay"), h, w, (i) => {           // the input dimmed, the map opaque where strong
    const a = 0.75 * Math.sqrt(Math.min(1, Math.abs(map.data[i]) / top)), c = heat(map.data[i]);
    return [0, 1, 2].map((k) => (1 - a) * 0.8 * base[3 * i + k] + a * c[k]).concat(255);
  });
  const bar = $("why-colorbar"), ctx = bar.getContext("2d");
  for (let x = 0; x < bar.width; x++) {
    const t = x / (bar.width - 1);
    ctx.fillStyle = `rgb(${r.signed ? colour(2 * t - 1) : inferno(t)})`; ctx.fillRect(x, 0, 1, bar.height);
  }
  $("why-lo").textContent = fmt(r.signed ? -top : 0); $("why-hi").textContent = fmt(top);
  const heatCap = r.method === "grad-cam" ? `Grad-CAM of ${r.layer.name} (${r.attribution.shape.join("×")}), upsampled to ${h}×${w}`
    : r.method === "occlusion" ? `window ${r.window}×${r.window}, stride ${r.stride}`
      : r.attribution.shape[0] > 1 ? (r.signed ? "summed over the colour channels" : "largest over the colour channels") : "the map alone";
  $("why-heat-cap").textContent = heatCap;
  const t = state.trace;
  $("why-overlay-cap").textContent = "the map over the input: " +
    (t.sample !== undefined ? `sample ${t.sample}, true label ${t.label_name}` : t.source === "pixels" ? "your drawing" : t.source || "");
  const p = r.probabilities;
  $("why-title").textContent = `${label(r.method)} for "${r.target_name}" (p = ${fmt(p[r.target], 3)})` +
    (r.target === r.predicted ? ", the predicted class" : `; predicted "${r.predicted_name}" (p = ${fmt(p[r.predicted], 3)})`);
  const b = $("why-bars"); b.innerHTML = ""; b.append(bars(p, r.classes, state.trace.label));
  b.firstChild.id = "why-prob-bars";
  b.querySelectorAll(".bar-row").forEach((row) => {
    const k = +row.dataset.class;
    row.classList.toggle("target", k === r.target);
    row.title = `explain "${r.classes[k]}"`;
    row.addEventListener("click", () => { target = k; update(); });
  });
  $("why-about").textContent = ABOUT[r.method].replace("BASELINE", baseline());
  $("why-check").replaceChildren();
  if (r.method === "integrated-gradients") $("why-check").append(
    `Completeness: Σ attributions = ${fmt(r.sum, 4)}, z(x) − z(baseline) = ${fmt(r.difference, 4)}; error `,
    el("b", { id: "why-error", "data-value": r.error, text: r.error.toExponential(2) }), ` (${r.steps}-point quadrature)`);
  state.why = { method: r.method, target: r.target, input_id: r.input_id, map: map.data, shape: map.shape,
    layer: r.layer ? r.layer.index : null, window: r.window || null };
  $("why-heat").dataset.method = r.method; $("why-heat").dataset.target = r.target;
}

function label(method) { return $("why-method").querySelector(`option[value='${method}']`).textContent.split(" |")[0]; }

function inferno(t) {
  t = Math.max(0, Math.min(1, t)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(t)), f = t - i;
  return [0, 1, 2].map((k) => INFERNO[i][k] + f * (INFERNO[i + 1][k] - INFERNO[i][k]));
}

// The input as RGB 0..255 per pixel (gray stretched to its range, as the overview draws it).
function inputGray(enc, h, w) {
  const a = decode(enc), c = a.shape[0], n = h * w, out = new Float32Array(3 * n);
  const span = a.max > a.min ? a.max - a.min : 1;
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[3 * i + k] = 255 * (a.data[(c === 3 ? k * n : 0) + i] - a.min) / span;
  return out;
}

function paint(canvas, h, w, rgba) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) img.data.set(rgba(i), 4 * i);
  ctx.putImageData(img, 0, 0);
}
