// What the box and polygon tools share: the label picker (keys 1–9), an undo stack of
// snapshots, selection, and sizes that stay the same on screen at any zoom.

import { labelColour } from "../shared/palette.js";
import { svg } from "../shared/svg.js";
import { onPress } from "./press.js";

const COARSE = window.matchMedia("(pointer: coarse)").matches;

export function labelButtons(panel, labels, onPick) {
  panel.replaceChildren();
  return labels.map((label, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "choice";
    button.dataset.label = label.name;
    const swatch = document.createElement("i");
    swatch.className = "swatch";
    swatch.dataset.colour = labelColour(labels, label.name);
    const key = document.createElement("kbd");
    key.textContent = i < 9 ? String(i + 1) : "";
    button.append(swatch, key, document.createTextNode(" " + (label.title || label.name)));
    onPress(button, () => onPick(i));
    panel.appendChild(button);
    return button;
  });
}

// Swatch colours are set through the CSSOM, which a strict CSP allows (a style attribute it would not).
export function paintSwatches(panel) {
  for (const swatch of panel.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;
}

export class ShapeTool {
  constructor({ stage, panel, labels, onChange, say }) {
    Object.assign(this, { stage, panel, labels, onChange, say });
    this.current = 0;
    this.selected = -1;
    this.history = [];
    this.group = svg("g", { class: "shapes" }, stage.layer);
    this.buttons = labelButtons(panel, labels, (i) => this.setLabel(i));
    paintSwatches(panel);
    stage.tool = this;
    stage.onView = () => this.render();
    this.showCurrent();
  }

  get labelName() {
    return this.labels[this.current].name;
  }

  showCurrent() {
    this.buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(i === this.current)));
  }

  // Screen-constant sizes: a handle is ~8 px wide with a mouse, ~14 px under a finger.
  px(n) {
    return n / this.stage.scale();
  }

  handleRadius() {
    return this.px(COARSE ? 14 : 7);
  }

  clamp(p) {
    return {
      x: Math.min(Math.max(p.x, 0), this.stage.width),
      y: Math.min(Math.max(p.y, 0), this.stage.height),
    };
  }

  snapshot() {
    this.history.push(JSON.stringify(this.state()));
    if (this.history.length > 200) this.history.shift();
  }

  // A model's proposal, loaded as if drawn here (each tool's stateFrom reads the payload): its
  // shapes select, move, relabel and delete like any other, and undo goes back to it, not past it.
  propose(payload) {
    this.restore(this.stateFrom(payload));
    this.render();
  }

  undo() {
    const last = this.history.pop();
    if (!last) return false;
    this.restore(JSON.parse(last));
    this.changed();
    return true;
  }

  changed() {
    this.render();
    this.onChange();
  }

  destroy() {
    this.group.remove();
    this.panel.replaceChildren();
    this.stage.tool = null;
    this.stage.onView = () => {};
  }

  // A shape keeps the label's name (the answer's); the worker reads its title, in their language.
  titleOf(name) {
    const label = this.labels.find((l) => l.name === name);
    return (label && label.title) || name;
  }

  text(label, x, y, parent) {
    const t = svg("text", { x, y, "font-size": this.px(13), class: "shape-label" }, parent);
    t.textContent = this.titleOf(label); // textContent: a label is shown as text, never parsed as markup
    return t;
  }
}

export const round2 = (n) => Math.round(n * 100) / 100;
