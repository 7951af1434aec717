// Window/level on the CPU into an ImageData (no WebGL: it must work on locked-down
// hospital machines and in headless test browsers). Two sources:
//  - 16-bit grayscale pixels from src16: true windowing in stored-value units;
//  - the 8-bit display image: the same window applied through a 256-entry LUT.
import { decode } from "fast-png";

/**
 * Packed RGBA (little-endian, as every browser lays out ImageData) for each input value.
 * Building 65536 entries costs well under a millisecond, so it is rebuilt on every change.
 */
function packedLut(size, center, width, invert) {
  const lut = new Uint32Array(size);
  const lo = center - width / 2;
  const scale = 255 / Math.max(width, 1e-6);
  for (let v = 0; v < size; v++) {
    let g = Math.round((v - lo) * scale);
    g = g < 0 ? 0 : g > 255 ? 255 : g;
    if (invert) g = 255 - g;
    lut[v] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  return lut;
}

function byteLut(center, width, invert) {
  const packed = packedLut(256, center, width, invert);
  return Uint8Array.from(packed, (p) => p & 0xff);
}

/** A decoded 16-bit PNG reduced to one channel with its value range. */
export async function loadPixels16(url, signal) {
  const response = await fetch(url, { credentials: "same-origin", signal });
  if (!response.ok) throw new Error(`src16 ${response.status}`);
  const png = decode(new Uint8Array(await response.arrayBuffer()));
  const { width, height, channels, depth } = png;
  let data = png.data;
  if (channels > 1) {
    // Only gray is expected; take the first channel rather than refuse a colour PNG.
    const one = new (depth > 8 ? Uint16Array : Uint8Array)(width * height);
    for (let i = 0; i < one.length; i++) one[i] = data[i * channels];
    data = one;
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { width, height, data, depth, min, max };
}

export class Windowing {
  constructor() {
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    this.source = null;
    this.out = null;
    this.center = 127.5;
    this.width = 255;
    this.invert = false;
  }

  get is16() {
    return Boolean(this.source && this.source.data16);
  }

  /** The value range window units refer to. */
  get range() {
    if (this.is16) {
      const { min, max } = this.source;
      return { min, max: Math.max(max, min + 1) };
    }
    return { min: 0, max: 255 };
  }

  setSource16(px) {
    this.source = { width: px.width, height: px.height, data16: px.data };
    this.source.min = px.min;
    this.source.max = px.max;
    this._prepare(px.width, px.height);
  }

  /** Reads the display image's pixels; throws on a tainted (cross-origin) image. */
  setSource8(image) {
    const w = image.naturalWidth;
    const h = image.naturalHeight;
    this._prepare(w, h);
    this.ctx.drawImage(image, 0, 0);
    this.source = { width: w, height: h, data8: this.ctx.getImageData(0, 0, w, h).data };
  }

  _prepare(w, h) {
    this.canvas.width = w;
    this.canvas.height = h;
    this.out = this.ctx.createImageData(w, h);
  }

  defaults() {
    const { min, max } = this.range;
    return { center: (min + max) / 2, width: max - min };
  }

  set(center, width) {
    const { min, max } = this.range;
    const span = max - min;
    this.width = Math.min(Math.max(width, 1), span * 4);
    this.center = Math.min(Math.max(center, min - span), max + span);
  }

  /** Re-window the whole image into the canvas; a few ms at 1024x1024. */
  render() {
    const src = this.source;
    if (!src) return;
    if (src.data16) {
      const lut = packedLut(src.data16 instanceof Uint16Array ? 65536 : 256, this.center, this.width, this.invert);
      const out = new Uint32Array(this.out.data.buffer);
      const data = src.data16;
      for (let i = 0; i < data.length; i++) out[i] = lut[data[i]];
    } else {
      const lut = byteLut(this.center, this.width, this.invert);
      const data = src.data8;
      const out = this.out.data;
      for (let i = 0; i < data.length; i += 4) {
        out[i] = lut[data[i]];
        out[i + 1] = lut[data[i + 1]];
        out[i + 2] = lut[data[i + 2]];
        out[i + 3] = 255;
      }
    }
    this.ctx.putImageData(this.out, 0, 0);
  }
}
