// views/gallery.js — the Samples sub-tab: pages of test-set thumbnails with their labels; a
// click runs that sample. Owns the page number; the sample of the current trace is highlighted.

import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { on, state } from "../lib/state.js";
import { runInput } from "./input.js";

let page = 0;
const pageSize = 24;

export function init() {
  $("prev-page").addEventListener("click", () => { page--; load(); });
  $("next-page").addEventListener("click", () => { page++; load(); });
  on("model", load);
  on("trace", highlight);
}

async function load() {
  const r = await api(`/api/samples?offset=${page * pageSize}&count=${pageSize}`);
  const g = $("gallery"); g.innerHTML = "";
  if (!r.total) { g.append(el("p", { class: "hint", text: "No dataset attached: draw or upload an input." })); return; }
  for (const s of r.samples) {
    const item = el("button", { class: "sample", "data-index": s.index, title: `sample ${s.index}: ${s.label_name}`,
      onclick: () => runInput({ sample: s.index }) },
      el("img", { src: s.image, alt: s.label_name }), el("span", { text: s.label_name }));
    g.append(item);
  }
  highlight();
  const pages = Math.ceil(r.total / pageSize);
  $("page-info").textContent = `${page + 1} / ${pages}`;
  $("prev-page").disabled = page === 0; $("next-page").disabled = page >= pages - 1;
}

function highlight() {
  const current = state.trace && state.trace.sample;
  document.querySelectorAll(".sample").forEach((s) => s.classList.toggle("active", current !== undefined && +s.dataset.index === current));
}
