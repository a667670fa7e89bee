// The SVG stage: the task image drawn at its original pixel size, so every shape's coordinates
// are image pixels whatever the size of the file shown (a scaled copy on a phone). Zoom and pan
// change only the viewBox. One finger or the mouse goes to the tool; two fingers pinch and pan;
// the wheel zooms; the middle or right button, or Space held, pans.

import { toUser } from "../shared/svg.js";

const MAX_ZOOM = 40;

export class Stage {
  constructor(svgEl, imageEl, layer) {
    Object.assign(this, { svg: svgEl, image: imageEl, layer });
    this.width = 1;
    this.height = 1;
    this.view = { x: 0, y: 0, w: 1, h: 1 };
    this.pointers = new Map();
    this.tool = null;
    this.toolActive = false;
    this.gesture = null;
    this.panKey = false;
    this.onView = () => {};
    svgEl.addEventListener("pointerdown", (e) => this.down(e));
    svgEl.addEventListener("pointermove", (e) => this.move(e));
    svgEl.addEventListener("pointerup", (e) => this.up(e));
    svgEl.addEventListener("pointercancel", (e) => this.cancel(e));
    svgEl.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    svgEl.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  load(url, width, height) {
    this.width = width;
    this.height = height;
    this.image.setAttribute("width", width);
    this.image.setAttribute("height", height);
    this.fit();
    return new Promise((resolve, reject) => {
      this.image.addEventListener("load", resolve, { once: true });
      this.image.addEventListener("error", reject, { once: true });
      this.image.setAttribute("href", url);
    });
  }

  setView(view) {
    const w = Math.min(Math.max(view.w, this.width / MAX_ZOOM), this.width * 4);
    const h = (w * view.h) / view.w;
    // Keep the middle of the view over the image, so it can never be panned out of sight.
    const x = Math.min(Math.max(view.x, -w / 2), this.width - w / 2);
    const y = Math.min(Math.max(view.y, -h / 2), this.height - h / 2);
    this.view = { x, y, w, h };
    this.svg.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
    this.onView();
  }

  fit() {
    this.setView({ x: 0, y: 0, w: this.width, h: this.height });
  }

  toImage(clientX, clientY) {
    return toUser(this.svg, clientX, clientY);
  }

  // Screen pixels per image pixel at the current zoom.
  scale() {
    const ctm = this.svg.getScreenCTM();
    return ctm ? ctm.a : 1;
  }

  zoomAt(factor, clientX, clientY) {
    const p = this.toImage(clientX, clientY);
    const v = this.view;
    const w = Math.min(Math.max(v.w / factor, this.width / MAX_ZOOM), this.width * 4);
    const f = v.w / w;
    this.setView({ x: p.x - (p.x - v.x) / f, y: p.y - (p.y - v.y) / f, w, h: v.h / f });
  }

  zoomCenter(factor) {
    const rect = this.svg.getBoundingClientRect();
    this.zoomAt(factor, rect.left + rect.width / 2, rect.top + rect.height / 2);
  }

  panBy(dx, dy) {
    const s = this.scale();
    this.setView({ ...this.view, x: this.view.x - dx / s, y: this.view.y - dy / s });
  }

  down(e) {
    this.svg.setPointerCapture?.(e.pointerId);
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (this.pointers.size === 2) {
      this.endTool(true);
      this.gesture = { kind: "pinch", ...this.pinchState() };
      return;
    }
    if (this.pointers.size > 2) return;
    const mouse = e.pointerType === "mouse";
    if (this.panKey || (mouse && (e.button === 1 || e.button === 2))) {
      this.gesture = { kind: "pan", x: e.clientX, y: e.clientY };
      return;
    }
    if (mouse && e.button !== 0) return;
    e.preventDefault();
    this.gesture = null;
    if (this.tool?.down) {
      this.toolActive = true;
      this.tool.down(this.toImage(e.clientX, e.clientY), e.target, e);
    }
  }

  move(e) {
    if (!this.pointers.has(e.pointerId)) return;
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const g = this.gesture;
    if (g?.kind === "pinch" && this.pointers.size === 2) {
      const now = this.pinchState();
      this.zoomAt(now.distance / g.distance, now.x, now.y);
      this.panBy(now.x - g.x, now.y - g.y);
      Object.assign(g, now);
    } else if (g?.kind === "pan") {
      this.panBy(e.clientX - g.x, e.clientY - g.y);
      Object.assign(g, { x: e.clientX, y: e.clientY });
    } else if (this.toolActive) {
      this.tool.move(this.toImage(e.clientX, e.clientY), e);
    }
  }

  up(e) {
    if (!this.pointers.delete(e.pointerId)) return;
    if (this.gesture) {
      if (this.pointers.size === 0) this.gesture = null;
      return;
    }
    if (this.toolActive) {
      this.toolActive = false;
      this.tool.up(this.toImage(e.clientX, e.clientY), e);
    }
  }

  cancel(e) {
    this.pointers.delete(e.pointerId);
    this.endTool(true);
    if (this.pointers.size === 0) this.gesture = null;
  }

  endTool(cancelled) {
    if (this.toolActive && cancelled) this.tool.cancel();
    this.toolActive = false;
  }

  pinchState() {
    const [a, b] = [...this.pointers.values()];
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, distance: Math.hypot(a.x - b.x, a.y - b.y) || 1 };
  }

  wheel(e) {
    e.preventDefault();
    this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX, e.clientY);
  }
}
