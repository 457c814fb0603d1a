// static/site/backend.js — answers the explainer page's API in the browser, so that the live
// page's views run unchanged from a static folder. What cnnlab/explain/service.py answers on a
// server comes from here: the model description and the samples from site.json/samples.bin,
// every activation from onnxruntime-web running model.onnx (each layer's output is an output of
// the graph), the details from details.js, uploads from images.js, the run from run.json.
// Owns the traces of this tab's recent inputs (the server's TraceStore, for one client).

import { setTransport } from "../lib/api.js";
import * as D from "./details.js";
import { UploadError, uploadInput } from "./images.js";
import * as M from "./model.js";

const KEEP = 8;               // recent traces kept, so a detail can name an earlier input
const traces = new Map();     // input_id → trace, least recent first
let site = null;

const ready = (async () => {
  const get = async (url, how) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}; the exported folder is incomplete`);
    return r[how]();
  };
  const [s, params, samples, run, session] = await Promise.all([
    get("site.json", "json"), get("params.bin", "arrayBuffer"), get("samples.bin", "arrayBuffer"),
    get("run.json", "json"), M.session]);
  const array = (e) => ({ shape: e.shape, data: new Float32Array(params, e.offset, e.shape.reduce((p, v) => p * v, 1)) });
  for (const L of s.layers) { if (L.weight) L.weight = array(L.weight); if (L.bias) L.bias = array(L.bias); }
  s.sampleInputs = new Float32Array(samples);
  s.run = run;
  s.session = session;
  site = s;
  return s;
})();

class HttpError extends Error {
  constructor(message, status = 400) { super(message); this.status = status; }
}

// ---------------------------------------------------------------- arrays and ids
function enc(data, shape) {
  let min = Infinity, max = -Infinity;
  for (const v of data) { if (v < min) min = v; if (v > max) max = v; }
  return { shape, data, min: data.length ? min : 0, max: data.length ? max : 0 };
}

function inputId(x) {      // a content hash: the same pixels always get the same id (FNV-1a, two lanes)
  const b = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ b.length;
  for (let i = 0; i < b.length; i++) { h1 = Math.imul(h1 ^ b[i], 16777619); h2 = Math.imul(h2 ^ b[i], 2246822519) ^ (h2 >>> 13); }
  return [h1, h2].map((h) => (h >>> 0).toString(16).padStart(8, "0")).join("");
}

const inputShape = () => site.model.input_shape;
const size = (shape) => shape.reduce((p, v) => p * v, 1);

// ---------------------------------------------------------------- running the model
async function traceOf(x) {
  const id = inputId(x);
  if (traces.has(id)) { const t = traces.get(id); traces.delete(id); traces.set(id, t); return t; }
  const out = await M.run(site.session, x, [1, ...inputShape()]);
  const values = { input: x, ...out };
  const layers = site.layers.map((L) => ({
    index: L.index, name: L.name, kind: L.kind, L,
    input: { data: values[L.input_value], shape: L.in_shape }, output: { data: values[L.value], shape: L.shape },
  }));
  const logits = Array.from(out.output);
  const t = { input_id: id, input: x, layers, logits, probabilities: D.probabilities(logits, site.output_kind) };
  traces.set(id, t);
  while (traces.size > KEEP) traces.delete(traces.keys().next().value);
  return t;
}

function traceOfId(id) {
  const t = traces.get(String(id));
  if (!t) throw new HttpError(`unknown input_id ${JSON.stringify(String(id).slice(0, 40))}: this page holds its ${KEEP} most recent inputs; run the input again`, 404);
  return t;
}

function traceJson(t, info) {
  const best = t.probabilities.indexOf(Math.max(...t.probabilities));
  return {
    input_id: t.input_id, input: enc(t.input, inputShape()), ...info,
    layers: t.layers.map((r) => ({ index: r.L.index, name: r.L.name, kind: r.L.kind, extra: r.L.extra, in_shape: r.L.in_shape,
      shape: r.L.shape, data: enc(r.output.data, r.L.shape) })),
    logits: t.logits, probabilities: t.probabilities, output_kind: site.output_kind, classes: site.classes,
    predicted: best, predicted_name: site.classes[best],
  };
}

// Move the image content by (dx, dy) pixels, filling with the background (the minimum).
function shifted(x, dx, dy) {
  const [C, H, W] = inputShape(), out = new Float32Array(x.length).fill(Math.min(...x));
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) {
    const ys = y - dy; if (ys < 0 || ys >= H) continue;
    for (let xx = 0; xx < W; xx++) { const xs = xx - dx; if (xs >= 0 && xs < W) out[(c * H + y) * W + xx] = x[(c * H + ys) * W + xs]; }
  }
  return out;
}

function pixelsInput(pixels) {
  const [C, H, W] = inputShape(), flat = [];
  const rows = C === 1 && Array.isArray(pixels) && Array.isArray(pixels[0]) && !Array.isArray(pixels[0][0]) ? [pixels] : pixels;
  const bad = () => new HttpError(`\`pixels\` must have shape ${C === 1 ? `[${H}, ${W}]` : `[${C}, ${H}, ${W}]`}`);
  if (!Array.isArray(rows) || rows.length !== C) throw bad();
  for (const plane of rows) {
    if (!Array.isArray(plane) || plane.length !== H) throw bad();
    for (const row of plane) { if (!Array.isArray(row) || row.length !== W) throw bad(); flat.push(...row); }
  }
  if (!flat.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1)) throw new HttpError("`pixels` values must be finite numbers in [0, 1]");
  const norm = site.pixels_normalize, n = H * W, x = new Float32Array(flat);
  if (norm) for (let c = 0; c < C; c++) {
    const mean = Math.fround(norm[0][c]), std = Math.fround(norm[1][c]);
    for (let i = c * n; i < (c + 1) * n; i++) x[i] = Math.fround(x[i] - mean) / std;
  }
  return x;
}

