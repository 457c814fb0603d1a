// lib/state.js — owns the state that several views share, and the one way to change it.
//
//   model     the server's /api/model answer (name, input shape, classes, layers)
//   trace     the current input's /api/infer answer, plus `decoded` (its layer arrays decoded)
//   selected  the position whose arithmetic the detail panel shows: {layer, channel, y, x} or null
//   autoMax, scaleMax, perLayer   the overview's colour scale (layerScale(i) reads them)
//   drawBusy  a request from the drawing pad is in flight
//   why       the Why view's last drawn map ({method, target, input_id, map}); read by the tests
//
// A view's private state (the gallery's page, an animation timer) stays in the view's module.
// Change shared state with the setters below. Each notifies the listeners of its topic, in the
// order they subscribed (app.js initialises the views in page order, so the overview redraws on a
// new trace before the detail panel marks its selected map), and returns a promise that settles
// when every listener has finished.
//
// Topics: "model" (model), "trace" ({trace, caption}), "select" (selected or null),
//         "softmax" (the softmax table was asked for), "scale" (the colour scale changed),
//         "open" ({tab, ...options}: a view asks for a tab to open, e.g. the Why tab on Grad-CAM).

import { decode } from "./api.js";

export const state = {
  model: null, trace: null, selected: null,
  autoMax: 1, scaleMax: 1, perLayer: false,
  drawBusy: false, why: null,
};

const listeners = new Map();

export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(fn);
}

export function notify(topic, payload) {
  return Promise.all((listeners.get(topic) || []).map((fn) => fn(payload)));
}

export function setModel(model) {
  state.model = model;
  return notify("model", model);
}

export function setTrace(trace, caption) {
  trace.decoded = trace.layers.map((l) => decode(l.data));
  state.trace = trace;
  return notify("trace", { trace, caption });
}

export function select(selected) {
  state.selected = selected;
  return notify("select", selected);
}

export function setScale(changes) {
  Object.assign(state, changes);
  return notify("scale", state);
}

// The colour scale of layer i's maps: the shared one, or the layer's own largest |value|.
export function layerScale(i) {
  if (!state.perLayer) return state.scaleMax;
  const a = state.trace.decoded[i]; return Math.max(Math.abs(a.min), Math.abs(a.max)) || 1;
}

// Open a tab (app.js switches to it); the tab's view may read the options first.
export function openView(tab, options = {}) {
  return notify("open", { tab, ...options });
}
