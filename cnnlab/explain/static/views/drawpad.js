// views/drawpad.js — the Draw sub-tab: strokes on a 280×280 canvas, downsampled to the model's
// H×W and run as you draw, with at most one request in flight (state.drawBusy; the latest
// drawing wins). Drawing is offered for grayscale models only.

import { $, el } from "../lib/dom.js";
import { on, state } from "../lib/state.js";
import { runInput } from "./input.js";

let pending = false;

export function init() {
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
  on("model", (m) => { if (!m.grayscale) { $("draw-tab").disabled = true; $("draw-tab").title = "drawing is for grayscale models"; } });
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
  const [, h, w] = state.model.input_shape;
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

async function predictDrawing() {
  if (state.drawBusy) { pending = true; return; }
  state.drawBusy = true;
  try { await runInput({ pixels: drawingPixels() }, "your drawing"); }
  finally {
    state.drawBusy = false;
    if (pending) { pending = false; predictDrawing(); }
  }
}
