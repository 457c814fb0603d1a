// static/site/details.js — the arithmetic behind one value of one layer, for the static site:
// the same answers as cnnlab/explain/details.py (same fields, same checks, same messages),
// recomputed in the browser from the layer's own input (an output of the ONNX graph) and its
// weights (params.bin), in float64 sums of the float32 operands. Every answer also carries
// `activation`, the value onnxruntime produced there, so the page shows that both agree.
//
// A layer record here is {index, name, kind, L (site.json's layer), input, output} where input
// and output are {data: Float32Array, shape} without the batch dimension, and L's weight and
// bias entries are already Float32Arrays ({data, shape}).

export const ELEMENTWISE = {
  ReLU: "max(0, x)", ReLU6: "min(max(0, x), 6)", LeakyReLU: "x if x > 0 else slope·x",
  ELU: "x if x > 0 else α(eˣ − 1)", Sigmoid: "1 / (1 + e⁻ˣ)", Tanh: "tanh(x)",
  Dropout: "x (dropout is the identity at inference)", Dropout2d: "x (dropout is the identity at inference)",
  Identity: "x",
};
export const POOLS = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"];

export class DetailError extends Error {}

const range = (a, b) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
const prod = (xs) => xs.reduce((p, v) => p * v, 1);

export function intArg(value, name) {
  const v = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new DetailError(`\`${name}\` must be an integer, got ${JSON.stringify(value)}`);
  return v;
}

function checkPosition(rec, channel, y, x) {
  const shape = rec.output.shape;
  let pos, names;
  if (shape.length === 3) { pos = [intArg(channel, "channel"), intArg(y, "y"), intArg(x, "x")]; names = ["channel", "y", "x"]; }
  else if (shape.length === 1) { pos = [intArg(channel, "channel")]; names = ["channel"]; }
  else throw new DetailError(`layer ${rec.name} has output shape [${shape.join(", ")}]; details need (C, H, W) or (N,)`);
  pos.forEach((p, k) => {
    if (p < 0 || p >= shape[k]) throw new DetailError(`${names[k]}=${p} is out of range for layer ${rec.index} (${rec.name}, output shape [${shape.join(", ")}]): valid ${names[k]} is 0..${shape[k] - 1}`);
  });
  return pos;
}

const at = (a, idx) => {          // a[idx] of a {data, shape} array, idx a full index
  let off = 0;
  for (let k = 0; k < idx.length; k++) off = off * a.shape[k] + idx[k];
  return a.data[off];
};

// numpy.pad's modes, as the index each padded row or column reads (or -1 for a zero).
function padIndex(i, n, mode) {
  if (i >= 0 && i < n) return i;
  if (mode === "reflect") { const p = 2 * (n - 1); let j = ((i % p) + p) % p; return j < n ? j : p - j; }
  if (mode === "replicate") return Math.min(n - 1, Math.max(0, i));
  if (mode === "circular") return ((i % n) + n) % n;
  return -1;
}

export function convDetail(rec, channel, y, x) {
  const [c, yy, xx] = checkPosition(rec, channel, y, x), L = rec.L, w = L.weight;
  const [co, cinPer, kh, kw] = w.shape, [sh, sw] = L.stride, [dh, dw] = L.dilation, groups = L.groups;
  const [top, , left] = L.padding, mode = L.padding_mode;
  const g = Math.floor(c / (co / groups)), chans = range(g * cinPer, (g + 1) * cinPer);
  const [, H, W] = rec.input.shape;
  const inRows = range(0, kh).map((i) => yy * sh + i * dh - top), inCols = range(0, kw).map((j) => xx * sw + j * dw - left);
  const isPad = inRows.map((r) => inCols.map((q) => !(r >= 0 && r < H && q >= 0 && q < W)));
  const windows = [], kernel = [], products = [], channelSums = [];
  let absSum = 0;
  chans.forEach((ch, j) => {
    const win = inRows.map((r) => inCols.map((q) => {
      const rr = padIndex(r, H, mode), qq = padIndex(q, W, mode);
      return rr < 0 || qq < 0 ? 0 : at(rec.input, [ch, rr, qq]);
    }));
    const ker = range(0, kh).map((i) => range(0, kw).map((k) => w.data[((c * cinPer + j) * kh + i) * kw + k]));
    const pr = win.map((row, i) => row.map((v, k) => v * ker[i][k]));
    windows.push(win); kernel.push(ker); products.push(pr);
    channelSums.push(pr.flat().reduce((s, v) => s + v, 0));
    absSum += pr.flat().reduce((s, v) => s + Math.abs(v), 0);
  });
  const total = channelSums.reduce((s, v) => s + v, 0), bias = L.bias.data[c], result = total + bias;
  const activation = at(rec.output, [c, yy, xx]);
  return {
    kind: "conv", layer: rec.index, name: rec.name, channel: c, y: yy, x: xx,
    input_channels: chans, rows: inRows, cols: inCols, padding_mask: isPad, windows, kernel, products,
    channel_sums: channelSums, sum: total, bias, result, activation,
    stride: [sh, sw], padding: [top, left], dilation: [dh, dw], groups,
    match: Math.abs(result - activation) <= 1e-4 * (1 + absSum),
  };
}

