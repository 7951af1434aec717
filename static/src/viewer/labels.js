// Where each box's caption goes, so that no two captions overlap, whatever the boxes do.
// Boxes that touch or overlap put their captions in the same spot (above the top-left corner);
// each caption takes the first free spot of a short list around its own box, then, if all
// are taken, the free spot nearest to its box among those beside the captions already placed.
// Pure geometry in world units, so it is tested without a canvas.

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function inside(r, W, H) {
  return r.x >= 0 && r.y >= 0 && r.x + r.w <= W + 1e-9 && r.y + r.h <= H + 1e-9;
}

/**
 * boxes: [[x1, y1, x2, y2]], sizes: [{w, h}] (one per box), W x H: the image.
 * Returns [{x, y, w, h}], one rectangle per caption, in the same order.
 */
export function placeLabels(boxes, sizes, W, H) {
  const placed = [];
  boxes.forEach(([x1, y1, x2, y2], i) => {
    const { w, h } = sizes[i];
    const left = Math.min(Math.max(x1, 0), Math.max(0, W - w));
    const right = Math.min(Math.max(x2 - w, 0), Math.max(0, W - w));
    const preferred = { x: left, y: y1 - h >= 0 ? y1 - h : y1, w, h };
    const spots = [
      preferred,
      { x: left, y: y1, w, h }, // just inside the top edge
      { x: left, y: y2, w, h }, // just below the box
      { x: left, y: y2 - h, w, h }, // just inside the bottom edge
      { x: right, y: y1 - h, w, h },
      { x: right, y: y2, w, h },
    ];
    let spot = spots.find((r) => inside(r, W, H) && !placed.some((p) => overlaps(p, r)));
    if (!spot) {
      // Crowded: try beside every caption already placed, nearest to the preferred spot first.
      const around = [];
      for (const p of placed) {
        for (const x of [left, p.x, p.x + p.w, p.x - w]) {
          for (const y of [p.y + p.h, p.y - h, p.y]) around.push({ x, y, w, h });
        }
      }
      const d = (r) => Math.abs(r.x - preferred.x) + Math.abs(r.y - preferred.y);
      spot = around
        .filter((r) => inside(r, W, H) && !placed.some((p) => overlaps(p, r)))
        .sort((a, b) => d(a) - d(b))[0];
    }
    // Nowhere free at all (captions bigger than the image allows): keep the preferred spot.
    placed.push(spot || preferred);
  });
  return placed;
}
