// views/softmax.js — the softmax table in the detail panel: flatten → logits → exp → ÷ Σ for the
// current trace, as the server computed it. Opens on the "softmax" topic (the overview's link)
// and clears the selected position, so a new trace does not replace it with a layer's detail.

import { api } from "../lib/api.js";
import { $, el, fmt, status } from "../lib/dom.js";
import { on, select, state } from "../lib/state.js";

export function init() {
  on("softmax", show);
}

async function show() {
  const { selected, trace } = state;
  let d;
  try { d = await api(`/api/softmax?input_id=${trace.input_id}`); } catch (e) { status(e.message, true); return; }
  if (state.selected !== selected || state.trace !== trace) return;   // a click or input came first
  select(null);
  const box = $("detail"); box.classList.remove("hidden"); box.innerHTML = ""; box.dataset.kind = "softmax";
  box.append(el("h2", { text: "Flatten → logits → softmax" }));
  const flat = state.trace.layers.find((l) => l.kind === "Flatten");
  if (flat) box.append(el("p", { text: `Flatten turns the ${flat.in_shape.join("×")} feature maps into one vector of ${flat.shape[0]} numbers; the linear layers map it to ${d.logits.length} logits.` }));
  box.append(el("p", { class: "formula", text: `pᵢ = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z);  max z = ${fmt(d.max)},  Σ = ${fmt(d.sum, 4)}` }));
  const t = el("table", { class: "tbl", id: "softmax-table" }, el("tr", {}, ...["class", "logit z", "z − max", "exp", "÷ Σ = p"].map((h) => el("th", { text: h }))));
  d.classes.forEach((c, k) => t.append(el("tr", {}, el("td", { text: c }), el("td", { text: fmt(d.logits[k], 3) }),
    el("td", { text: fmt(d.shifted[k], 3) }), el("td", { text: fmt(d.exps[k], 4) }), el("td", { text: fmt(d.probabilities[k], 4), "data-value": d.probabilities[k] }))));
  box.append(t);
}
