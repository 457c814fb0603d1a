// lib/api.js — owns the conversation with the server: one fetch wrapper that turns a 4xx/5xx
// JSON {"error": …} into a thrown Error with that message, the page's client id (sent with every
// request so that the server keeps this tab's recent traces; see service.py's TraceStore), and
// the wire format of arrays (base64 float32 plus shape).
//
// A page without a server (the static site of `cnnlab explain RUN --export DIR`) installs its own
// answerer with setTransport(fn): fn(path, opts) returns what the server would, or throws an
// Error with the server's message. The views do not know the difference.

// A fresh id per page load: each tab is its own client. getRandomValues works on plain http too.
export const CLIENT_ID = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

let transport = null;

export function setTransport(fn) { transport = fn; }

export async function api(path, opts = {}) {
  if (transport) return transport(path, opts);
  const r = await fetch(path, { ...opts, headers: { ...(opts.headers || {}), "X-Client-Id": CLIENT_ID } });
  let body;
  try { body = await r.json(); } catch (e) { body = { error: `HTTP ${r.status}` }; }
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

export const postJSON = (path, body) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

// base64 float32 (little-endian, as service.encode_array sends it) → {shape, data, min, max}
// An answer made in the browser may carry the Float32Array itself ({shape, data, min, max}).
export function decode(enc) {
  if (enc.data instanceof Float32Array) return enc;
  const bin = atob(enc.b64), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return { shape: enc.shape, data: new Float32Array(buf), min: enc.min, max: enc.max };
}
