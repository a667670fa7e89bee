// The colours of shapes: a label's own colour when the project gives one, else the palette's in
// label order; on the review page, one per worker's answer.

export const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324", "#469990"];

export function paletteColour(i) {
  return PALETTE[i % PALETTE.length];
}

export function labelColour(labels, name) {
  const index = labels.findIndex((l) => l.name === name);
  return labels[index]?.color || paletteColour(Math.max(index, 0));
}
