// Box geometry in image ("world") pixels and the conversion to the normalised form
// the server scores. Kept free of Konva and the DOM so it can be reasoned about alone.

/** Order two corners into [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2. */
export function boxFromCorners(a, b) {
  return [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.max(a.x, b.x), Math.max(a.y, b.y)];
}

export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

export function clampPoint(p, w, h) {
  return { x: clamp(p.x, 0, w), y: clamp(p.y, 0, h) };
}

/** Translate a box by (dx, dy) without letting any edge leave the image. */
export function moveBox(box, dx, dy, w, h) {
  const [x1, y1, x2, y2] = box;
  const mx = clamp(dx, -x1, w - x2);
  const my = clamp(dy, -y1, h - y2);
  return [x1 + mx, y1 + my, x2 + mx, y2 + my];
}

// Handle names say which edges a handle drags: n/s move y1/y2, w/e move x1/x2.
export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

export function handlePoint(box, name) {
  const [x1, y1, x2, y2] = box;
  const x = name.includes("w") ? x1 : name.includes("e") ? x2 : (x1 + x2) / 2;
  const y = name.includes("n") ? y1 : name.includes("s") ? y2 : (y1 + y2) / 2;
  return { x, y };
}

/**
 * Resize `box` (as it was when the drag began) by putting the edges named by `handle` at `p`.
 * Edges may cross; the result is re-ordered so a resize can flip a box instead of jamming.
 */
export function resizeBox(box, handle, p, w, h, minSize) {
  let [x1, y1, x2, y2] = box;
  const q = clampPoint(p, w, h);
  if (handle.includes("w")) x1 = q.x;
  if (handle.includes("e")) x2 = q.x;
  if (handle.includes("n")) y1 = q.y;
  if (handle.includes("s")) y2 = q.y;
  const out = boxFromCorners({ x: x1, y: y1 }, { x: x2, y: y2 });
  return ensureMinSize(out, minSize, w, h);
}

function ensureMinSize(box, minSize, w, h) {
  let [x1, y1, x2, y2] = box;
  if (x2 - x1 < minSize) {
    x2 = Math.min(w, x1 + minSize);
    x1 = Math.max(0, x2 - minSize);
  }
  if (y2 - y1 < minSize) {
    y2 = Math.min(h, y1 + minSize);
    y1 = Math.max(0, y2 - minSize);
  }
  return [x1, y1, x2, y2];
}

export function containsPoint(box, p, slack = 0) {
  return p.x >= box[0] - slack && p.x <= box[2] + slack && p.y >= box[1] - slack && p.y <= box[3] + slack;
}

const round5 = (v) => Math.round(v * 1e5) / 1e5;

/**
 * World pixels -> the scoring contract: 0 <= x1 < x2 <= 1, 5 decimals, clamped to the image.
 * Rounding can collapse a sliver box; nudging by one unit keeps the strict inequality.
 */
export function normaliseBox(box, w, h) {
  let x1 = round5(clamp(box[0] / w, 0, 1));
  let x2 = round5(clamp(box[2] / w, 0, 1));
  let y1 = round5(clamp(box[1] / h, 0, 1));
  let y2 = round5(clamp(box[3] / h, 0, 1));
  [x1, x2] = strictPair(x1, x2);
  [y1, y2] = strictPair(y1, y2);
  return [x1, y1, x2, y2];
}

function strictPair(a, b) {
  if (a > b) [a, b] = [b, a];
  if (a < b) return [a, b];
  return b < 1 ? [a, round5(b + 1e-5)] : [round5(a - 1e-5), b];
}

/** Normalised (from JSON) -> world pixels; returns null for anything malformed. */
export function denormaliseBox(box, w, h) {
  if (!Array.isArray(box) || box.length !== 4) return null;
  if (!box.every((v) => typeof v === "number" && Number.isFinite(v))) return null;
  const [x1, y1, x2, y2] = box.map((v) => clamp(v, 0, 1));
  if (!(x1 < x2 && y1 < y2)) return null;
  return [x1 * w, y1 * h, x2 * w, y2 * h];
}
