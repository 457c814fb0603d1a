// views/shift.js — the Shift tab: the current input moved by whole pixels (sliders), the
// model's probabilities for it, and the probability of the predicted class against every
// horizontal and vertical shift. Owns the sliders' debounce, the unshifted input it shifts from,
// and the last sweep.

import { api, postJSON } from "../lib/api.js";
import { $, fmt, status } from "../lib/dom.js";
import { bars, drawInput, lineChart } from "../lib/draw.js";
import { on, state } from "../lib/state.js";

export const tab = "shift";

let timer = null;
let base = null;       // {from: the trace's input_id, id: the unshifted input it shifts}
let sweep = null;      // {id, r: /api/shift's answer}

export function init() {
  ["shift-x", "shift-y"].forEach((id) => $(id).addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(show, 60); }));
  on("model", (m) => ["shift-x", "shift-y"].forEach((id) => { $(id).min = -m.max_shift; $(id).max = m.max_shift; }));
}

export async function show() {
  if (!state.trace) return;
  const dx = +$("shift-x").value, dy = +$("shift-y").value;
  $("shift-x-v").textContent = dx; $("shift-y-v").textContent = dy;
  const id = base && base.from === state.trace.input_id ? base.id : state.trace.input_id;
  base = { from: state.trace.input_id, id };
  let t;
  try { t = await postJSON("/api/infer", { input_id: id, shift: [dx, dy] }); }
  catch (e) { status(e.message, true); return; }
  drawInput($("shift-canvas"), t.input);
  $("shift-canvas").style.width = "168px"; $("shift-canvas").style.height = "168px";
  $("shift-caption").textContent = `shift (${dx}, ${dy}) · predicted ${t.predicted_name} (${fmt(t.probabilities[t.predicted], 2)})`;
  const b = $("shift-bars"); b.innerHTML = ""; b.append(bars(t.probabilities, t.classes, state.trace.label));
  b.firstChild.id = "shift-prob-bars";
  if (!sweep || sweep.id !== id) {
    try { sweep = { id, r: await api(`/api/shift?input_id=${id}&max_shift=8`) }; } catch (e) { return; }
  }
  const r = sweep.r, k = state.trace.predicted;
  const plot = lineChart([
    { name: `horizontal: p(${r.classes[k]})`, x: r.shifts, y: r.horizontal.map((p) => p[k]) },
    { name: `vertical: p(${r.classes[k]})`, x: r.shifts, y: r.vertical.map((p) => p[k]) }],
    `probability of "${r.classes[k]}" against the shift`, "probability", 600, 300);
  plot.querySelectorAll(".axis-label")[0].textContent = "shift (pixels)";
  $("shift-plot").replaceWith(plot); plot.id = "shift-plot";
}
