// The next task, held while the worker labels the one shown (prefetch): its lease, asked for
// with POST /work/next/ {after: the assignment shown}, and its image, fetched into the browser's
// cache so that Submit shows it at once. A held lease past half its time is not shown (the
// worker would have too little left) but given back, as is one still held when the page goes.

import { csrfToken, withRetry } from "../shared/api.js";

let held = null; // { lease, fetchedAt, image }
let fetching = false;

// A slow or metered link: Save-Data (the browser's data saver) or a 3G-or-worse connection, by
// the Network Information API where the browser has it.
export function frugalLink() {
  const link = navigator.connection;
  return !!link && (link.saveData || ["slow-2g", "2g", "3g"].includes(link.effectiveType));
}

// The pixels the image needs to fill the stage at this zoom: device pixels, but CSS pixels on a
// frugal link (a quarter of the bytes on a phone's 2× screen; zooming in sharpens it).
export function neededPx(stageWrap, lease, zoom = 1) {
  const rect = stageWrap.getBoundingClientRect();
  const fit = Math.min(rect.width / lease.width, rect.height / lease.height) || 1;
  const ratio = frugalLink() ? 1 : window.devicePixelRatio || 1;
  return Math.max(lease.width, lease.height) * fit * zoom * ratio;
}

// The image at the size the screen needs, rounded up by the server to a cached size, or the
// original when the screen needs all of it: { url, size } (size: the longest side asked for).
export function imageFor(lease, needPx) {
  const longest = Math.max(lease.width, lease.height);
  const size = Math.min(Math.ceil(needPx), 10000);
  if (size >= longest) return { url: lease.image_url, size: longest };
  return { url: `${lease.image_url}?size=${size}`, size };
}

// Asks, quietly, for the task after the one shown (the server answers with the same one if
// asked again, and with none near the end of a project). shownNow() is the page's lease now.
export async function prefetchNext(api, { project, shownNow, stageWrap }) {
  const shown = shownNow();
  if (held || fetching || !shown) return;
  fetching = true;
  try {
    const body = { after: shown.assignment, ...(project ? { project } : {}) };
    const lease = await withRetry(() => api.post("/api/v1/work/next/", body), { serverErrors: true });
    if (lease && lease.assignment !== shownNow()?.assignment) {
      const image = new Image(); // kept here so that it loads to the end
      image.src = imageFor(lease, neededPx(stageWrap, lease)).url;
      held = { lease, fetchedAt: Date.now(), image };
    }
  } catch (err) {
    /* nothing held: Submit fetches the next task itself */
  } finally {
    fetching = false;
  }
}

// The held lease to show now, or null (none, or too old: then given back).
export function take() {
  const next = held;
  held = null;
  if (!next) return null;
  const end = Date.parse(next.lease.expires_at);
  if (end - Date.now() > (end - next.fetchedAt) / 2) return next.lease;
  giveBack(next.lease);
  return null;
}

// The page shows this lease (fetched again after a reload or a retry): it is not held any more.
export function forgetIfShown(lease) {
  if (held?.lease.assignment === lease.assignment) held = null;
}

// Gives a lease back to the pool, as a beacon: it goes out even as the page unloads. (A beacon
// sets no headers, so the CSRF token travels as a form field.)
export function giveBack(lease = held?.lease) {
  if (!lease) return;
  if (held?.lease === lease) held = null;
  const form = new URLSearchParams({ csrfmiddlewaretoken: csrfToken() });
  navigator.sendBeacon(`/api/v1/work/assignments/${lease.assignment}/release/`, form);
}