// The rows and columns of pooling window (y, x), clipped to the input, and an average's divisor.
function poolWindow(L, kind, H, W, Ho, Wo, y, x) {
  if (L.adaptive) {
    const r0 = Math.floor(y * H / Ho), r1 = Math.ceil((y + 1) * H / Ho);
    const c0 = Math.floor(x * W / Wo), c1 = Math.ceil((x + 1) * W / Wo);
    return [range(r0, r1), range(c0, c1), (r1 - r0) * (c1 - c0)];
  }
  const [kh, kw] = L.kernel_size, [sh, sw] = L.stride, [ph, pw] = L.padding, [dh, dw] = L.dilation;
  let rows = range(0, kh).map((i) => y * sh - ph + i * dh), cols = range(0, kw).map((j) => x * sw - pw + j * dw);
  // PyTorch's average divisor counts padding cells but not cells past the padded edge.
  const full = (Math.min(y * sh - ph + kh, H + ph) - (y * sh - ph)) * (Math.min(x * sw - pw + kw, W + pw) - (x * sw - pw));
  rows = rows.filter((r) => r >= 0 && r < H); cols = cols.filter((q) => q >= 0 && q < W);
  const divisor = L.divisor_override ? L.divisor_override : L.count_include_pad ? full : rows.length * cols.length;
  return [rows, cols, divisor];
}

export function poolDetail(rec, channel, y, x) {
  const [c, yy, xx] = checkPosition(rec, channel, y, x);
  const [, H, W] = rec.input.shape, [, Ho, Wo] = rec.output.shape;
  const [rows, cols, divisor] = poolWindow(rec.L, rec.kind, H, W, Ho, Wo, yy, xx);
  const window = rows.map((r) => cols.map((q) => at(rec.input, [c, r, q])));
  const flat = window.flat(), sum = flat.reduce((s, v) => s + v, 0), isMax = rec.kind.includes("Max");
  let result, arg = null;
  if (isMax) {
    let best = 0;
    flat.forEach((v, k) => { if (v > flat[best]) best = k; });    // the first maximum, as PyTorch picks it
    result = flat[best]; arg = [rows[Math.floor(best / cols.length)], cols[best % cols.length]];
  } else result = sum / divisor;
  const activation = at(rec.output, [c, yy, xx]);
  return {
    kind: "pool", op: isMax ? "max" : "average", layer: rec.index, name: rec.name, channel: c, y: yy, x: xx,
    rows, cols, window, sum, divisor, argmax: arg, result, activation,
    match: Math.abs(result - activation) <= 1e-5 * (1 + Math.abs(activation)),
  };
}

