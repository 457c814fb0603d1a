// static/site/images.js — an uploaded PNG or JPEG as the model's input, in the browser: the
// steps of cnnlab.inspect.to_model_input (the server's upload path) with the browser's decoder:
// refuse what is too large or not a PNG/JPEG before decoding, flatten transparency onto white,
// crop the centre to the model's aspect ratio, resize (the browser's high-quality smoothing,
// where the server uses Lanczos), convert to grayscale (ITU-R 601 luma, as Pillow), invert a
// light background for a model trained on light strokes on black, then scale and normalise
// in float32 as the training data was. Returns {array: Float32Array (C·H·W), steps}.

export const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;
export const MAX_PIXELS = 4096 * 4096;

export class UploadError extends Error {}

const f32 = Math.fround;

function sniff(bytes) {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    return { format: "PNG", width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { format: "JPEG" };
  return null;
}

function checkPixels(w, h) {
  if (w <= 0 || h <= 0 || w * h > MAX_PIXELS)
    throw new UploadError(`image refused before decoding: it declares ${w} × ${h} = ${(w * h).toLocaleString("en")} pixels; the limit is ${MAX_PIXELS.toLocaleString("en")}`);
}

// x: byte values 0..255 (C·H·W) → float32 model input: /255, then (x − mean) / std per channel.
export function scaleBytes(bytes, c, n, norm) {
  const out = new Float32Array(bytes.length), k = f32(1 / 255);
  for (let ch = 0; ch < c; ch++) {
    const mean = norm ? f32(norm[0][ch]) : 0, std = norm ? f32(norm[1][ch]) : 1;
    for (let i = ch * n; i < (ch + 1) * n; i++) {
      const v = f32(bytes[i] * k);
      out[i] = norm ? f32(f32(v - mean) / std) : v;
    }
  }
  return out;
}

const list = (xs) => `[${xs.join(", ")}]`;

export async function uploadInput(file, model, imageNormalize) {
  if (!file || typeof file.arrayBuffer !== "function") throw new UploadError("the multipart upload has no file in the field `file`");
  if (file.size === 0) throw new UploadError("the upload is empty; send a PNG or JPEG file");
  if (file.size > MAX_UPLOAD_BYTES) throw new UploadError(`the upload has ${file.size.toLocaleString("en")} bytes; the limit is ${MAX_UPLOAD_BYTES.toLocaleString("en")} bytes`);
  const head = sniff(new Uint8Array(await file.slice(0, 64).arrayBuffer()));
  if (!head) throw new UploadError("the upload is not an image that can be read; send a PNG or JPEG file");
  if (head.width !== undefined) checkPixels(head.width, head.height);
  let bmp;
  try { bmp = await createImageBitmap(file, { imageOrientation: "from-image", premultiplyAlpha: "none" }); }
  catch (e) { throw new UploadError(`the ${head.format} file is damaged and cannot be decoded`); }
  const W = bmp.width, H = bmp.height;
  checkPixels(W, H);
  const [c, h, w] = model.input_shape, steps = [`decoded a ${head.format} of ${W} × ${H} pixels`];
  // Transparency and colour: one look at the full-size pixels.
  const full = new OffscreenCanvas(W, H).getContext("2d", { willReadFrequently: true });
  full.drawImage(bmp, 0, 0);
  const px = full.getImageData(0, 0, W, H).data;
  let transparent = false, colour = false;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] < 255) transparent = true;
    if (px[i] !== px[i + 1] || px[i + 1] !== px[i + 2]) colour = true;
  }
  if (transparent) steps.push("flattened the transparency onto white");
  if (c === 1 && colour) steps.push("converted to grayscale");
  // Crop the centre to the model's aspect ratio, then resize.
  let sx = 0, sy = 0, cw = W, ch = H;
  if (W * h > H * w) { cw = Math.floor(H * w / h); sx = Math.floor((W - cw) / 2); }
  else if (W * h < H * w) { ch = Math.floor(W * h / w); sy = Math.floor((H - ch) / 2); }
  if (cw !== W || ch !== H) steps.push(w === h ? `cropped the centre square ${cw} × ${ch} (the model's input is square)` : `cropped the centre ${cw} × ${ch} (the model's ${w}:${h} aspect ratio)`);
  const small = new OffscreenCanvas(w, h).getContext("2d", { willReadFrequently: true });
  small.imageSmoothingEnabled = true; small.imageSmoothingQuality = "high";
  small.fillStyle = "#fff"; small.fillRect(0, 0, w, h);
  small.drawImage(bmp, sx, sy, cw, ch, 0, 0, w, h);
  if (cw !== w || ch !== h) steps.push(`resized to ${w} × ${h} pixels`);
  bmp.close();
  const d = small.getImageData(0, 0, w, h).data, n = h * w, bytes = new Uint8Array(c * n);
  for (let i = 0; i < n; i++) {
    const r = d[4 * i], g = d[4 * i + 1], b = d[4 * i + 2];
    if (c === 1) bytes[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    else { bytes[i] = r; bytes[n + i] = g; bytes[2 * n + i] = b; }
  }
  if (c === 1 && model.dark_background) {
    let s = 0, k = 0;
    for (let x = 0; x < w; x++) { s += bytes[x] + bytes[(h - 1) * w + x]; k += 2; }
    for (let y = 0; y < h; y++) { s += bytes[y * w] + bytes[y * w + w - 1]; k += 2; }
    if (s / k / 255 > 0.5) {
      for (let i = 0; i < n; i++) bytes[i] = 255 - bytes[i];
      steps.push("inverted (light background → dark), because the training images are light strokes on a dark background");
    }
  }
  steps.push("scaled pixel values from 0–255 to 0–1");
  if (imageNormalize) steps.push(`normalised with mean ${list(imageNormalize[0])} and std ${list(imageNormalize[1])}, as in training`);
  return { array: scaleBytes(bytes, c, n, imageNormalize), steps };
}
