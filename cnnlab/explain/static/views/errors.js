// views/errors.js — the Errors tab: the model's confusion matrix on the test set with counts, the
// most-confused pairs and per-class precision, recall and F1 (/api/errors). A click on a cell (or
// a pair) lists that cell's images, highest loss first (/api/errors/cell); a click on an image
// makes it the current input (input.runInput) and opens the Why tab on its Grad-CAM. Owns the
// analysis it loaded, the open cell and its page.

import { api } from "../lib/api.js";
import { $, el, fmt, status } from "../lib/dom.js";
import { openView, state } from "../lib/state.js";
import { runInput } from "./input.js";

export const tab = "errors";

const pageSize = 48;
let summary = null, loading = null, cell = null, page = 0;

export function init() {
  $("errors-prev").addEventListener("click", () => { page--; openCell(cell.true, cell.predicted); });
  $("errors-next").addEventListener("click", () => { page++; openCell(cell.true, cell.predicted); });
}

export async function show() {
  if (summary || loading) return;
  $("errors-summary").textContent = "Running the model over the test set…";
  loading = api("/api/errors");
  try { summary = await loading; } catch (e) { $("errors-summary").textContent = e.message; loading = null; return; }
  render();
}

function render() {
  const s = summary;
  if (!s.available) { $("errors-summary").textContent = s.note; return; }
  $("errors-summary").textContent = `${s.images.toLocaleString()} test images${s.note ? ` (${s.note})` : ""} · accuracy ${fmt(100 * s.accuracy, 1)}% · ` +
    "rows: true class, columns: predicted. Click a cell to see its images.";
  $("errors-matrix").replaceChildren(matrix(s));
  const top = s.most_confused.slice(0, 8);
  $("errors-confused").replaceChildren(el("h3", { text: "Most confused (true → predicted)" }),
    top.length ? el("ol", { id: "errors-pairs" }, ...top.map((m) => el("li", {},
      el("button", { class: "link", onclick: () => { page = 0; openCell(m.true, m.predicted); } , text: `${m.true_name} → ${m.predicted_name}: ${m.count}` }))))
      : el("p", { class: "hint", text: "No mistakes." }));
  const t = el("table", { class: "tbl", id: "errors-per-class" },
    el("tr", {}, ...["class", "precision", "recall", "F1", "images"].map((h) => el("th", { text: h }))));
  for (const c of s.per_class) t.append(el("tr", {}, el("td", { text: c.class }), el("td", { text: fmt(c.precision, 3) }),
    el("td", { text: fmt(c.recall, 3) }), el("td", { text: fmt(c.f1, 3) }), el("td", { text: c.support })));
  $("errors-classes").replaceChildren(el("h3", { text: "Per class" }), t);
  if (top.length) openCell(top[0].true, top[0].predicted);
}

// Diagonal cells (right) in blue by their share of the row, mistakes in red by their count.
function matrix(s) {
  const cm = s.confusion_matrix, K = cm.length;
  const worst = Math.max(1, ...cm.flatMap((row, i) => row.filter((_, j) => j !== i)));
  const t = el("table", { class: "confusion errors-matrix", id: "errors-table" });
  t.append(el("tr", {}, el("th", { text: "true \\ predicted" }), ...s.classes.map((c) => el("th", { class: "col", text: c }))));
  cm.forEach((row, i) => {
    const tr = el("tr", {}, el("th", { text: s.classes[i] }));
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const td = el("td", { text: v, "data-true": i, "data-pred": j, "data-count": v, title: `true ${s.classes[i]}, predicted ${s.classes[j]}: ${v}` });
      const a = i === j ? v / total : v / worst;
      td.style.background = i === j ? `rgba(33,102,172,${a})` : `rgba(178,24,43,${a})`;
      if (a > 0.55) td.style.color = "#fff";
      if (v) { td.classList.add("pick"); td.addEventListener("click", () => { page = 0; openCell(i, j); }); }
      tr.append(td);
    });
    t.append(tr);
  });
  return t;
}

async function openCell(t, p) {
  cell = { true: t, predicted: p };
  document.querySelectorAll("#errors-table td").forEach((td) => td.classList.toggle("open", +td.dataset.true === t && +td.dataset.pred === p));
  let r;
  try { r = await api(`/api/errors/cell?true=${t}&predicted=${p}&offset=${page * pageSize}&count=${pageSize}`); }
  catch (e) { status(e.message, true); return; }
  if (cell.true !== t || cell.predicted !== p) return;           // another cell was clicked meanwhile
  const right = t === p;
  $("errors-cell-title").textContent = `True ${r.true_name}, predicted ${r.predicted_name}: ${r.total} image${r.total === 1 ? "" : "s"}` +
    (r.total ? `, highest loss first. Click one to see ${hasConv() ? "its Grad-CAM" : "why"}.` : "");
  const box = $("errors-images"); box.innerHTML = "";
  Object.assign(box.dataset, { true: t, pred: p, total: r.total, offset: r.offset });
  for (const m of r.images) {
    box.append(el("button", { class: "err-img" + (right ? " right" : ""), "data-index": m.index,
      title: `test image ${m.index}: true ${m.true_name}, predicted ${m.predicted_name} (p = ${fmt(m.probability, 3)}), p(true) = ${fmt(m.true_probability, 3)}, loss ${fmt(m.loss, 3)}`,
      onclick: () => openImage(m) },
      el("img", { src: m.image, alt: `test image ${m.index}` }),
      el("span", { text: `#${m.index}` }),
      el("span", { class: "err-pred", text: `${m.predicted_name} ${fmt(m.probability, 2)}` }),
      el("span", { class: "hint", text: `true ${m.true_name}` })));
  }
  const pages = Math.max(1, Math.ceil(r.total / pageSize));
  $("errors-page").textContent = `${page + 1} / ${pages}`;
  $("errors-prev").disabled = page === 0; $("errors-next").disabled = page >= pages - 1;
}

// Grad-CAM needs a convolution; a model without one opens the Why tab on its current method.
const hasConv = () => state.model.layers.some((l) => l.kind === "Conv2d" && l.shape.length === 3);

async function openImage(m) {
  const t = await runInput({ sample: m.index });
  if (t) await openView("why", hasConv() ? { method: "grad-cam" } : {});
}
