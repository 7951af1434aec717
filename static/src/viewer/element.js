// <cxr-viewer>: glue between configuration, the Konva scene, marks, windowing and
// input. Light DOM (styled by static/css/viewer.css) so page CSS and tests reach it.
import { readConfig } from "./config.js";
import { boxFromCorners, clampPoint, containsPoint, denormaliseBox } from "./geometry.js";
import { onKeyDown, onKeyUp } from "./keyboard.js";
import { MarkStore } from "./marks.js";
import { buildLegend, kindStyle, overlayCaption } from "./overlay.js";
import { PointerController } from "./pointer.js";
import { Scene } from "./scene.js";
import { buildToolbar } from "./toolbar.js";
import { Viewport } from "./viewport.js";
import { Windowing, loadPixels16 } from "./windowing.js";

const MARK_COLOR = "#56B4E9";
const SELECTED_COLOR = "#F0E442";
// Pixels of drag per full value range when windowing with the mouse.
const WL_DRAG_PX = 400;

let instances = 0;

function div(className, attrs = {}) {
  const node = document.createElement("div");
  node.className = className;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export class CxrViewer extends HTMLElement {
  connectedCallback() {
    if (this._started) return;
    this._started = true;
    this._t0 = performance.now();
    this.cfg = readConfig(this);
    this.mode = this.cfg.mode;
    this.tool = this.mode === "annotate" ? "draw" : "pan";
    this.selectedId = null;
    this.highlight = -1;
    this.corner = null;
    this.crosshair = null;
    this.draft = null;
    this.spaceDown = false;
    this.currentLabel = this.cfg.labels[0] || "";
    this.px16 = this.cfg.src16 ? "loading" : null;
    this.windowActive = false;
    this._abort = new AbortController();
    this._buildDom();
    // A generation number lets a load that outlives its element's removal notice and stop.
    const gen = (this._gen = (this._gen || 0) + 1);
    this._load(gen).catch((err) => gen === this._gen && this._fail(err));
  }

  disconnectedCallback() {
    // Moving the element fires disconnect then connect at once; only tear down a real removal.
    queueMicrotask(() => {
      if (!this.isConnected && this._started) this._teardown();
    });
  }

  _teardown() {
    this._started = false;
    this._gen++;
    this._abort.abort();
    this._resizeObserver?.disconnect();
    this.pointer?.destroy();
    this.scene?.destroy();
    for (const node of this._owned || []) node.remove();
    this.viewport = null;
  }

  // ---- public API (for page scripts) -------------------------------------------------

  /** The current marks in the contract shape (same as the hidden input). */
  get marks() {
    if (this.store) return this.store.toJSON(this.w, this.h, this.cfg.view);
    // Not loaded yet: the boxes it was given still stand (a form saved now must not drop them).
    const view = this.cfg?.view ?? null;
    return {
      boxes: (this.cfg?.initialBoxes || []).map((b) => ({
        label: b.label,
        box: b.box,
        confidence: b.confidence ?? null,
        ...(view === null ? {} : { view }),
      })),
    };
  }

  // ---- DOM -----------------------------------------------------------------------------

  _buildDom() {
    const n = ++instances;
    this.classList.add("cxr-viewer");
    this.dataset.mode = this.mode;
    this.dataset.state = "loading";
    this.toolbar = buildToolbar(this.mode, this.cfg);
    const helpId = `cxr-help-${n}`;
    this.stageHost = div("cxr-stage", {
      tabindex: "0",
      role: "application",
      "aria-roledescription": "chest X-ray viewer",
      "aria-label": this.mode === "annotate" ? "Chest X-ray. Draw boxes around findings." : "Chest X-ray",
      "aria-describedby": helpId,
    });
    this.stageHost.dataset.tool = this.tool;
    const help = div("cxr-sr-only", { id: helpId });
    help.textContent =
      this.mode === "annotate"
        ? "D draw, V select, arrow keys move the crosshair, Enter sets a corner, Tab cycles boxes, 1 to 5 confidence, L label, Delete removes."
        : "Arrow keys pan, plus and minus zoom, Tab cycles the marked regions.";
    this.status = div("cxr-status");
    this.readout = document.createElement("span");
    this.hint = document.createElement("span");
    this.hint.className = "cxr-hint";
    this.status.append(this.readout, this.hint);
    this.live = div("cxr-sr-only", { role: "status", "aria-live": "polite" });
    this._owned = [this.toolbar.root, this.stageHost, this.status, help, this.live];
    if (this.mode === "review") this._owned.push(buildLegend(this.cfg.overlay));
    this.append(...this._owned);
    this._wireToolbar();
    if (!this._keysBound) {
      // Bound once: a removed-then-reinserted element rebuilds its DOM but keeps these.
      this._keysBound = true;
      this.addEventListener("keydown", (e) => onKeyDown(this, e));
      this.addEventListener("keyup", (e) => onKeyUp(this, e));
    }
    this.stageHost.addEventListener("blur", () => {
      this.spaceDown = false;
      this.hideCrosshair();
    });
  }

  _wireToolbar() {
    const { buttons, labelSelect, relabelSelect, confidenceSelect, presetSelect } = this.toolbar;
    const on = (name, fn) => buttons[name]?.addEventListener("click", fn);
    for (const tool of ["select", "draw", "pan", "wl"]) on(tool, () => this.setTool(tool, true));
    on("zoomIn", () => this.viewport?.zoomCentre(1.25));
    on("zoomOut", () => this.viewport?.zoomCentre(0.8));
    on("invert", () => this.toggleInvert());
    on("reset", () => this.resetView());
    on("delete", () => this.deleteSelected());
    on("undo", () => this.undo());
    on("redo", () => this.redo());
    labelSelect?.addEventListener("change", () => this.setNewLabel(labelSelect.value));
    relabelSelect?.addEventListener("change", () => this.relabelSelected(relabelSelect.value));
    confidenceSelect?.addEventListener("change", () =>
      this.setConfidence(confidenceSelect.value ? Number(confidenceSelect.value) : null),
    );
    presetSelect.addEventListener("change", () => this.applyPreset(presetSelect.value));
  }

  // ---- loading ---------------------------------------------------------------------------

  async _load(gen) {
    const img = new Image();
    img.decoding = "async";
    img.src = this.cfg.src;
    await img.decode();
    if (gen !== this._gen) return;
    this.displayImage = img;
    this.w = this.cfg.width || img.naturalWidth;
    this.h = this.cfg.height || img.naturalHeight;
    this.scene = new Scene(this.stageHost, this.w, this.h);
    this.scene.setImage(img);
    this.win = new Windowing();
    this.store = new MarkStore((reason) => this._marksChanged(reason));
    this.store.load(this._initialMarks());
    this.viewport = new Viewport(this.scene.stage, this.w, this.h, () => this._viewChanged());
    this.pointer = new PointerController(this, this.stageHost);
    this._resizeObserver = new ResizeObserver(() => this._resized());
    this._resizeObserver.observe(this.stageHost);
    this.redraw();
    this._writeInput();
    this._syncUi();
    this.readyMs = performance.now() - this._t0;
    this.dataset.state = "ready";
    this.emit("cxr-ready", { ms: this.readyMs });
    if (this.cfg.src16) this._load16(gen);
  }

  _initialMarks() {
    const out = [];
    for (const b of this.cfg.initialBoxes) {
      const box = b && denormaliseBox(b.box, this.w, this.h);
      if (!box) continue;
      const c = Number(b.confidence);
      out.push({
        box,
        label: typeof b.label === "string" ? b.label : this.currentLabel,
        confidence: c >= 1 && c <= 5 ? Math.round(c) : null,
      });
    }
    return out;
  }

  async _load16(gen) {
    try {
      const px = await loadPixels16(this.cfg.src16, this._abort.signal);
      if (gen !== this._gen) return;
      this.px16 = px;
    } catch (err) {
      if (gen !== this._gen) return;
      // The 8-bit image still works; presets are in 16-bit units, so they go.
      console.warn(`cxr-viewer: 16-bit pixels unavailable (${err.message}); windowing the 8-bit image`);
      this.px16 = null;
      this.toolbar.presetSelect.querySelectorAll("option[value]:not([value=''], [value='default'])")
        .forEach((o) => o.remove());
    }
    this._syncUi();
  }

  _fail(err) {
    console.warn(`cxr-viewer: image could not be loaded (${err && err.message})`);
    this.dataset.state = "error";
    this.stageHost.textContent = "The image could not be loaded.";
    this.emit("cxr-error", { message: String(err && err.message) });
  }

  _resized() {
    const { clientWidth, clientHeight } = this.stageHost;
    if (clientWidth && clientHeight) this.viewport.resize(clientWidth, clientHeight);
  }

  // ---- state changes -------------------------------------------------------------------

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  announce(text) {
    // Re-setting identical text is not re-read; a trailing no-break space makes it new.
    this.live.textContent = this.live.textContent === text ? `${text}\u00a0` : text;
  }

  hasTool(tool) {
    return Boolean(this.toolbar.buttons[tool]);
  }

  setTool(tool, speak = false) {
    if (!this.hasTool(tool)) return;
    this.tool = tool;
    this.stageHost.dataset.tool = tool;
    if (tool !== "draw") {
      this.setCorner(null);
      this.hideCrosshair();
    }
    if (speak) this.announce(`${this.toolbar.buttons[tool].getAttribute("aria-label")} tool`);
    this._syncUi();
  }

  _viewChanged() {
    this.redraw();
    this._syncReadout();
  }

  _marksChanged(reason) {
    if (this.selectedId !== null && !this.store.byId(this.selectedId)) this.selectedId = null;
    this.redraw();
    this.emit("cxr-marks-change", this._writeInput());
    this._syncUi();
    if (reason === "undo" || reason === "redo") this.announce(reason === "undo" ? "Undone" : "Redone");
  }

  // Called for committed changes only (never mid-drag), so the form and listeners see whole edits.
  _writeInput() {
    const value = this.marks;
    const input = this.cfg.inputId && document.getElementById(this.cfg.inputId);
    if (input) input.value = JSON.stringify(value);
    return value;
  }

  finishEdit(verb) {
    if (this.store.end(verb)) {
      const m = this.selectedMark();
      if (m) this.announce(`${this._describe(m)} ${verb}`);
    }
  }

  // ---- marks -----------------------------------------------------------------------------

  selectedMark() {
    return this.selectedId === null ? null : this.store.byId(this.selectedId);
  }

  /** The smallest mark under a world point, so a box nested in a bigger one stays reachable. */
  markAt(p, slack) {
    let best = null;
    for (const m of this.store.marks) {
      if (!containsPoint(m.box, p, slack)) continue;
      const area = (m.box[2] - m.box[0]) * (m.box[3] - m.box[1]);
      if (!best || area < best.area) best = { m, area };
    }
    return best ? best.m : null;
  }

  _describe(m) {
    const n = this.store.indexOf(m.id) + 1;
    const conf = m.confidence ? `, confidence ${m.confidence}` : "";
    return `Box ${n}: ${m.label || "unlabelled"}${conf}`;
  }

  select(id, speak = false) {
    this.selectedId = id;
    this.redraw();
    this._syncUi();
    const m = this.selectedMark();
    if (m && speak) this.announce(`${this._describe(m)} selected, ${this.store.marks.length} in all`);
  }

  addBox(box) {
    const m = this.store.add({ box, label: this.currentLabel, confidence: null });
    this.select(m.id);
    this.announce(`${this._describe(m)} added`);
  }

  deleteSelected() {
    const m = this.selectedMark();
    if (!m) return;
    const text = this._describe(m);
    this.store.remove(m.id);
    this.announce(`${text} deleted`);
  }

  /** The name the next box gets. Never touches a box already drawn, selected or not. */
  setNewLabel(label) {
    this.currentLabel = label;
    this.announce(`New boxes: ${label}`);
    this._syncUi();
  }

  /** Rename the selected box only; the name for new boxes stays as it was. */
  relabelSelected(label) {
    const m = this.selectedMark();
    if (!m || !label || m.label === label) return;
    this.store.update(m.id, { label }, "relabel");
    this.announce(`${this._describe(this.selectedMark())}, relabelled`);
  }

  /** L: the selected box's name when a box is selected, otherwise the name for new boxes. */
  focusLabelPicker() {
    const { labelSelect, relabelSelect } = this.toolbar;
    (this.selectedMark() ? relabelSelect : labelSelect)?.focus();
  }

  setConfidence(value) {
    const m = this.selectedMark();
    if (!m) return;
    this.store.update(m.id, { confidence: value }, "confidence");
    this.announce(value ? `${this._describe(m)}` : `Box ${this.store.indexOf(m.id) + 1}: confidence cleared`);
  }

  undo() {
    this.store?.undo();
  }

  redo() {
    this.store?.redo();
  }

  /** Tab / Shift+Tab through marks (or review regions); false at the ends so focus can leave. */
  cycle(dir) {
    if (this.mode === "annotate") {
      const marks = this.store.marks;
      const i = this.selectedId === null ? (dir > 0 ? -1 : marks.length) : this.store.indexOf(this.selectedId);
      const next = marks[i + dir];
      this.select(next ? next.id : null, true);
      if (next) this.viewport.reveal({ x: next.box[0], y: next.box[1] });
      return Boolean(next);
    }
    if (this.mode === "review") {
      const items = this.cfg.overlay;
      const i = this.highlight < 0 ? (dir > 0 ? -1 : items.length) : this.highlight;
      const next = i + dir;
      this.highlight = next >= 0 && next < items.length ? next : -1;
      this.redraw();
      if (this.highlight < 0) return false;
      this.announce(`${next + 1} of ${items.length}. ${overlayCaption(items[next])}`);
      return true;
    }
    return false;
  }

  escape() {
    if (this.corner || this.crosshair) {
      this.setCorner(null);
      this.hideCrosshair();
      this.announce("Drawing cancelled");
    } else if (this.selectedId !== null) this.select(null);
    else if (this.highlight >= 0) {
      this.highlight = -1;
      this.redraw();
    }
  }

  // ---- drawing aids ------------------------------------------------------------------------

  setDraft(box) {
    this.draft = box;
    this.scene.drawDraft(box);
  }

  /** First corner of a click-click or keyboard box; null cancels. */
  setCorner(p) {
    this.corner = p;
    if (!p) {
      this.setDraft(null);
      this.hint.textContent = "";
      return;
    }
    this.hint.textContent = "Now click or press Enter at the opposite corner (Esc cancels)";
    this.announce("First corner set. Move to the opposite corner and click or press Enter.");
  }

  moveCrosshair(dx, dy) {
    const from = this.crosshair || this.viewport.toWorld({ x: this.scene.stage.width() / 2, y: this.scene.stage.height() / 2 });
    this.crosshair = clampPoint(this.crosshair ? { x: from.x + dx, y: from.y + dy } : from, this.w, this.h);
    this.viewport.reveal(this.crosshair);
    this.scene.drawCrosshair(this.crosshair);
    if (this.corner) this.setDraft(boxFromCorners(this.corner, this.crosshair));
  }

  hideCrosshair() {
    if (!this.crosshair) return;
    this.crosshair = null;
    this.scene?.drawCrosshair(null);
  }

  keyboardCorner() {
    if (!this.crosshair) {
      this.moveCrosshair(0, 0);
      this.announce("Crosshair shown. Arrow keys move it; Enter sets a corner.");
      return;
    }
    if (!this.corner) {
      this.setCorner({ ...this.crosshair });
      return;
    }
    const box = boxFromCorners(this.corner, this.crosshair);
    const s = this.viewport.scale;
    this.setCorner(null);
    if ((box[2] - box[0]) * s >= 3 && (box[3] - box[1]) * s >= 3) this.addBox(box);
    else this.announce("Box too small, not added");
  }

  redraw() {
    if (!this.scene) return;
    if (this.mode === "annotate") {
      const items = this.store.marks.map((m, i) => {
        const selected = m.id === this.selectedId;
        const conf = m.confidence ? ` \u00b7 ${m.confidence}/5` : "";
        return {
          box: m.box, color: selected ? SELECTED_COLOR : MARK_COLOR, width: 2, dash: null,
          emphasis: selected, text: `${i + 1} ${m.label}${conf}`,
        };
      });
      const sel = this.selectedMark();
      this.scene.drawBoxes(items, sel ? sel.box : null);
    } else if (this.mode === "review") {
      const items = [];
      this.cfg.overlay.forEach((o, i) => {
        const box = denormaliseBox(o.box, this.w, this.h);
        if (!box) return;
        const style = kindStyle(o.kind);
        items.push({ box, ...style, emphasis: i === this.highlight, text: overlayCaption(o) });
      });
      this.scene.drawBoxes(items, null);
    }
    this.scene.drawDraft(this.draft);
    this.scene.drawCrosshair(this.crosshair);
  }

  // ---- window / level ------------------------------------------------------------------------

  /** Make sure windowing has pixels to work on; false while the 16-bit data is still coming. */
  _windowReady() {
    if (this.px16 === "loading") {
      this.announce("Loading full-depth pixels, try again in a moment");
      return false;
    }
    const want16 = Boolean(this.px16);
    if (this.win.source && this.win.is16 === want16) return true;
    try {
      if (want16) this.win.setSource16(this.px16);
      else this.win.setSource8(this.displayImage);
    } catch (err) {
      console.warn(`cxr-viewer: window/level unavailable (${err.message})`);
      return false;
    }
    this._defaultWindow();
    return true;
  }

  _defaultWindow() {
    const { center, width } = this.win.defaults();
    const fromPage = this.win.is16 && this.cfg.windowWidth > 0 && this.cfg.windowCenter !== null;
    this.win.set(fromPage ? this.cfg.windowCenter : center, fromPage ? this.cfg.windowWidth : width);
  }

  _renderWindow() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      if (!this.scene) return;
      this.win.render();
      this.windowActive = true;
      if (this.scene.image.image() !== this.win.canvas) this.scene.setImage(this.win.canvas);
      else this.scene.imageChanged();
      this._syncReadout();
    });
  }

  beginWindowDrag() {
    if (!this._windowReady()) return false;
    this._wlStart = { center: this.win.center, width: this.win.width };
    return true;
  }

  windowDrag(dx, dy) {
    const { min, max } = this.win.range;
    const perPx = (max - min) / WL_DRAG_PX;
    this.win.set(this._wlStart.center + dy * perPx, this._wlStart.width + dx * perPx);
    this.toolbar.presetSelect.value = "";
    this._renderWindow();
  }

  endWindowDrag() {
    if (this.windowActive) this.announce(`Window ${Math.round(this.win.width)}, level ${Math.round(this.win.center)}`);
  }

  applyPreset(value) {
    if (!value || !this._windowReady()) {
      this.toolbar.presetSelect.value = "";
      return;
    }
    const preset = this.cfg.presets[Number(value)];
    if (value === "default") this._defaultWindow();
    else if (preset) this.win.set(preset.center, preset.width);
    this.toolbar.presetSelect.value = value;
    this._renderWindow();
    this.announce(`${value === "default" ? "Default" : preset.name} window`);
  }

  toggleInvert() {
    if (!this._windowReady()) return;
    this.win.invert = !this.win.invert;
    this._renderWindow();
    this._syncUi();
    this.announce(this.win.invert ? "Inverted" : "Not inverted");
  }

  resetView() {
    if (!this.viewport) return;
    this.viewport.reset();
    if (this.win.source) {
      this.win.invert = false;
      this._defaultWindow();
    }
    // Back to the server-rendered image, exactly as first shown.
    this.windowActive = false;
    this.scene.setImage(this.displayImage);
    this.toolbar.presetSelect.value = "";
    this._syncUi();
    this.announce("View reset");
  }

  // ---- toolbar state ---------------------------------------------------------------------------

  _syncUi() {
    const { buttons, labelSelect, relabelSelect, confidenceSelect } = this.toolbar;
    for (const tool of ["select", "draw", "pan", "wl"]) {
      buttons[tool]?.setAttribute("aria-pressed", String(this.tool === tool));
    }
    buttons.invert.setAttribute("aria-pressed", String(Boolean(this.win && this.win.invert && this.windowActive)));
    if (this.mode === "annotate" && this.store) {
      const m = this.selectedMark();
      buttons.delete.disabled = !m;
      buttons.undo.disabled = !this.store.past.length;
      buttons.redo.disabled = !this.store.future.length;
      // A stored box may carry a name the list lacks (an imported label): offer it, not lose it.
      for (const [picker, label] of [[labelSelect, this.currentLabel], [relabelSelect, m && m.label]]) {
        if (label && ![...picker.options].some((o) => o.value === label)) {
          picker.append(new Option(label, label));
        }
      }
      labelSelect.value = this.currentLabel;
      relabelSelect.disabled = !m;
      relabelSelect.value = m ? m.label : "";
      confidenceSelect.disabled = !m;
      confidenceSelect.value = m && m.confidence ? String(m.confidence) : "";
    }
    this._syncReadout();
  }

  _syncReadout() {
    if (!this.viewport) return;
    const parts = [`Zoom ${Math.round(this.viewport.zoom * 100)}%`];
    if (this.windowActive) {
      parts.push(`W ${Math.round(this.win.width)} L ${Math.round(this.win.center)}`);
      if (this.win.invert) parts.push("inverted");
    }
    if (this.mode === "annotate") parts.push(`${this.store.marks.length} box${this.store.marks.length === 1 ? "" : "es"}`);
    this.readout.textContent = parts.join(" \u00b7 ");
  }
}
