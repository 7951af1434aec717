// Pointer events (mouse, pen and touch through one path) turned into gestures:
// draw, click-click corners, move, resize, pan, window/level and pinch zoom.
import { HANDLES, boxFromCorners, clampPoint, handlePoint, moveBox, resizeBox } from "./geometry.js";

// How far (screen px) a press may wander and still count as a click, and how close to a
// handle it must land. Fingers are imprecise, so touch gets more of both.
const SLOP = { mouse: 4, pen: 6, touch: 10 };
const HANDLE_REACH = { mouse: 8, pen: 10, touch: 18 };
const MIN_BOX_PX = 3;
const CURSORS = { n: "ns", s: "ns", e: "ew", w: "ew", nw: "nwse", se: "nwse", ne: "nesw", sw: "nesw" };

export class PointerController {
  constructor(viewer, host) {
    this.v = viewer;
    this.host = host;
    this.pointers = new Map();
    this.gesture = null;
    this.handlers = {
      pointerdown: (e) => this.down(e),
      pointermove: (e) => this.move(e),
      pointerup: (e) => this.up(e),
      pointercancel: (e) => this.cancel(e),
      wheel: (e) => this.wheel(e),
      contextmenu: (e) => e.preventDefault(),
    };
    for (const [type, fn] of Object.entries(this.handlers)) host.addEventListener(type, fn, { passive: false });
  }

  destroy() {
    for (const [type, fn] of Object.entries(this.handlers)) this.host.removeEventListener(type, fn);
  }

