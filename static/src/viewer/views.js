// <cxr-views>: the views of one study (frontal, lateral, ...), one <cxr-viewer> child each,
// shown one at a time with a thumbnail strip to switch between them.
//
//   <cxr-views aria-label="Views of this study">
//     <cxr-viewer view-label="Frontal" src="..." ...></cxr-viewer>
//     <cxr-viewer view-label="Lateral" src="..." ...></cxr-viewer>
//   </cxr-views>
//
// Every viewer stays alive and laid out (the inactive ones are only made invisible and inert),
// so each view keeps its own window/level, zoom, pan and marks while another one is shown.
// Switching: click a thumbnail; in the strip, arrow keys / Home / End (the tabs pattern);
// anywhere inside the element, "[" and "]" for the previous and next view. A bubbling
// `cxr-view-change` event {index, label} follows every switch; data-active-view holds the index.
//
// Marks on several views: give each annotating viewer a view-id (the server's id of that image)
// and the group, not the viewers, an input="..." attribute. The group writes every view's boxes,
// each carrying its "view", into that input as one {"boxes": [...]} and sends one
// `cxr-marks-change` with the whole answer in place of each viewer's own.

let groups = 0;

export class CxrViews extends HTMLElement {
  connectedCallback() {
    if (this._started) return;
    this._started = true;
    this.classList.add("cxr-views");
    this.viewers = [...this.querySelectorAll(":scope > cxr-viewer")];
    this.tabs = [];
    const n = ++groups;
    if (this.viewers.length > 1) {
      this.strip = document.createElement("div");
      this.strip.className = "cxr-views-strip";
      this.strip.setAttribute("role", "tablist");
      this.strip.setAttribute("aria-label", "Views ([ and ] switch)");
      this.viewers.forEach((viewer, index) => {
        viewer.id ||= `cxr-view-${n}-${index}`;
        viewer.setAttribute("role", "tabpanel");
        this.strip.append(this._tab(viewer, index));
      });
      this.prepend(this.strip);
      this.strip.addEventListener("keydown", (e) => this._stripKey(e));
    }
    this.addEventListener("keydown", (e) => this._key(e));
    if (this.getAttribute("input")) {
      this.addEventListener("cxr-marks-change", (e) => this._marksChanged(e));
      this.addEventListener("cxr-ready", () => this._writeInput());
    }
    this.select(0, { focus: false, announce: false });
  }

  /** Every view's boxes, in view order, each with its view. */
  get marks() {
    return { boxes: this.viewers.flatMap((viewer) => (viewer.marks ? viewer.marks.boxes : [])) };
  }

  _writeInput() {
    const value = this.marks;
    const input = document.getElementById(this.getAttribute("input"));
    if (input) input.value = JSON.stringify(value);
    return value;
  }

  _marksChanged(e) {
    if (e.target === this) return;
    e.stopPropagation();
    const detail = this._writeInput();
    this.dispatchEvent(new CustomEvent("cxr-marks-change", { detail, bubbles: true, composed: true }));
  }

  /** The index of the view shown now. */
  get activeIndex() {
    return this._active ?? 0;
  }

  /** Show view `index` (clamped); the others keep their state. */
  select(index, { focus = false, announce = true } = {}) {
    if (!this.viewers.length) return;
    const next = Math.max(0, Math.min(this.viewers.length - 1, index));
    const changed = next !== this._active;
    this._active = next;
    this.dataset.activeView = String(next);
    this.viewers.forEach((viewer, i) => {
      const on = i === next;
      viewer.classList.toggle("cxr-view-active", on);
      viewer.toggleAttribute("inert", !on);
      viewer.setAttribute("aria-hidden", on ? "false" : "true");
    });
    this.tabs.forEach((tab, i) => {
      const on = i === next;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    });
    if (focus) this.tabs[next]?.focus();
    if (changed && announce) {
      this.dispatchEvent(
        new CustomEvent("cxr-view-change", {
          detail: { index: next, label: this._label(this.viewers[next], next) },
          bubbles: true,
        }),
      );
    }
  }

  _label(viewer, index) {
    return viewer.getAttribute("view-label") || `View ${index + 1}`;
  }

  _tab(viewer, index) {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.className = "cxr-views-tab";
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", viewer.id);
    const label = this._label(viewer, index);
    tab.title = `${label} (view ${index + 1} of ${this.viewers.length})`;
    const thumb = document.createElement("img");
    thumb.src = viewer.getAttribute("src") || "";
    thumb.alt = "";
    thumb.decoding = "async";
    thumb.loading = "lazy";
    const caption = document.createElement("span");
    caption.textContent = `${index + 1} · ${label}`;
    tab.append(thumb, caption);
    tab.addEventListener("click", () => this.select(index, { focus: true }));
    this.tabs.push(tab);
    return tab;
  }

  _stripKey(e) {
    const last = this.viewers.length - 1;
    const target = {
      ArrowRight: this.activeIndex + 1,
      ArrowDown: this.activeIndex + 1,
      ArrowLeft: this.activeIndex - 1,
      ArrowUp: this.activeIndex - 1,
      Home: 0,
      End: last,
    }[e.key];
    if (target === undefined) return;
    this.select((target + last + 1) % (last + 1), { focus: true });
    e.preventDefault();
    e.stopPropagation();
  }

  _key(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
    const step = { "[": -1, "]": 1 }[e.key];
    if (!step || this.viewers.length < 2) return;
    const keepFocusInViewer = this.viewers[this.activeIndex]?.contains(e.target);
    this.select(this.activeIndex + step, { focus: !keepFocusInViewer });
    if (keepFocusInViewer) this.viewers[this.activeIndex].querySelector(".cxr-stage")?.focus();
    e.preventDefault();
  }
}
