// Bounding boxes: drag on the image to draw; drag a box to move it; drag a corner to resize;
// 1–9 sets the label (of the selected box too); Delete removes; Ctrl+Z undoes.

import { labelColour } from "../shared/palette.js";
import { gettext } from "../shared/i18n.js";
import { svg } from "../shared/svg.js";
import { ShapeTool, round2 } from "./shapes.js";

const MIN_SIDE_PX = 4; // on screen: smaller drags are clicks, not boxes

export class BoxTool extends ShapeTool {
  constructor(options) {
    super(options);
    this.boxes = [];
    this.drag = null;
    this.render();
  }

  state() {
    return { boxes: this.boxes, selected: this.selected };
  }

  restore(state) {
    this.boxes = state.boxes;
    this.selected = state.selected;
  }

  stateFrom({ boxes }) {
    return { boxes: boxes.map(({ label, bbox: [x, y, w, h] }) => ({ label, x, y, w, h })), selected: -1 };
  }

  down(p, target) {
    const role = target.dataset?.role;
    const i = Number(target.dataset?.index);
    if (role === "handle") {
      this.snapshot();
      this.drag = { kind: "resize", i, corner: target.dataset.corner, moved: false };
    } else if (role === "box") {
      this.snapshot();
      this.selected = i;
      this.drag = { kind: "move", i, start: p, orig: { ...this.boxes[i] }, moved: false };
    } else {
      this.selected = -1;
      this.drag = { kind: "draw", start: this.clamp(p), end: this.clamp(p), moved: false };
    }
    this.render();
  }

  move(p) {
    const d = this.drag;
    if (!d) return;
    d.moved = true;
    if (d.kind === "draw") d.end = this.clamp(p);
    if (d.kind === "move") this.moveBox(d, p);
    if (d.kind === "resize") this.resizeBox(d, this.clamp(p));
    this.render();
  }

  moveBox(d, p) {
    const b = this.boxes[d.i];
    b.x = Math.min(Math.max(d.orig.x + p.x - d.start.x, 0), this.stage.width - b.w);
    b.y = Math.min(Math.max(d.orig.y + p.y - d.start.y, 0), this.stage.height - b.h);
  }

  resizeBox(d, p) {
    const b = this.boxes[d.i];
    // The corner opposite the one dragged stays put; dragging past it flips the box.
    const fixed = {
      x: d.corner.includes("w") ? b.x + b.w : b.x,
      y: d.corner.includes("n") ? b.y + b.h : b.y,
    };
    Object.assign(b, rectFrom(fixed, p));
    d.corner = (p.y < fixed.y ? "n" : "s") + (p.x < fixed.x ? "w" : "e");
  }

  up(p) {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.kind === "draw") {
      const r = rectFrom(d.start, this.clamp(p));
      const s = this.stage.scale();
      if (r.w * s >= MIN_SIDE_PX && r.h * s >= MIN_SIDE_PX) {
        this.snapshot();
        this.boxes.push({ label: this.labelName, ...r });
        this.selected = this.boxes.length - 1;
      }
    } else if (!d.moved) {
      this.history.pop(); // a click that only selected: nothing to undo
    }
    this.changed();
  }

  cancel() {
    const d = this.drag;
    this.drag = null;
    if (d && d.kind !== "draw") {
      if (d.moved) this.undo();
      else this.history.pop();
    }
    this.render();
  }

  setLabel(i) {
    if (i >= this.labels.length) return;
    this.current = i;
    this.showCurrent();
    if (this.selected >= 0 && this.boxes[this.selected].label !== this.labelName) {
      this.snapshot();
      this.boxes[this.selected].label = this.labelName;
    }
    this.changed();
  }

  deleteSelected() {
    if (this.selected < 0) return false;
    this.snapshot();
    this.boxes.splice(this.selected, 1);
    this.selected = -1;
    this.changed();
    return true;
  }

  key(e) {
    if (e.key === "Delete" || e.key === "Backspace") return this.deleteSelected();
    if (e.key === "Escape" && this.selected >= 0) {
      this.selected = -1;
      this.render();
      return true;
    }
    return false;
  }

  payload() {
    if (!this.boxes.length) throw new Error(gettext("Draw at least one box: drag on the image."));
    return {
      boxes: this.boxes.map((b) => ({ label: b.label, bbox: [b.x, b.y, b.w, b.h].map(round2) })),
    };
  }

  render() {
    this.group.replaceChildren();
    this.boxes.forEach((b, i) => this.renderBox(b, i));
    const d = this.drag;
    if (d?.kind === "draw" && d.moved) {
      const r = rectFrom(d.start, d.end);
      svg("rect", { x: r.x, y: r.y, width: r.w, height: r.h, class: "draft", stroke: labelColour(this.labels, this.labelName) }, this.group);
    }
  }

  renderBox(b, i) {
    const colour = labelColour(this.labels, b.label);
    const selected = i === this.selected;
    const rect = svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, stroke: colour, fill: colour, class: selected ? "box selected" : "box" }, this.group);
    rect.dataset.role = "box";
    rect.dataset.index = i;
    this.text(b.label, b.x, b.y - this.px(4), this.group);
    if (!selected) return;
    const r = this.handleRadius();
    for (const corner of ["nw", "ne", "sw", "se"]) {
      const cx = corner.includes("w") ? b.x : b.x + b.w;
      const cy = corner.includes("n") ? b.y : b.y + b.h;
      const h = svg("rect", { x: cx - r, y: cy - r, width: 2 * r, height: 2 * r, class: `handle ${corner}` }, this.group);
      Object.assign(h.dataset, { role: "handle", index: i, corner });
    }
  }
}

function rectFrom(a, b) {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
}
