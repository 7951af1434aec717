// Konva drawing: one layer for the image, one for boxes, one for editing aids.
// Layers do not listen: hit-testing is done in world coordinates by the pointer
// controller, which is simpler and exact for axis-aligned boxes.
import Konva from "konva/lib/Core";
import { Image as KImage } from "konva/lib/shapes/Image";
import { Rect } from "konva/lib/shapes/Rect";
import { Text } from "konva/lib/shapes/Text";
import { HANDLES, handlePoint } from "./geometry.js";
import { placeLabels } from "./labels.js";

// Sizes on screen, whatever the zoom: they are divided by the stage scale when drawn.
const HANDLE_PX = 9;
const FONT_PX = 12;
const PAD_PX = 3;

export class Scene {
  constructor(container, worldW, worldH) {
    this.w = worldW;
    this.h = worldH;
    this.stage = new Konva.Stage({
      container,
      width: Math.max(1, container.clientWidth),
      height: Math.max(1, container.clientHeight),
      listening: false,
    });
    this.imageLayer = new Konva.Layer({ listening: false });
    this.boxLayer = new Konva.Layer({ listening: false });
    this.uiLayer = new Konva.Layer({ listening: false });
    this.image = new KImage({ width: worldW, height: worldH, listening: false, image: undefined });
    this.imageLayer.add(this.image);
    this.stage.add(this.imageLayer, this.boxLayer, this.uiLayer);
  }

  get scale() {
    return this.stage.scaleX();
  }

  setImage(source) {
    this.image.image(source);
    this.imageLayer.batchDraw();
  }

  /** The image source's pixels changed in place (re-windowed). */
  imageChanged() {
    this.imageLayer.batchDraw();
  }

  destroy() {
    this.stage.destroy();
  }

  /**
   * Draw boxes. Each item: {box, color, dash, width, text, emphasis}.
   * `handlesFor` is the box of the selected mark, or null.
   */
  drawBoxes(items, handlesFor) {
    const s = this.scale;
    this.boxLayer.destroyChildren();
    for (const item of items) {
      const [x1, y1, x2, y2] = item.box;
      // A dark under-stroke keeps thin coloured lines visible on bright lung and bone.
      this.boxLayer.add(
        new Rect({
          x: x1, y: y1, width: x2 - x1, height: y2 - y1,
          stroke: "rgba(0,0,0,0.55)", strokeWidth: item.width + 2, strokeScaleEnabled: false,
        }),
        new Rect({
          x: x1, y: y1, width: x2 - x1, height: y2 - y1,
          stroke: item.color, strokeWidth: item.emphasis ? item.width + 1.5 : item.width,
          dash: item.dash || undefined, lineCap: item.dash && item.dash[0] < 3 ? "round" : "butt",
          strokeScaleEnabled: false,
        }),
      );
    }
    // Captions after every box, placed together so that none hides another.
    const labelled = items.filter((item) => item.text);
    const texts = labelled.map(
      (item) =>
        new Text({
          text: item.text, fontSize: FONT_PX / s, padding: PAD_PX / s, fill: "#fff",
          fontFamily: "system-ui, sans-serif", name: "caption",
        }),
    );
    const spots = placeLabels(
      labelled.map((item) => item.box),
      texts.map((t) => ({ w: t.width(), h: t.height() })),
      this.w,
      this.h,
    );
    labelled.forEach((item, i) => {
      const { x, y, w, h } = spots[i];
      texts[i].position({ x, y });
      const bg = new Rect({
        x, y, width: w, height: h, fill: "rgba(0,0,0,0.72)",
        stroke: item.color, strokeWidth: 1, strokeScaleEnabled: false, name: "caption-bg",
      });
      this.boxLayer.add(bg, texts[i]);
    });
    this.boxLayer.batchDraw();
    this.drawHandles(handlesFor);
  }

  drawHandles(box) {
    this._ui("handles", () => {
      if (!box) return [];
      const size = HANDLE_PX / this.scale;
      return HANDLES.map((name) => {
        const p = handlePoint(box, name);
        return new Rect({
          x: p.x - size / 2, y: p.y - size / 2, width: size, height: size,
          fill: "#fff", stroke: "#000", strokeWidth: 1, strokeScaleEnabled: false,
        });
      });
    });
  }

  /** The rubber band while drawing (drag, click-click or keyboard). */
  drawDraft(box) {
    this._ui("draft", () =>
      box
        ? [
            new Rect({
              x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1],
              stroke: "#F0E442", strokeWidth: 2, dash: [6, 4], strokeScaleEnabled: false,
            }),
          ]
        : [],
    );
  }

  /** Keyboard drawing cursor: full-image hairlines so it is easy to find. */
  drawCrosshair(p) {
    this._ui("crosshair", () => {
      if (!p) return [];
      const t = 1 / this.scale;
      const mark = 10 / this.scale;
      const common = { fill: "#F0E442", listening: false };
      return [
        new Rect({ ...common, x: 0, y: p.y - t / 2, width: this.w, height: t, opacity: 0.6 }),
        new Rect({ ...common, x: p.x - t / 2, y: 0, width: t, height: this.h, opacity: 0.6 }),
        new Rect({
          x: p.x - mark / 2, y: p.y - mark / 2, width: mark, height: mark,
          stroke: "#F0E442", strokeWidth: 2, strokeScaleEnabled: false,
        }),
      ];
    });
  }

  // Each editing aid lives in its own named group so one can be redrawn alone.
  _ui(name, build) {
    let group = this.uiLayer.findOne(`.${name}`);
    if (!group) {
      group = new Konva.Group({ name, listening: false });
      this.uiLayer.add(group);
    }
    group.destroyChildren();
    const shapes = build();
    if (shapes.length) group.add(...shapes);
    this.uiLayer.batchDraw();
  }
}
