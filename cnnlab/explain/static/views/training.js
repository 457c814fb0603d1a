// views/training.js — the Training tab: loss and accuracy curves per epoch and the confusion
// matrix of the run attached to the model (/api/run), or the server's note when there is none.

import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { lineChart } from "../lib/draw.js";

export const tab = "training";

export function init() {}

export async function show() {
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
