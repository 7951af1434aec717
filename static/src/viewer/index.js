/*
 * <cxr-viewer> — RadGame's chest X-ray viewer and box annotator (one element for
 * residents and educators). Built into static/js/cxr-viewer.js by scripts/build_viewer.sh.
 *
 * HTML API (configuration comes only from attributes and JSON data blocks, so it runs
 * under `script-src 'self'; style-src 'self'` with no inline script or style):
 *
 *   <link rel="stylesheet" href="/static/css/viewer.css">
 *   <script src="/static/js/cxr-viewer.js" defer></script>
 *   <cxr-viewer
 *     src="/cases/image/12/display.webp"   8-bit display image (PNG/WebP), shown first
 *     src16="/cases/image/12/pixels16.png" optional 16-bit grayscale PNG for true window/level
 *     image-width="1024" image-height="1024"  natural size; boxes are normalised to it
 *                                          (defaults to the display image's size)
 *     mode="annotate|review|view"          annotate: draw and edit boxes; review: read-only
 *                                          overlay with legend; view: image only (default)
 *     input="marks-input"                  id of a hidden <input> that receives the marks JSON
 *     labels-source="label-options"        id of JSON ["Atelectasis", ...]: labels to pick from
 *     window-presets-source="presets"      optional id of JSON [{"name", "center", "width"}]
 *                                          in src16 units (0-255 display units without src16)
 *     window-center="2048" window-width="4096"  optional: the window the server used for the
 *                                          display image, the 16-bit start point and "Default"
 *     overlay-source="overlay-data"        review: id of JSON [{"box": [x1, y1, x2, y2],
 *                                          "label", "kind": "hit|miss|false_positive|
 *                                          mislabelled|truth|mark", "caption"}]
 *     initial-marks-source="draft"         optional id of JSON {"boxes": [...]} to restore
 *     view-id="12"                         optional: the view (image id) this viewer shows; its
 *                                          marks carry "view", and overlay items and initial
 *                                          boxes that name another view are left out
 *   ></cxr-viewer>
 *
 * Marks, written to the input and sent as the `detail` of a bubbling `cxr-marks-change`
 * event on every committed change:
 *   {"boxes": [{"label": "Nodule", "box": [x1, y1, x2, y2], "confidence": 3 | null,
 *               "view": 12 (with view-id only)}]}
 *   with 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1, rounded to 5 decimals.
 *
 * Other events (all bubble): `cxr-ready` {ms} once the image is shown, `cxr-error`
 * {message} when it cannot load, `cxr-next-case` when N is pressed (the page decides).
 * Element state for CSS and tests: data-state="loading|ready|error", data-mode.
 * Page scripts may read `element.marks` and call `undo()`, `redo()`, `resetView()`.
 *
 * Keys (while focus is inside the element): D draw, V select/move, H pan, W window/level,
 * arrows move the draw crosshair (Enter sets a corner) or nudge the selected box (Alt:
 * resize), Tab/Shift+Tab cycle boxes, 1-5 confidence, L label picker, Delete/Backspace
 * delete, Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y undo/redo, I invert, R reset, +/- zoom,
 * N next case, Esc cancel. Mouse: wheel zoom, right-drag window/level, middle-drag or
 * Space+drag pan; a click (no drag) in the draw tool sets one corner and a second click
 * the opposite one. Touch: pinch zoom, one-finger pan in the pan tool.
 *
 * A study with several views wraps one <cxr-viewer view-label="Frontal"> per view in a
 * <cxr-views> element (views.js): a thumbnail strip switches between them ("[" and "]" too),
 * and each view keeps its own window/level and zoom.
 */
import { CxrViewer } from "./element.js";
import { CxrViews } from "./views.js";

if (!customElements.get("cxr-viewer")) customElements.define("cxr-viewer", CxrViewer);
if (!customElements.get("cxr-views")) customElements.define("cxr-views", CxrViews);
