// Polygons: click or tap to add points; close by clicking the first point or pressing Enter;
// click a polygon to select it, then drag its vertices; Backspace removes the last point of the
// polygon being drawn; Delete removes the selected polygon; Escape drops the unfinished one.

import { labelColour } from "../shared/palette.js";
import { gettext } from "../shared/i18n.js";
import { svg } from "../shared/svg.js";
import { ShapeTool, round2 } from "./shapes.js";

const TAP_SLOP_PX = 8; // a press that moves less than this is a click, not a drag

export class PolygonTool extends ShapeTool {
  constructor(options) {
    super(options);
    this.polygons = [];
    this.draft = [];
    this.drag = null;
    this.render();
  }

  state() {
    return { polygons: this.polygons, draft: this.draft, selected: this.selected };
  }

  restore(state) {
    Object.assign(this, state);
  }

  stateFrom({ polygons }) {
    return { polygons: polygons.map(({ label, points }) => ({ label, points: points.map((pt) => [...pt]) })), draft: [], selected: -1 };
  }

  down(p, target, e) {
    const role = target.dataset?.role;
    const start = { x: e.clientX, y: e.clientY };
    if (role === "vertex") {
      this.snapshot();
      const owner = target.dataset.owner;
      this.drag = { kind: "vertex", owner, j: Number(target.dataset.vertex), start, moved: false };
    } else if (role === "polygon" && !this.draft.length) {
      this.drag = { kind: "select", i: Number(target.dataset.index), start, moved: false };
    } else {
      this.drag = { kind: "add", start, moved: false };
    }
  }

  move(p, e) {
    const d = this.drag;
    if (!d) return;
    if (Math.hypot(e.clientX - d.start.x, e.clientY - d.start.y) > TAP_SLOP_PX) d.moved = true;
    if (d.kind === "vertex" && d.moved) {
      const q = this.clamp(p);
      this.points(d.owner)[d.j] = [q.x, q.y];
      this.render();
    }
  }

  points(owner) {
    return owner === "draft" ? this.draft : this.polygons[Number(owner)].points;
  }

  up(p) {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.kind === "add" && !d.moved) this.addPoint(this.clamp(p));
    if (d.kind === "select" && !d.moved) this.select(d.i);
    if (d.kind === "vertex" && !d.moved) {
      this.history.pop(); // a click on a vertex moved nothing
      if (d.owner === "draft" && d.j === 0) this.close();
    }
    this.changed();
  }

  cancel() {
    const d = this.drag;
    this.drag = null;
    if (d?.kind === "vertex") {
      if (d.moved) this.undo();
      else this.history.pop();
    }
    this.render();
  }

  addPoint(q) {
    this.snapshot();
    this.draft = [...this.draft, [q.x, q.y]];
    this.selected = -1;
  }

  select(i) {
    this.selected = i;
    this.current = this.labels.findIndex((l) => l.name === this.polygons[i].label);
    this.showCurrent();
  }

  close() {
    if (this.draft.length < 3) {
      this.say(gettext("A polygon needs at least 3 points."), "error");
      return false;
    }
    this.snapshot();
    this.polygons = [...this.polygons, { label: this.labelName, points: this.draft }];
    this.draft = [];
    this.selected = this.polygons.length - 1;
    this.changed();
    return true;
  }

  setLabel(i) {
    if (i >= this.labels.length) return;
    this.current = i;
    this.showCurrent();
    const polygon = this.polygons[this.selected];
    if (polygon && polygon.label !== this.labelName) {
      this.snapshot();
      polygon.label = this.labelName;
    }
    this.changed();
  }

  deleteSelected() {
    if (this.draft.length) {
      this.snapshot();
      this.draft = [];
    } else if (this.selected >= 0) {
      this.snapshot();
      this.polygons = this.polygons.filter((_, i) => i !== this.selected);
      this.selected = -1;
    } else {
      return false;
    }
    this.changed();
    return true;
  }

  key(e) {
    if (e.key === "Enter" && this.draft.length) {
      this.close();
      return true;
    }
    if (e.key === "Backspace" && this.draft.length) {
      this.snapshot();
      this.draft = this.draft.slice(0, -1);
      this.changed();
      return true;
    }
    if (e.key === "Delete" || e.key === "Backspace") return this.deleteSelected();
    if (e.key === "Escape" && this.draft.length) return this.deleteSelected();
    if (e.key === "Escape" && this.selected >= 0) {
      this.selected = -1;
      this.render();
      return true;
    }
    return false;
  }

  payload() {
    if (this.draft.length) throw new Error(gettext("Finish the polygon first: click its first point or press Enter."));
    if (!this.polygons.length) throw new Error(gettext("Draw at least one polygon: click around the object."));
    return {
      polygons: this.polygons.map((poly) => ({ label: poly.label, points: poly.points.map((pt) => pt.map(round2)) })),
    };
  }

  render() {
    this.group.replaceChildren();
    this.polygons.forEach((poly, i) => {
      const colour = labelColour(this.labels, poly.label);
      const shape = svg("polygon", { points: poly.points.join(" "), stroke: colour, fill: colour, class: i === this.selected ? "polygon selected" : "polygon" }, this.group);
      Object.assign(shape.dataset, { role: "polygon", index: i });
      this.text(poly.label, poly.points[0][0], poly.points[0][1] - this.px(4), this.group);
    });
    if (this.selected >= 0 && this.polygons[this.selected]) this.vertices(String(this.selected), this.polygons[this.selected].points);
    if (this.draft.length) {
      svg("polyline", { points: this.draft.join(" "), class: "draft", stroke: labelColour(this.labels, this.labelName) }, this.group);
      this.vertices("draft", this.draft);
    }
  }

  vertices(owner, points) {
    const r = this.handleRadius();
    points.forEach(([x, y], j) => {
      const closes = owner === "draft" && j === 0 && points.length >= 3;
      const dot = svg("circle", { cx: x, cy: y, r: closes ? r * 1.4 : r, class: closes ? "vertex first" : "vertex" }, this.group);
      Object.assign(dot.dataset, { role: "vertex", owner, vertex: j });
    });
  }
}
