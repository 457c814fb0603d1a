// views/input.js — the input panel: its sub-tabs (Samples, Draw, Upload) and the "Model input"
// card (the current input and the prediction). runInput() is how the gallery, the drawing pad
// and the page's start make an input the current one; the upload view sets its trace itself.

import { postJSON } from "../lib/api.js";
import { $, fmt, status } from "../lib/dom.js";
import { drawInput } from "../lib/draw.js";
import { on, setTrace } from "../lib/state.js";

export function init() {
  const buttons = document.querySelectorAll("#input-panel .subtabs button");
  buttons.forEach((b) => b.addEventListener("click", () => {
    buttons.forEach((x) => x.classList.toggle("active", x === b));
    document.querySelectorAll(".input-view").forEach((v) => v.classList.toggle("active", v.id === `input-${b.dataset.input}`));
  }));
  on("trace", ({ trace: t, caption }) => {
    drawInput($("input-preview"), t.input);
    const cap = caption || (t.sample !== undefined ? `sample ${t.sample} · true label: ${t.label_name}` : t.source || "");
    $("input-caption").textContent = `${cap} · predicted: ${t.predicted_name} (${fmt(t.probabilities[t.predicted], 3)})`;
  });
}

// body: {sample: i} | {pixels: [[…]]}; the caption defaults to what the trace says it came from.
export async function runInput(body, caption) {
  try {
    const t = await postJSON("/api/infer", body);
    setTrace(t, caption);     // not awaited: a detail panel refreshing after it does not hold up the input
    return t;
  } catch (e) { status(e.message, true); }
}
