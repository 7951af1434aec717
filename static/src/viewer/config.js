// Configuration comes only from attributes and JSON data blocks
// (<script type="application/json">), which a strict CSP allows because they never run.

const MODES = new Set(["annotate", "review", "view"]);

/** Parse the JSON block with this id; a missing or broken block yields `fallback`. */
export function readJsonBlock(el, id, fallback) {
  if (!id) return fallback;
  const root = el.getRootNode();
  const node = (root.getElementById && root.getElementById(id)) || el.querySelector(`[id="${CSS.escape(id)}"]`);
  if (!node) {
    console.warn(`cxr-viewer: no element #${id}`);
    return fallback;
  }
  try {
    return JSON.parse(node.textContent || "null") ?? fallback;
  } catch (err) {
    console.warn(`cxr-viewer: #${id} is not valid JSON (${err.message})`);
    return fallback;
  }
}

function positiveInt(value) {
  const n = Number.parseInt(value || "", 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function finiteOrNull(value) {
  if (value === null || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A view id as the server wrote it: an integer when it looks like one (a CaseImage id). */
function viewKey(value) {
  if (!value) return null;
  return /^\d+$/.test(value) ? Number(value) : value;
}

export function readConfig(el) {
  const attr = (name) => el.getAttribute(name);
  const view = viewKey(attr("view-id"));
  // Overlay items and initial boxes may name their view; a viewer of one view keeps its own.
  const onThisView = (item) => view === null || item.view == null || String(item.view) === String(view);
  const mode = MODES.has(attr("mode")) ? attr("mode") : "view";
  const labels = readJsonBlock(el, attr("labels-source"), []);
  const presets = readJsonBlock(el, attr("window-presets-source"), []);
  const overlay = readJsonBlock(el, attr("overlay-source"), []);
  const initial = readJsonBlock(el, attr("initial-marks-source"), null);
  return {
    mode,
    src: attr("src") || "",
    src16: attr("src16") || "",
    width: positiveInt(attr("image-width")),
    height: positiveInt(attr("image-height")),
    inputId: attr("input") || "",
    labels: Array.isArray(labels) ? labels.filter((l) => typeof l === "string" && l) : [],
    presets: Array.isArray(presets)
      ? presets.filter((p) => p && typeof p.name === "string" && p.width > 0 && Number.isFinite(p.center))
      : [],
    view,
    overlay: Array.isArray(overlay) ? overlay.filter((o) => o && Array.isArray(o.box) && onThisView(o)) : [],
    initialBoxes: initial && Array.isArray(initial.boxes) ? initial.boxes.filter((b) => b && onThisView(b)) : [],
    windowCenter: finiteOrNull(attr("window-center")),
    windowWidth: finiteOrNull(attr("window-width")),
  };
}
