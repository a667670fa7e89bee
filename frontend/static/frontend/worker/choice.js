import { gettext } from "../shared/i18n.js";
import { onPress } from "./press.js";

// Classification (one button per label) and moderation (safe / unsafe, then categories).
// Keys 1–9 press the buttons; the answer is sent with Enter or the Submit button. A label shows
// its title (the project's name for it in the worker's language); the answer carries its name.

function button(panel, text, key, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "choice";
  const kbd = document.createElement("kbd");
  kbd.textContent = key;
  b.append(kbd, document.createTextNode(" " + text)); // text nodes: labels are never markup
  onPress(b, onClick);
  panel.appendChild(b);
  return b;
}

export class ClassTool {
  constructor({ panel, labels }) {
    Object.assign(this, { panel, labels });
    this.choice = null;
    panel.replaceChildren();
    this.buttons = labels.map((l, i) => button(panel, l.title || l.name, i < 9 ? String(i + 1) : "", () => this.setLabel(i)));
  }

  setLabel(i) {
    if (i < 0 || i >= this.labels.length) return;
    this.choice = i;
    this.buttons.forEach((b, j) => b.setAttribute("aria-pressed", String(i === j)));
  }

  // A model's proposal, pressed as if the worker had chosen it.
  propose({ label }) {
    this.setLabel(this.labels.findIndex((l) => l.name === label));
  }

  key() {
    return false;
  }

  undo() {
    return false;
  }

  payload() {
    if (this.choice === null) throw new Error(gettext("Pick a label (click it or press its number)."));
    return { label: this.labels[this.choice].name };
  }

  destroy() {
    this.panel.replaceChildren();
  }
}

export class ModerationTool {
  constructor({ panel, labels }) {
    Object.assign(this, { panel, labels });
    this.verdict = null;
    this.categories = new Set();
    panel.replaceChildren();
    this.verdicts = [
      button(panel, gettext("Safe"), "1", () => this.setLabel(0)),
      button(panel, gettext("Unsafe"), "2", () => this.setLabel(1)),
    ];
    this.verdicts.forEach((b, i) => b.classList.add(i ? "unsafe" : "safe"));
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = gettext("If unsafe, what is in it:");
    panel.appendChild(hint);
    this.toggles = labels.map((l, i) => button(panel, l.title || l.name, i < 7 ? String(i + 3) : "", () => this.setLabel(i + 2)));
    this.show();
  }

  // 0: safe; 1: unsafe; 2…: toggle a category (which makes the verdict unsafe).
  setLabel(i) {
    if (i === 0) {
      this.verdict = "safe";
      this.categories.clear();
    } else if (i === 1) {
      this.verdict = "unsafe";
    } else if (i - 2 < this.labels.length) {
      const name = this.labels[i - 2].name;
      if (!this.categories.delete(name)) this.categories.add(name);
      this.verdict = "unsafe";
    }
    this.show();
  }

  propose({ verdict, categories }) {
    this.verdict = verdict;
    this.categories = new Set(categories);
    this.show();
  }

  show() {
    this.verdicts[0].setAttribute("aria-pressed", String(this.verdict === "safe"));
    this.verdicts[1].setAttribute("aria-pressed", String(this.verdict === "unsafe"));
    this.toggles.forEach((b, i) => b.setAttribute("aria-pressed", String(this.categories.has(this.labels[i].name))));
  }

  key() {
    return false;
  }

  undo() {
    return false;
  }

  payload() {
    if (!this.verdict) throw new Error(gettext("Choose safe (1) or unsafe (2)."));
    return { verdict: this.verdict, categories: this.verdict === "unsafe" ? [...this.categories] : [] };
  }

  destroy() {
    this.panel.replaceChildren();
  }
}
