// views/upload.js — the Upload sub-tab: sends a PNG or JPEG to /api/upload, lists the steps the
// server applied to fit it to the model's input, and makes it the current input.

import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { setTrace } from "../lib/state.js";

export function init() {
  $("upload-file").addEventListener("change", async (e) => {
    const f = e.target.files[0]; if (!f) return;
    $("upload-error").textContent = ""; $("upload-steps").innerHTML = "";
    const fd = new FormData(); fd.append("file", f);
    try {
      const t = await api("/api/upload", { method: "POST", body: fd });
      for (const s of t.steps) $("upload-steps").append(el("li", { text: s }));
      setTrace(t, `upload: ${f.name}`);
    } catch (err) { $("upload-error").textContent = err.message; }
  });
}
