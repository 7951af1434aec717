// The toolbar: real <button>s and <select>s so it works with a keyboard and a
// screen reader without any custom widget semantics.

const TOOLS = [
  ["select", "\u2196", "Select and move", "V"],
  ["draw", "\u25AD", "Draw box", "D"],
  ["pan", "\u2725", "Pan", "H"],
  ["wl", "\u25D0", "Window/level", "W"],
];

const ACTIONS = [
  ["zoomIn", "+", "Zoom in", "+"],
  ["zoomOut", "\u2212", "Zoom out", "-"],
  ["invert", "\u25D1", "Invert", "I"],
  ["reset", "\u27F2", "Reset view", "R"],
];

const EDITS = [
  ["delete", "\u2715", "Delete box", "Delete"],
  ["undo", "\u21B6", "Undo", "Control+Z"],
  ["redo", "\u21B7", "Redo", "Control+Shift+Z"],
];

const KEYS_HELP = [
  ["D / V / H / W", "draw, select, pan, window/level tool"],
  ["Arrows", "draw tool: move the crosshair; Enter sets a corner"],
  ["Arrows", "select tool: move the box (Shift: faster, Alt: resize)"],
  ["Click, click", "draw a box from two corners without dragging"],
  ["Tab / Shift+Tab", "next / previous box"],
  ["1-5", "confidence of the selected box"],
  ["L", "label picker: the selected box's name, or with none selected, the name for new boxes"],
  ["Delete", "delete the selected box"],
  ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo"],
  ["+ / - / wheel", "zoom; right-drag: window/level; middle-drag or Space+drag: pan"],
  ["I / R", "invert / reset view"],
  ["N", "next case"],
  ["Esc", "cancel drawing or deselect"],
];

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function button([name, glyph, label, key], pressable) {
  const b = el("button", "cxr-btn", {
    type: "button",
    "data-action": name,
    "aria-label": label,
    title: `${label} (${key})`,
    "aria-keyshortcuts": key,
  });
  if (pressable) b.setAttribute("aria-pressed", "false");
  b.textContent = glyph;
  return b;
}

function select(className, label, options) {
  const s = el("select", `cxr-select ${className}`, { "aria-label": label, title: label });
  for (const [value, text] of options) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    s.append(o);
  }
  return s;
}

/** A select with a short visible caption; its accessible name starts with the same words. */
function field(caption, control) {
  const wrap = el("label", "cxr-field");
  const text = el("span", "cxr-field-caption", { "aria-hidden": "true" });
  text.textContent = caption;
  wrap.append(text, control);
  return wrap;
}

function group(label, ...children) {
  const g = el("div", "cxr-group", { role: "group", "aria-label": label });
  g.append(...children);
  return g;
}

export function buildToolbar(mode, { labels, presets }) {
  const root = el("div", "cxr-toolbar", { role: "toolbar", "aria-label": "Image viewer tools" });
  const buttons = {};
  const add = (spec, pressable) => (buttons[spec[0]] = button(spec, pressable));
  const tools = TOOLS.filter(([name]) => mode === "annotate" || name === "pan" || name === "wl");
  root.append(group("Tools", ...tools.map((t) => add(t, true))));
  root.append(group("View", ...ACTIONS.map((a) => add(a, a[0] === "invert"))));

  const presetSelect = select("cxr-preset", "Window preset", [
    ["", "Window"],
    ["default", "Default"],
    ...presets.map((p, i) => [String(i), p.name]),
  ]);
  presetSelect.options[0].disabled = true;
  root.append(group("Window", presetSelect));

  // Two pickers, never one: the name the next box will get, and the name of the box now
  // selected. One picker for both renamed the box just drawn whenever the player chose the
  // name for the next one.
  let labelSelect = null;
  let relabelSelect = null;
  let confidenceSelect = null;
  if (mode === "annotate") {
    labelSelect = select("cxr-label", "New box label: the name the next box you draw gets", labels.map((l) => [l, l]));
    labelSelect.setAttribute("aria-keyshortcuts", "L");
    relabelSelect = select("cxr-relabel", "Selected box label: rename the selected box", [
      ["", "no box selected"],
      ...labels.map((l) => [l, l]),
    ]);
    relabelSelect.options[0].disabled = true;
    relabelSelect.setAttribute("aria-keyshortcuts", "L");
    confidenceSelect = select("cxr-confidence", "Confidence", [
      ["", "Confidence \u2013"],
      ...[1, 2, 3, 4, 5].map((n) => [String(n), `Confidence ${n}`]),
    ]);
    root.append(group("New boxes", field("New box label", labelSelect)));
    root.append(
      group(
        "Selected box",
        field("Selected box label", relabelSelect),
        confidenceSelect,
        ...EDITS.map((e) => add(e)),
      ),
    );
  }

  const help = el("details", "cxr-help");
  const summary = el("summary", "", { "aria-label": "Keys: keyboard shortcuts" });
  summary.textContent = "Keys";
  // On a short screen the list scrolls (viewer.css); a keyboard can scroll only what it can focus.
  const list = el("dl", "", { tabindex: "0" });
  for (const [keys, what] of KEYS_HELP) {
    const dt = el("dt");
    dt.textContent = keys;
    const dd = el("dd");
    dd.textContent = what;
    list.append(dt, dd);
  }
  help.append(summary, list);
  root.append(help);

  // Left/Right move between buttons, as a toolbar's users expect; selects keep their arrows.
  root.addEventListener("keydown", (e) => {
    if (e.target.tagName !== "BUTTON" || (e.key !== "ArrowLeft" && e.key !== "ArrowRight")) return;
    const all = [...root.querySelectorAll("button")];
    const next = all[(all.indexOf(e.target) + (e.key === "ArrowRight" ? 1 : all.length - 1)) % all.length];
    next.focus();
    e.preventDefault();
    e.stopPropagation();
  });

  return { root, buttons, labelSelect, relabelSelect, confidenceSelect, presetSelect };
}
