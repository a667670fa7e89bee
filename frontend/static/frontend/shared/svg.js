// SVG drawing: elements made with their attributes, and screen points read in the drawing's own
// coordinates (image pixels, on the stage and the review overlay alike).

export const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(name, attrs = {}, parent = null) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (parent) parent.appendChild(el);
  return el;
}

// A point on the screen (clientX, clientY) in the user coordinates of the svg element.
export function toUser(svgEl, clientX, clientY) {
  const point = new DOMPoint(clientX, clientY).matrixTransform(svgEl.getScreenCTM().inverse());
  return { x: point.x, y: point.y };
}
