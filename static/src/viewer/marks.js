// The resident's marks and their undo history. Marks live in world pixels; the
// normalised JSON is produced only at the boundary (hidden input, events).
import { normaliseBox } from "./geometry.js";

const HISTORY_LIMIT = 200;

const copy = (marks) => marks.map((m) => ({ ...m, box: m.box.slice() }));

export class MarkStore {
  /** @param {(reason: string) => void} onChange called after every committed change */
  constructor(onChange) {
    this.marks = [];
    this.past = [];
    this.future = [];
    this.nextId = 1;
    this.onChange = onChange;
    this.pending = null;
  }

  byId(id) {
    return this.marks.find((m) => m.id === id) || null;
  }

  indexOf(id) {
    return this.marks.findIndex((m) => m.id === id);
  }

  /** Replace everything without recording history (restoring a draft). */
  load(marks) {
    this.marks = marks.map((m) => ({ ...m, id: this.nextId++ }));
    this.past = [];
    this.future = [];
  }

  /** Apply one discrete change as a single undo step. */
  change(reason, mutate) {
    const before = copy(this.marks);
    const result = mutate(this.marks);
    this._record(before);
    this.onChange(reason);
    return result;
  }

  add(mark) {
    return this.change("add", (marks) => {
      const m = { label: "", confidence: null, ...mark, id: this.nextId++ };
      marks.push(m);
      return m;
    });
  }

  remove(id) {
    const i = this.indexOf(id);
    if (i < 0) return null;
    return this.change("remove", (marks) => marks.splice(i, 1)[0]);
  }

  update(id, patch, reason = "update") {
    const m = this.byId(id);
    if (!m) return null;
    return this.change(reason, () => Object.assign(m, patch));
  }

  // Drags change a box on every pointer move; begin/end fold them into one undo step.
  begin() {
    this.pending = copy(this.marks);
  }

  live(id, box) {
    const m = this.byId(id);
    if (m) m.box = box;
  }

  end(reason) {
    const before = this.pending;
    this.pending = null;
    if (!before || JSON.stringify(before) === JSON.stringify(this.marks)) return false;
    this._record(before);
    this.onChange(reason);
    return true;
  }

  cancel() {
    if (this.pending) this.marks = this.pending;
    this.pending = null;
  }

  undo() {
    return this._travel(this.past, this.future, "undo");
  }

  redo() {
    return this._travel(this.future, this.past, "redo");
  }

  _travel(from, to, reason) {
    if (!from.length) return false;
    to.push(copy(this.marks));
    this.marks = from.pop();
    this.onChange(reason);
    return true;
  }

  _record(before) {
    this.past.push(before);
    if (this.past.length > HISTORY_LIMIT) this.past.shift();
    this.future = [];
  }

  /** The contract shape: {"boxes": [{"label", "box": [x1, y1, x2, y2], "confidence"}]},
   * each box with "view" when the viewer shows one view of several. */
  toJSON(w, h, view = null) {
    return {
      boxes: this.marks.map((m) => ({
        label: m.label,
        box: normaliseBox(m.box, w, h),
        confidence: m.confidence ?? null,
        ...(view === null ? {} : { view }),
      })),
    };
  }
}