  point(e) {
    const r = this.host.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  world(p) {
    return this.v.viewport.toWorld(p);
  }

  down(e) {
    const v = this.v;
    this.host.focus({ preventScroll: true });
    this.pointers.set(e.pointerId, this.point(e));
    this.host.setPointerCapture(e.pointerId);
    e.preventDefault();
    if (this.pointers.size === 2) return this.startPinch();
    if (this.pointers.size > 2 || this.gesture) return;
    v.hideCrosshair();
    const p = this.point(e);
    const w = this.world(p);
    const kind = e.pointerType in SLOP ? e.pointerType : "mouse";
    const base = { id: e.pointerId, kind, startScreen: p, last: p };
    if (e.button === 2 || (v.tool === "wl" && e.button === 0)) {
      if (v.beginWindowDrag()) this.gesture = { ...base, type: "wl" };
    } else if (e.button === 1 || v.spaceDown || v.tool === "pan" || v.mode !== "annotate") {
      this.gesture = { ...base, type: "pan" };
    } else if (e.button === 0) {
      this.gesture = this.editGesture(base, p, w);
    }
    this.updateCursor(p);
  }

  editGesture(base, p, w) {
    const v = this.v;
    const selected = v.selectedMark();
    const handle = selected && this.handleAt(selected.box, p, base.kind);
    if (handle) {
      v.store.begin();
      return { ...base, type: "resize", markId: selected.id, handle, box0: selected.box.slice() };
    }
    if (v.corner) return { ...base, type: "corner" };
    if (v.tool === "select") {
      const hit = v.markAt(w, HANDLE_REACH[base.kind] / v.viewport.scale);
      v.select(hit ? hit.id : null);
      if (!hit) return null;
      v.store.begin();
      return { ...base, type: "move", markId: hit.id, start: w, box0: hit.box.slice() };
    }
    if (v.tool === "draw") return { ...base, type: "draw", start: clampPoint(w, v.w, v.h), moved: false };
    return null;
  }

  handleAt(box, p, kind) {
    const reach = HANDLE_REACH[kind];
    let best = null;
    let bestDist = Infinity;
    for (const name of HANDLES) {
      const q = this.v.viewport.toScreen(handlePoint(box, name));
      const d = Math.max(Math.abs(q.x - p.x), Math.abs(q.y - p.y));
      if (d <= reach && d < bestDist) {
        best = name;
        bestDist = d;
      }
    }
    return best;
  }

  startPinch() {
    this.abandon();
    const [a, b] = [...this.pointers.values()];
    this.gesture = { type: "pinch", dist: Math.hypot(a.x - b.x, a.y - b.y), mid: midpoint(a, b) };
  }

  move(e) {
    const v = this.v;
    if (!v.viewport) return;
    const p = this.point(e);
    if (this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, p);
    const g = this.gesture;
    if (!g) {
      if (v.corner) v.setDraft(boxFromCorners(v.corner, clampPoint(this.world(p), v.w, v.h)));
      this.updateCursor(p);
      return;
    }
    if (g.type === "pinch") return this.pinch();
    if (e.pointerId !== g.id) return;
    const w = this.world(p);
    const dx = p.x - g.last.x;
    const dy = p.y - g.last.y;
    g.last = p;
    if (g.type === "pan") v.viewport.panBy(dx, dy);
    else if (g.type === "wl") v.windowDrag(p.x - g.startScreen.x, p.y - g.startScreen.y);
    else if (g.type === "move") {
      v.store.live(g.markId, moveBox(g.box0, w.x - g.start.x, w.y - g.start.y, v.w, v.h));
      v.redraw();
    } else if (g.type === "resize") {
      v.store.live(g.markId, resizeBox(g.box0, g.handle, w, v.w, v.h, 1 / v.viewport.scale));
      v.redraw();
    } else if (g.type === "draw") {
      const far = Math.hypot(p.x - g.startScreen.x, p.y - g.startScreen.y) > SLOP[g.kind];
      g.moved = g.moved || far;
      if (g.moved) v.setDraft(boxFromCorners(g.start, clampPoint(w, v.w, v.h)));
    } else if (g.type === "corner") {
      v.setDraft(boxFromCorners(v.corner, clampPoint(w, v.w, v.h)));
    }
  }

  pinch() {
    const g = this.gesture;
    const [a, b] = [...this.pointers.values()];
    const dist = Math.hypot(a.x - b.x, a.y - b.y);
    const mid = midpoint(a, b);
    if (g.dist > 0 && dist > 0) this.v.viewport.zoomAt(mid, dist / g.dist);
    this.v.viewport.panBy(mid.x - g.mid.x, mid.y - g.mid.y);
    g.dist = dist;
    g.mid = mid;
  }

  up(e) {
    const v = this.v;
    this.pointers.delete(e.pointerId);
    const g = this.gesture;
    if (!g) return;
    if (g.type === "pinch") {
      // The remaining finger must lift too before a new gesture starts.
      if (this.pointers.size === 0) this.gesture = null;
      return;
    }
    if (e.pointerId !== g.id) return;
    this.gesture = null;
    const p = this.point(e);
    const w = clampPoint(this.world(p), v.w, v.h);
    if (g.type === "move") v.finishEdit("moved");
    else if (g.type === "resize") v.finishEdit("resized");
    else if (g.type === "wl") v.endWindowDrag();
    else if (g.type === "draw") {
      if (g.moved) this.commit(g.start, w);
      else v.setCorner(g.start);
    } else if (g.type === "corner") {
      this.commit(v.corner, w, true);
    }
    this.updateCursor(p);
  }

  /** Add the box between two corners, unless it would be a sliver nobody meant to draw. */
  commit(a, b, fromCorner = false) {
    const v = this.v;
    const box = boxFromCorners(a, b);
    const s = v.viewport.scale;
    const wide = (box[2] - box[0]) * s >= MIN_BOX_PX;
    const tall = (box[3] - box[1]) * s >= MIN_BOX_PX;
    // A second click on the first corner is a double-click, not a box: keep waiting.
    if (fromCorner && !wide && !tall) return;
    v.setCorner(null);
    if (wide && tall) v.addBox(box);
    else v.announce("Box too small, not added");
  }

  cancel(e) {
    this.pointers.delete(e.pointerId);
    if (this.gesture && (this.gesture.type === "pinch" || this.gesture.id === e.pointerId)) {
      this.abandon();
      this.gesture = null;
    }
  }

  /** Drop a half-done edit (a second finger arrived, or the browser took the pointer). */
  abandon() {
    const g = this.gesture;
    if (!g) return;
    if (g.type === "move" || g.type === "resize") {
      this.v.store.cancel();
      this.v.redraw();
    }
    if (g.type === "draw" || g.type === "corner") this.v.setDraft(null);
    if (g.type === "wl") this.v.endWindowDrag();
  }

  wheel(e) {
    if (!this.v.viewport) return;
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.0015;
    this.v.viewport.zoomAt(this.point(e), Math.exp(-e.deltaY * unit));
  }

  updateCursor(p) {
    const v = this.v;
    let cursor = { draw: "crosshair", pan: "grab", wl: "ns-resize", select: "default" }[v.tool] || "default";
    const g = this.gesture;
    if (g && g.type === "pan") cursor = "grabbing";
    else if (v.mode === "annotate" && !g) {
      const selected = v.selectedMark();
      const handle = selected && this.handleAt(selected.box, p, "mouse");
      if (handle) cursor = `${CURSORS[handle]}-resize`;
      else if (v.tool === "select" && v.markAt(this.world(p), 0)) cursor = "move";
    }
    if (v.spaceDown) cursor = "grab";
    this.host.style.cursor = cursor;
  }
}

function midpoint(a, b) {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}
