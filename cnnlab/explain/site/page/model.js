// static/site/model.js — owns onnxruntime-web: loads model.onnx (every layer's activation is an
// output of the graph) and runs it on a batch. One thread and no proxy worker, so the page needs
// no cross-origin isolation (GitHub Pages and `python -m http.server` cannot send those headers).
// Runs are queued: one session must not run twice at once.
//
// The session starts loading as soon as this module runs: index.html loads it as its own async
// module script, so the 14 MB runtime downloads and compiles while the page's other modules load.

import * as ort from "../../ort/ort.wasm.bundle.min.mjs";

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
// the bundle has the loader built in: only the .wasm file is named (a prefix would make it fetch a loader)
ort.env.wasm.wasmPaths = { wasm: new URL("../../ort/ort-wasm-simd-threaded.wasm", import.meta.url).href };
ort.env.logLevel = "error";

let queue = Promise.resolve();

export const session = ort.InferenceSession.create(new URL("../../model.onnx", import.meta.url).href,
  { executionProviders: ["wasm"], graphOptimizationLevel: "all" });

// x: Float32Array of n·C·H·W values; returns {name: Float32Array} for the outputs asked for (all by default).
export function run(session, x, shape, names) {
  const job = queue.then(async () => {
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x, shape) };
    const out = names ? await session.run(feeds, names) : await session.run(feeds);
    const result = {};
    for (const [k, t] of Object.entries(out)) { result[k] = t.data; if (t.dispose) t.dispose(); }
    return result;
  });
  queue = job.catch(() => {});
  return job;
}
