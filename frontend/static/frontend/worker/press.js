// A button press that survives a lost click. On touch screens chromium sometimes drops the click
// of a tap that follows a drag on the drawing area (pointerdown and pointerup arrive, click does
// not), so a touch press acts on pointerup, and the click that may follow is ignored.

const SLOP_PX = 10;
const CLICK_AFTER_TOUCH_MS = 800;

export function onPress(el, handler) {
  let down = null;
  let pressedAt = -Infinity;
  el.addEventListener("pointerdown", (e) => {
    down = e.pointerType === "touch" ? { x: e.clientX, y: e.clientY } : null;
  });
  el.addEventListener("pointerup", (e) => {
    if (!down || e.pointerType !== "touch" || el.disabled) return;
    const still = Math.hypot(e.clientX - down.x, e.clientY - down.y) <= SLOP_PX;
    down = null;
    if (!still) return;
    pressedAt = performance.now();
    handler(e);
  });
  el.addEventListener("click", (e) => {
    if (performance.now() - pressedAt < CLICK_AFTER_TOUCH_MS) return;
    handler(e);
  });
}