export function elementwiseDetail(rec, channel, y = 0, x = 0, radius = 2) {
  const pos = checkPosition(rec, channel, y, x);
  if (rec.input.shape.join() !== rec.output.shape.join()) throw new DetailError(`layer ${rec.name} changes the shape; it is not element-wise`);
  let rows, cols, inputs, outputs;
  if (pos.length === 3) {
    const [c, yy, xx] = pos, [, H, W] = rec.output.shape;
    rows = range(Math.max(0, yy - radius), Math.min(H, yy + radius + 1));
    cols = range(Math.max(0, xx - radius), Math.min(W, xx + radius + 1));
    inputs = rows.map((r) => cols.map((q) => at(rec.input, [c, r, q])));
    outputs = rows.map((r) => cols.map((q) => at(rec.output, [c, r, q])));
  } else {
    const i = pos[0], a = Math.max(0, i - radius * radius), b = Math.min(rec.output.shape[0], i + radius * radius + 1);
    rows = [0]; cols = range(a, b);
    inputs = [cols.map((j) => rec.input.data[j])]; outputs = [cols.map((j) => rec.output.data[j])];
  }
  return {
    kind: "elementwise", op: rec.kind, formula: ELEMENTWISE[rec.kind] || rec.kind, layer: rec.index, name: rec.name,
    position: pos, rows, cols, inputs, outputs, value_in: at(rec.input, pos), activation: at(rec.output, pos),
    result: at(rec.output, pos),
  };
}

export function linearDetail(rec, channel, top = 12) {
  const [j] = checkPosition(rec, channel, 0, 0), w = rec.L.weight, n = w.shape[1];
  const xin = rec.input.data, products = new Float64Array(n);
  let total = 0, absSum = 0;
  for (let i = 0; i < n; i++) { products[i] = w.data[j * n + i] * xin[i]; total += products[i]; absSum += Math.abs(products[i]); }
  const order = range(0, n).sort((a, b) => Math.abs(products[b]) - Math.abs(products[a])).slice(0, top);
  const bias = rec.L.bias.data[j], activation = rec.output.data[j];
  return {
    kind: "linear", layer: rec.index, name: rec.name, channel: j, n_inputs: xin.length, top_inputs: order,
    top_x: order.map((i) => xin[i]), top_w: order.map((i) => w.data[j * n + i]), top_products: order.map((i) => products[i]),
    sum: total, bias, result: total + bias, activation, match: Math.abs(total + bias - activation) <= 1e-4 * (1 + absSum),
  };
}

export function flattenDetail(rec, channel) {
  const [i] = checkPosition(rec, channel, 0, 0), shape = rec.input.shape, src = [];
  let rest = i;
  for (let k = shape.length - 1; k >= 0; k--) { src.unshift(rest % shape[k]); rest = Math.floor(rest / shape[k]); }
  const letters = "cyx".slice(-shape.length);
  const formula = [...letters].map((n, k) => (k < shape.length - 1 ? `${n}·${prod(shape.slice(k + 1))}` : n)).join(" + ");
  return {
    kind: "flatten", layer: rec.index, name: rec.name, channel: i, source: src, in_shape: shape,
    length: rec.output.data.length, formula, value_in: at(rec.input, src), activation: rec.output.data[i],
    result: at(rec.input, src),
  };
}

// Logits → minus their max → exponentials → divided by their sum (cnnlab.inspect.softmax_steps).
export function softmaxSteps(output, kind) {
  let logits = Array.from(output);
  if (kind === "probabilities") logits = logits.map((v) => Math.log(Math.max(v, 1e-300)));
  const max = Math.max(...logits), shifted = logits.map((v) => v - max), exps = shifted.map(Math.exp);
  const sum = exps.reduce((s, v) => s + v, 0);
  return { logits, max, shifted, exps, sum, probabilities: exps.map((v) => v / sum) };
}

// Class probabilities from the model's output (cnnlab.inspect.probabilities).
export function probabilities(output, kind) {
  if (kind === "probabilities") return Array.from(output);
  if (kind === "log-probabilities") return Array.from(output, Math.exp);
  return softmaxSteps(output, "logits").probabilities;
}

export function detail(rec, channel = 0, y = 0, x = 0) {
  if (rec.kind === "Conv2d") return convDetail(rec, channel, y, x);
  if (POOLS.includes(rec.kind)) return poolDetail(rec, channel, y, x);
  if (rec.kind === "Linear") return linearDetail(rec, channel);
  if (rec.kind === "Flatten" || (rec.input.shape.length > 1 && rec.output.shape.length === 1)) return flattenDetail(rec, channel);
  if (rec.input.shape.join() === rec.output.shape.join()) return elementwiseDetail(rec, channel, y, x);
  const pos = checkPosition(rec, channel, y, x);
  return { kind: "other", layer: rec.index, name: rec.name, op: rec.kind, activation: at(rec.output, pos), result: at(rec.output, pos) };
}