async function infer(body) {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new HttpError("the request body must be a JSON object");
  const sources = ["sample", "pixels", "input_id"].filter((k) => k in body);
  if (sources.length !== 1) throw new HttpError("give exactly one of `sample`, `pixels` or `input_id`");
  let x, info;
  if ("sample" in body) {
    const i = D.intArg(body.sample, "sample"), n = site.samples.length;
    if (i < 0 || i >= n) throw new HttpError(n ? `sample ${i} is out of range: valid 0..${n - 1}` : "this site has no samples; draw or upload an input instead", 404);
    const k = size(inputShape());
    x = site.sampleInputs.slice(i * k, (i + 1) * k);
    const s = site.samples[i];
    info = { sample: i, label: s.label, label_name: s.label_name };
  } else if ("pixels" in body) { x = pixelsInput(body.pixels); info = { source: "pixels" }; }
  else { x = traceOfId(body.input_id).input; info = { source: "input_id" }; }
  if (body.shift != null) {
    if (!Array.isArray(body.shift) || body.shift.length !== 2) throw new HttpError(`\`shift\` must be [dx, dy], got ${JSON.stringify(body.shift)}`);
    const [dx, dy] = body.shift.map((s) => D.intArg(s, "shift")), m = site.model.max_shift;
    if (Math.max(Math.abs(dx), Math.abs(dy)) > m) throw new HttpError(`\`shift\` components must be within ±${m}, got [${dx}, ${dy}]`);
    x = shifted(x, dx, dy); info.shift = [dx, dy];
  }
  return traceJson(await traceOf(x), info);
}

async function shiftSweep(id, maxShift) {
  const k = D.intArg(maxShift, "max_shift"), m = site.model.max_shift;
  if (k < 1 || k > m) throw new HttpError(`\`max_shift\` must be in 1..${m}, got ${k}`);
  const x = traceOfId(id).input, shifts = [];
  for (let s = -k; s <= k; s++) shifts.push(s);
  const xs = [...shifts.map((s) => shifted(x, s, 0)), ...shifts.map((s) => shifted(x, 0, s))], n = x.length;
  const batch = new Float32Array(xs.length * n);
  xs.forEach((a, j) => batch.set(a, j * n));
  const out = (await M.run(site.session, batch, [xs.length, ...inputShape()], ["output"])).output, K = out.length / xs.length;
  const probs = xs.map((_, j) => D.probabilities(out.subarray(j * K, (j + 1) * K), site.output_kind));
  return { shifts, horizontal: probs.slice(0, shifts.length), vertical: probs.slice(shifts.length), classes: site.classes };
}

