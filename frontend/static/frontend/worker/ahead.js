// The next tasks, held while the worker labels the one shown (prefetch): their leases, asked for
// with POST /work/next/ {holding: the leases the page has}, and their images, fetched into the
// browser's cache, so that Submit shows the next at once. Two are held (the server's
// PREFETCH_DEPTH): at the fastest pace one is there while the other is fetched. A held lease past
// half its time is not shown (the worker would have too little left) but given back, as are those
// still held when the page goes.

import { csrfToken, withRetry } from "../shared/api.js";

const DEPTH = 2;
const held = []; // { lease, fetchedAt, image }, oldest first
let fetching = false;

// A slow or metered link: Save-Data (the browser's data saver) or a 3G-or-worse connection, by
// the Network Information API where the browser has it.
export function frugalLink() {
  const link = navigator.connection;
  return !!link && (link.saveData || ["slow-2g", "2g", "3g"].includes(link.effectiveType));
}

// The pixels the image needs to fill the stage at this zoom: device pixels, but CSS pixels on a
// frugal link (a quarter of the pixels on a 2× screen, half the bytes; zooming in sharpens it).
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

// Asks, quietly, for tasks beyond those the page holds until DEPTH are held (the server answers
// with the same lease if asked again, and with none near the end of a project). shownNow() is
// the page's lease now; answered() the assignments whose answers are not sent yet.
export async function prefetchNext(api, { project, shownNow, answered, stageWrap }) {
  if (fetching || !shownNow()) return;
  fetching = true;
  try {
    while (held.length < DEPTH) {
      const holding = [shownNow()?.assignment, ...answered(), ...held.map((h) => h.lease.assignment)];
      const body = { holding: holding.filter(Boolean), ...(project ? { project } : {}) };
      const lease = await withRetry(() => api.post("/api/v1/work/next/", body), { serverErrors: true });
      if (!lease || holding.includes(lease.assignment) || lease.assignment === shownNow()?.assignment) break;
      const image = new Image(); // kept here so that it loads to the end
      image.src = imageFor(lease, neededPx(stageWrap, lease)).url;
      held.push({ lease, fetchedAt: Date.now(), image });
    }
  } catch (err) {
    /* fewer held: Submit fetches the next task itself if none is */
  } finally {
    fetching = false;
  }
}

// The held lease to show now, or null (none, or all too old: those are given back).
export function take() {
  while (held.length) {
    const next = held.shift();
    const end = Date.parse(next.lease.expires_at);
    if (end - Date.now() > (end - next.fetchedAt) / 2) return next.lease;
    giveBack(next.lease);
  }
  return null;
}

// The page shows this lease (fetched again after a reload or a retry): it is not held any more.
export function forgetIfShown(lease) {
  const index = held.findIndex((h) => h.lease.assignment === lease.assignment);
  if (index >= 0) held.splice(index, 1);
}

// Gives leases back to the pool (by default all those held), as beacons: they go out even as
// the page unloads. (A beacon sets no headers, so the CSRF token travels as a form field.)
export function giveBack(lease = null) {
  const leases = lease ? [lease] : held.splice(0).map((h) => h.lease);
  for (const one of leases) {
    forgetIfShown(one);
    const form = new URLSearchParams({ csrfmiddlewaretoken: csrfToken() });
    navigator.sendBeacon(`/api/v1/work/assignments/${one.assignment}/release/`, form);
  }
}
