// Keyboard shortcuts, scoped to the element so they never fight the page's own keys,
// and skipped while a <select> or text field has focus (they need their letters).
import { moveBox, resizeBox } from "./geometry.js";

const TOOL_KEYS = { d: "draw", v: "select", h: "pan", w: "wl" };
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function isField(target) {
  return target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName);
}

export function onKeyDown(v, e) {
  if (!v.viewport) return;
  const onStage = e.target === v.stageHost;
  if (isField(e.target)) {
    // Escape leaves the label or confidence picker and goes back to the image.
    if (e.key === "Escape") {
      v.stageHost.focus();
      e.preventDefault();
    }
    return;
  }
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const ctrl = e.ctrlKey || e.metaKey;
  let handled = true;
  if (ctrl && key === "z") e.shiftKey ? v.redo() : v.undo();
  else if (ctrl && key === "y") v.redo();
  else if (ctrl || (e.altKey && !ARROWS[key])) handled = false;
  else if (TOOL_KEYS[key] && v.hasTool(TOOL_KEYS[key])) v.setTool(TOOL_KEYS[key], true);
  else if (key === "i") v.toggleInvert();
  else if (key === "r") v.resetView();
  else if (key === "+" || key === "=") v.viewport.zoomCentre(1.25);
  else if (key === "-" || key === "_") v.viewport.zoomCentre(0.8);
  else if (key === "n") v.emit("cxr-next-case", {});
  else if (key === "Escape") v.escape();
  else if (v.mode === "annotate" && (key === "Delete" || key === "Backspace")) v.deleteSelected();
  else if (v.mode === "annotate" && key >= "1" && key <= "5") v.setConfidence(Number(key));
  else if (v.mode === "annotate" && key === "l" && v.toolbar.labelSelect) v.focusLabelPicker();
  else if (onStage && key === " ") {
    v.spaceDown = true;
  } else if (onStage && key === "Tab") handled = v.cycle(e.shiftKey ? -1 : 1);
  else if (onStage && ARROWS[key]) arrow(v, e, ARROWS[key]);
  else if (onStage && key === "Enter" && v.mode === "annotate" && v.tool === "draw") v.keyboardCorner();
  else handled = false;
  if (handled) {
    e.preventDefault();
    e.stopPropagation();
  }
}

export function onKeyUp(v, e) {
  if (e.key === " ") v.spaceDown = false;
}

/** Arrows: crosshair in the draw tool, nudge/resize the selection, otherwise pan. */
function arrow(v, e, [dx, dy]) {
  const scale = v.viewport.scale;
  if (v.mode === "annotate" && v.tool === "draw") {
    const px = e.altKey ? 1 : e.shiftKey ? 40 : 8;
    v.moveCrosshair((dx * px) / scale, (dy * px) / scale);
    return;
  }
  const mark = v.mode === "annotate" && v.tool === "select" ? v.selectedMark() : null;
  if (!mark) {
    const px = e.shiftKey ? 200 : 40;
    v.viewport.panBy(-dx * px, -dy * px);
    return;
  }
  // Fine steps: a box edge is usually a few pixels off, not a screenful.
  const step = (e.shiftKey ? 20 : 2) / scale;
  const [, , x2, y2] = mark.box;
  const box = e.altKey
    ? resizeBox(mark.box, "se", { x: x2 + dx * step, y: y2 + dy * step }, v.w, v.h, 1)
    : moveBox(mark.box, dx * step, dy * step, v.w, v.h);
  if (box.some((c, i) => c !== mark.box[i])) v.store.update(mark.id, { box }, "nudge");
}
