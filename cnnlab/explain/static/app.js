// cnnlab explain: the page's entry module. Plain ES modules, no build step, nothing from the
// network beyond this server; every number shown comes from the server's JSON, the page only
// draws. This module wires the views together: it starts each one, routes the tabs, loads the
// model and the first input, and marks the page ready (body[data-ready="1"]).
//
// Layout
//   lib/state.js   the shared state (model, current trace, selected position, colour scale)
//                  and its topics: views change it with setters and hear of it with on()
//   lib/api.js     requests to the server, the client id, the array wire format
//   lib/draw.js    colour map, feature maps and images on canvas, probability bars, line chart
//   lib/dom.js     $, el, svg, fmt and the status line
//   views/*.js     one module per view; a view touches only its own part of index.html
//
// Adding a view (say "Why", "Errors" or "Backward")
//   1. Write views/why.js exporting `init()`: find its elements, add its listeners, and subscribe
//      with on("trace" | "model" | "select" | …) to what it shows. Keep the view's own state
//      (timers, caches, page numbers) as module variables, not in state.js.
//   2. If it is a tab, also export `tab = "why"` and `show()` (called when the tab opens; load
//      or redraw there) and, if it runs timers, `hide()` (called when another tab opens).
//   3. Add its markup to index.html: a <button data-tab="why"> in #tabs, a
//      <section id="tab-why" class="tab"> with the elements it owns (ids prefixed by the view),
//      and <link rel="modulepreload" href="/static/views/why.js"> in <head> (so that the browser
//      fetches every module at once, not one import level at a time; a test checks the list).
//   4. Import it below and add it to VIEWS. Nothing else changes.
//   State that another view needs goes into lib/state.js with a setter that notifies a topic;
//   a view never calls another view's functions (the input sources call input.runInput, the
//   panel they belong to). Each module starts with a comment saying what it owns.

import { api } from "./lib/api.js";
import { $, status } from "./lib/dom.js";
import { on, setModel, state } from "./lib/state.js";
import * as backward from "./views/backward.js";
import * as detail from "./views/detail.js";
import * as errors from "./views/errors.js";
import * as drawpad from "./views/drawpad.js";
import * as filters from "./views/filters.js";
import * as gallery from "./views/gallery.js";
import * as input from "./views/input.js";
import * as overview from "./views/overview.js";
import * as playground from "./views/playground.js";
import * as shift from "./views/shift.js";
import * as softmax from "./views/softmax.js";
import * as training from "./views/training.js";
import * as upload from "./views/upload.js";
import * as why from "./views/why.js";

// In page order: on a new trace, listeners run in this order (the overview before the detail).
const VIEWS = [input, gallery, drawpad, upload, overview, detail, softmax, playground, training, filters, shift,
  why, errors, backward];

window.S = state;   // the shared state, for the console and the browser tests

function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((x) => x.classList.toggle("active", x.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${name}`));
  for (const v of VIEWS) {
    if (!v.tab) continue;
    if (v.tab === name) v.show(); else if (v.hide) v.hide();
  }
}

async function main() {
  for (const v of VIEWS) v.init();
  on("trace", () => status(""));
  on("open", ({ tab }) => showTab(tab));
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  let m;
  try { m = await api("/api/model"); } catch (e) { status(e.message, true); return; }
  $("model-name").textContent = `— ${m.model}${m.dataset ? " on " + m.dataset : ""} · input ${m.input_shape.join("×")}`;
  await setModel(m);                      // the gallery loads its first page
  if (m.n_samples) await input.runInput({ sample: 0 });
  else {
    const [c, h, w] = m.input_shape, plane = () => Array.from({ length: h }, () => new Array(w).fill(0));
    await input.runInput({ pixels: c === 1 ? plane() : Array.from({ length: c }, plane) }, "blank input");
  }
  document.body.dataset.ready = "1";
}

main();
