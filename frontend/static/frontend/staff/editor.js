// The review's shape editor: a copy of a payload drawn over the image with a grip on every box
// edge and polygon vertex. Dragging an edge moves it (the opposite edge stays put, a box keeps
// at least 1 px a side); dragging a vertex moves it. Image pixels, rounded to 0.1.

import { svg, toUser } from "../shared/svg.js";

const round1 = (v) => Math.round(v * 10) / 10;
const clamp = (v, max) => Math.min(Math.max(v, 0), max);

// An editable copy of a payload; shapes lose the fusion's scores.
export function draftFrom(payload) {
  const draft = JSON.parse(JSON.stringify(payload || {}));
  for (const box of draft.boxes || []) delete box.score;
  for (const polygon of draft.polygons || []) delete polygon.score;
  return draft;
}

export function drawDraft(overlay, draft, { width, height }) {
  const layer = svg("g", { class: "draft" }, overlay);
  const grip = Math.max(width, height) / 40;
  (draft.boxes || []).forEach((box, b) => {
    const [x, y, w, h] = box.bbox;
    svg("rect", { x, y, width: w, height: h, class: "shape edited" }, layer);
    const edges = {
      left: [x, y, x, y + h],
      right: [x + w, y, x + w, y + h],
      top: [x, y, x + w, y],
      bottom: [x, y + h, x + w, y + h],
    };
    for (const [edge, [x1, y1, x2, y2]] of Object.entries(edges)) {
      const attrs = { x1, y1, x2, y2, class: `handle edge-${edge}`, "stroke-width": grip, "data-box": b, "data-edge": edge };
      svg("line", attrs, layer);
    }
  });
  (draft.polygons || []).forEach((polygon, p) => {
    svg("polygon", { points: polygon.points.map((q) => q.join(",")).join(" "), class: "shape edited" }, layer);
    polygon.points.forEach(([cx, cy], v) => {
      svg("circle", { cx, cy, r: grip / 2, class: "handle vertex", "data-polygon": p, "data-vertex": v }, layer);
    });
  });
}

function moveEdge(box, edge, [px, py]) {
  let [x, y, w, h] = box.bbox;
  const right = x + w;
  const bottom = y + h;
  if (edge === "left") {
    x = Math.min(px, right - 1);
    w = right - x;
  }
  if (edge === "right") w = Math.max(px - x, 1);
  if (edge === "top") {
    y = Math.min(py, bottom - 1);
    h = bottom - y;
  }
  if (edge === "bottom") h = Math.max(py - y, 1);
  box.bbox = [x, y, w, h].map(round1);
}

// Moves what the grip (a handle's dataset) holds to the point [x, y].
export function reshape(draft, grip, point) {
  if (grip.edge) moveEdge(draft.boxes[Number(grip.box)], grip.edge, point);
  else draft.polygons[Number(grip.polygon)].points[Number(grip.vertex)] = point.map(round1);
}

// Follows drags of the grips while active(): onDrag(grip, [x, y]) with the pointer in image
// pixels, kept inside the image (size() gives its width and height).
export function trackGrips(overlay, { active, size, onDrag }) {
  let dragging = null;
  overlay.addEventListener("pointerdown", (event) => {
    const handle = event.target.closest(".handle");
    if (!handle || !active()) return;
    event.preventDefault();
    dragging = { ...handle.dataset };
    overlay.setPointerCapture(event.pointerId);
  });
  overlay.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    const { width, height } = size();
    const p = toUser(overlay, event.clientX, event.clientY);
    onDrag(dragging, [clamp(p.x, width), clamp(p.y, height)]);
  });
  overlay.addEventListener("pointerup", () => {
    dragging = null;
  });
}