function filters(layer) {
  const convs = site.layers.filter((L) => L.kind === "Conv2d");
  if (!convs.length) throw new HttpError("the model has no Conv2d layer", 404);
  let L = convs[0];
  if (layer !== null) {
    const li = D.intArg(layer, "layer");
    L = convs.find((c) => c.index === li);
    if (!L) throw new HttpError(`layer ${li} is not a Conv2d; conv layers are [${convs.map((c) => c.index).join(", ")}]`, 404);
  }
  return { layer: L.index, name: L.name, extra: L.extra, weights: enc(L.weight.data, L.weight.shape),
    rgb: L.weight.shape[1] === 3, conv_layers: convs.map((c) => c.index) };
}

function samples(offset, count) {
  const o = D.intArg(offset, "offset"), c = D.intArg(count, "count");
  if (o < 0 || c < 1 || c > 100) throw new HttpError(`need offset ≥ 0 and 1 ≤ count ≤ 100, got offset=${o}, count=${c}`);
  return { total: site.samples.length, samples: site.samples.slice(o, o + c) };
}

function layerOf(t, layer) {
  const i = D.intArg(layer, "layer");
  if (i < 0 || i >= t.layers.length) throw new HttpError(`layer ${i} is out of range: the model has layers 0..${t.layers.length - 1}`, 404);
  return t.layers[i];
}

// ---------------------------------------------------------------- the routes
async function answer(path, opts) {
  await ready;
  const u = new URL(path, "http://page/"), q = (k, d = null) => u.searchParams.get(k) ?? d;
  const need = (k) => { const v = q(k); if (v === null) throw new HttpError(`missing query parameter \`${k}\``); return v; };
  switch (u.pathname) {
    case "/api/model": return site.model;
    case "/api/samples": return samples(q("offset", 0), q("count", 24));
    case "/api/infer": {
      let body;
      try { body = JSON.parse(opts.body); } catch (e) { throw new HttpError(`the request body is not valid JSON: ${e.message}`); }
      return infer(body);
    }
    case "/api/upload": {
      const file = opts.body && typeof opts.body.get === "function" ? opts.body.get("file") : opts.body;
      const { array, steps } = await uploadInput(file, site.model, site.image_normalize);
      return traceJson(await traceOf(array), { source: "upload", steps });
    }
    case "/api/detail": {
      const rec = layerOf(traceOfId(need("input_id")), need("layer"));
      return D.detail(rec, q("channel", 0), q("y", 0), q("x", 0));
    }
    case "/api/softmax": {
      const t = traceOfId(need("input_id")), s = D.softmaxSteps(t.logits, site.output_kind);
      return { kind: "softmax", output_kind: site.output_kind, classes: site.classes, logits: s.logits, max: s.max,
        shifted: s.shifted, exps: s.exps, sum: s.sum, probabilities: s.probabilities, model_probabilities: t.probabilities };
    }
    case "/api/filters": return filters(q("layer"));
    case "/api/shift": return shiftSweep(need("input_id"), q("max_shift", 6));
    case "/api/run": return site.run;
    case "/api/filters/history": return site.run.filters_history || { available: false, note: "this export holds no filter snapshots" };
    default: throw new HttpError(`${u.pathname} is not available on the static site`, 404);
  }
}

setTransport(async (path, opts = {}) => {
  try { return await answer(path, opts); }
  catch (e) {
    if (!(e instanceof HttpError || e instanceof D.DetailError || e instanceof UploadError)) console.error(e);
    throw new Error(e.message);
  }
});
