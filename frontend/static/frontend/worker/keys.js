// Who owns a key press: the page's shortcuts, or the focused element. Enter and Space belong to
// a control the worker reached with the keyboard (Tab) or assistive technology: a focused label
// is chosen, Skip skips, Reveal reveals. Focus left behind by a click or a tap, or kept while
// the worker draws with a pointer (the stage does not take the focus), is not a choice the worker
// made: there Enter still submits and Space still pans, as with nothing focused.
// (":focus-visible" cannot tell the two apart: chromium turns it on at the key press itself.)

const CONTROL = "button, a[href], input, select, textarea, summary, [contenteditable], [tabindex]:not([tabindex='-1'])";
const TYPING = "input, select, textarea, [contenteditable]";

let keyboardFocus = null; // the element that got the focus with no pointer involved
let pointerUsed = false; // a pointer pressed since the last key

// Capture phase: these run before any handler of the page sees the event.
document.addEventListener(
  "pointerdown",
  () => {
    pointerUsed = true;
    keyboardFocus = null; // a pointer at work (even on the stage, which keeps the focus where it was)
  },
  true,
);
document.addEventListener(
  "keydown",
  () => {
    pointerUsed = false;
  },
  true,
);
document.addEventListener(
  "focusin",
  (e) => {
    keyboardFocus = pointerUsed ? null : e.target;
  },
  true,
);

// True when the focused element should handle this key itself (the page's shortcuts stay out).
export function keyBelongsToFocus(e) {
  const control = e.target.closest?.(CONTROL);
  if (!control) return false;
  if (control.matches(TYPING)) return true;
  return (e.key === "Enter" || e.key === " ") && e.target === keyboardFocus;
}

// True when the focus is inside ``el`` and got there from the keyboard rather than a pointer.
export function focusedByKeyboard(el) {
  return el.contains(document.activeElement) && document.activeElement === keyboardFocus;
}
