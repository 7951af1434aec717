// Review-mode styles. Colour alone must never carry the meaning (about 1 in 12 men
// have a colour-vision deficiency), so every kind has an Okabe-Ito colour AND its
// own dash pattern AND a written name on the box and in the legend.

// Dash lengths are in screen pixels (strokes are drawn unscaled).
export const KINDS = {
  truth: { name: "Ground truth", color: "#009E73", dash: [14, 5], width: 2 },
  hit: { name: "Hit", color: "#0072B2", dash: null, width: 3 },
  miss: { name: "Miss", color: "#E69F00", dash: [7, 5], width: 2.5 },
  false_positive: { name: "False positive", color: "#D55E00", dash: [2, 4], width: 3 },
  mislabelled: { name: "Mislabelled", color: "#CC79A7", dash: [12, 4, 3, 4], width: 2.5 },
  mark: { name: "Your mark", color: "#56B4E9", dash: [10, 3, 2, 3, 2, 3], width: 2 },
};

export function kindStyle(kind) {
  return KINDS[kind] || KINDS.mark;
}

export function overlayCaption(item) {
  const style = kindStyle(item.kind);
  const parts = [`${style.name}: ${item.label || "unlabelled"}`];
  if (item.caption) parts.push(item.caption);
  return parts.join(" · ");
}

const SVG = "http://www.w3.org/2000/svg";

function swatch(style) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", "36");
  svg.setAttribute("height", "12");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(SVG, "line");
  for (const [k, v] of Object.entries({ x1: 1, y1: 6, x2: 35, y2: 6, stroke: style.color })) {
    line.setAttribute(k, String(v));
  }
  line.setAttribute("stroke-width", String(style.width));
  if (style.dash) line.setAttribute("stroke-dasharray", style.dash.join(" "));
  svg.append(line);
  return svg;
}

/** A legend listing only the kinds present, in a fixed order. */
export function buildLegend(items) {
  const present = new Set(items.map((i) => (KINDS[i.kind] ? i.kind : "mark")));
  const list = document.createElement("ul");
  list.className = "cxr-legend";
  list.setAttribute("aria-label", "Legend");
  for (const [kind, style] of Object.entries(KINDS)) {
    if (!present.has(kind)) continue;
    const li = document.createElement("li");
    li.dataset.kind = kind;
    li.append(swatch(style), document.createTextNode(style.name));
    list.append(li);
  }
  return list;
}
