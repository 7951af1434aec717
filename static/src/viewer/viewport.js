// Zoom and pan. The stage transform maps world (image pixel) coordinates to screen
// pixels inside the stage; zoom is kept relative to "fit" so a resize keeps the view.

const MIN_ZOOM = 0.5;
const MAX_ZOOM = 40;

export class Viewport {
  constructor(stage, worldW, worldH, onChange) {
    this.stage = stage;
    this.w = worldW;
    this.h = worldH;
    this.onChange = onChange;
    this.zoom = 1;
    this.reset();
  }

  get fit() {
    const margin = 0.98;
    return Math.min(this.stage.width() / this.w, this.stage.height() / this.h) * margin;
  }

  get scale() {
    return this.stage.scaleX();
  }

  toWorld(p) {
    const s = this.scale;
    return { x: (p.x - this.stage.x()) / s, y: (p.y - this.stage.y()) / s };
  }

  toScreen(p) {
    const s = this.scale;
    return { x: p.x * s + this.stage.x(), y: p.y * s + this.stage.y() };
  }

  reset() {
    this.zoom = 1;
    this._centreOn({ x: this.w / 2, y: this.h / 2 });
  }

  /** Zoom by `factor` keeping the world point under screen point `p` fixed. */
  zoomAt(p, factor) {
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoom * factor));
    const world = this.toWorld(p);
    this.zoom = zoom;
    const s = this.fit * zoom;
    this._apply(s, p.x - world.x * s, p.y - world.y * s);
  }

  zoomCentre(factor) {
    this.zoomAt({ x: this.stage.width() / 2, y: this.stage.height() / 2 }, factor);
  }

  panBy(dx, dy) {
    this._apply(this.scale, this.stage.x() + dx, this.stage.y() + dy);
  }

  /** Stage was resized: keep the world point at the centre and the zoom relative to fit. */
  resize(width, height) {
    const centre = this.toWorld({ x: this.stage.width() / 2, y: this.stage.height() / 2 });
    this.stage.size({ width, height });
    this._centreOn(centre);
  }

  /** Pan just enough to bring a world point into view (keyboard crosshair, Tab selection). */
  reveal(p, marginPx = 24) {
    const q = this.toScreen(p);
    const dx = Math.min(0, this.stage.width() - marginPx - q.x) + Math.max(0, marginPx - q.x);
    const dy = Math.min(0, this.stage.height() - marginPx - q.y) + Math.max(0, marginPx - q.y);
    if (dx || dy) this.panBy(dx, dy);
  }

  _centreOn(world) {
    const s = this.fit * this.zoom;
    this._apply(s, this.stage.width() / 2 - world.x * s, this.stage.height() / 2 - world.y * s);
  }

  _apply(s, x, y) {
    this.stage.scale({ x: s, y: s });
    this.stage.position({ x, y });
    this.onChange();
  }
}
