// The labelling page: lease a task, draw or pick with the tool for its kind, submit, and go
// straight on to the next task without reloading. Every step is a worker API call.

import { ApiError, NetworkError, makeApi, withRetry } from "../shared/api.js";
import { BoxTool } from "./bbox.js";
import { ClassTool, ModerationTool } from "./choice.js";
import { focusedByKeyboard, keyBelongsToFocus } from "./keys.js";
import { PolygonTool } from "./polygon.js";
import { onPress } from "./press.js";
import { Stage } from "./stage.js";
import { showFeedback } from "./feedback.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("label-config").textContent);
const api = makeApi({ retryReads: true });
const root = $("labeller");
const stage = new Stage($("stage"), $("stage-image"), $("layer"));
const TOOLS = { classification: ClassTool, moderation: ModerationTool, bbox: BoxTool, polygon: PolygonTool };

let work = null; // the current lease, as /work/next/ returned it
let tool = null;
let busy = false;
let startedAt = 0;
let imageSize = 0; // the longest side of the image file being shown
let retryAction = null; // what "Try again" does, while it is shown

function say(text, kind = "info") {
  const message = $("message");
  message.textContent = text;
  message.dataset.kind = kind;
}

function setState(state) {
  root.dataset.state = state;
  for (const id of ["submit", "skip", "undo", "delete"]) $(id).disabled = state !== "ready";
}

// A way on after a failure: the worker is never left with nothing to press.
function offerRetry(action) {
  retryAction = action;
  $("retry").hidden = false;
}

function withdrawRetry() {
  retryAction = null;
  $("retry").hidden = true;
}

// The previous task leaves the page, so it cannot be mistaken for the current one.
function clearStage() {
  stage.image.removeAttribute("href");
  stage.image.classList.remove("blurred");
  $("veil").hidden = true;
  delete root.dataset.task;
}

// The image at the size the screen needs (device pixels), rounded up by the server to a
// cached size; the original when the screen needs all of it.
function imageUrl(needPx) {
  const longest = Math.max(work.width, work.height);
  const size = Math.min(Math.ceil(needPx), 10000);
  imageSize = size >= longest ? longest : size;
  return size >= longest ? work.image_url : `${work.image_url}?size=${size}`;
}

function neededPx() {
  const rect = $("stage-wrap").getBoundingClientRect();
  const fit = Math.min(rect.width / work.width, rect.height / work.height) || 1;
  const zoom = work.width / stage.view.w;
  return Math.max(work.width, work.height) * fit * zoom * (window.devicePixelRatio || 1);
}

// Zoomed in past what the file holds: fetch a sharper copy (same coordinates, so shapes stay put).
function sharpenIfNeeded() {
  if (!work || imageSize >= Math.max(work.width, work.height)) return;
  if (neededPx() > imageSize * 1.3) stage.image.setAttribute("href", imageUrl(neededPx() * 1.5));
}

async function next() {
  const again = root.dataset.state === "error";
  if (again) say("Trying again…", "info");
  setState("loading");
  withdrawRetry();
  tool?.destroy();
  tool = null;
  $("proposal-note").hidden = true;
  let retried = false;
  const onRetry = (n, of) => {
    if (!retried) clearStage();
    retried = true;
    say(`The server did not answer; trying again (${n} of ${of})…`, "warn");
  };
  try {
    // Asking again is safe: the server hands back the same live lease.
    const body = config.project ? { project: config.project } : {};
    work = await withRetry(() => api.post("/api/v1/work/next/", body), { serverErrors: true, onRetry });
  } catch (err) {
    return nextFailed(err);
  }
  if (retried || again) say("");
  if (!work) {
    $("empty").hidden = false;
    root.dataset.state = "empty";
    return;
  }
  $("empty").hidden = true;
  await start(work);
}

async function start(lease) {
  $("project-name").textContent = `Instructions (${lease.kind})`;
  $("instructions-text").textContent = lease.instructions || "Label what you see.";
  const blurred = lease.kind === "moderation";
  stage.image.classList.toggle("blurred", blurred);
  $("veil").hidden = !blurred;
  root.dataset.kind = lease.kind;
  stage.tool = null;
  tool = new TOOLS[lease.kind]({ stage, panel: $("tools"), labels: lease.labels, onChange: () => {}, say });
  // Pre-labelling: the model's answer opens as the worker's own, to check and correct.
  if (lease.proposal) tool.propose(lease.proposal);
  $("proposal-note").hidden = !lease.proposal;
  stage.onView = () => {
    tool?.render?.();
    sharpenIfNeeded();
  };
  stage.width = lease.width;
  stage.height = lease.height;
  stage.view = { x: 0, y: 0, w: lease.width, h: lease.height };
  await loadImage(lease);
  startedAt = performance.now();
  setState("ready");
  root.dataset.task = lease.task;
  if (submitClickedAt) {
    root.dataset.nextMs = String(Math.round(performance.now() - submitClickedAt));
    submitClickedAt = 0;
  }
}

async function loadImage(lease) {
  try {
    await stage.load(imageUrl(neededPx()), lease.width, lease.height);
  } catch (err) {
    say("The image did not load. Press Try again, or Skip this task.", "error");
    offerRetry(() => {
      withdrawRetry();
      say("");
      stage.image.removeAttribute("href"); // so that setting it again loads again
      loadImage(lease);
    });
  }
}

function reveal() {
  // From the keyboard, focus goes on to the verdicts rather than vanish with the veil.
  const keyboard = focusedByKeyboard($("veil"));
  if ($("veil").contains(document.activeElement)) document.activeElement.blur();
  stage.image.classList.remove("blurred");
  $("veil").hidden = true;
  if (keyboard) $("tools").querySelector("button")?.focus();
}

let submitClickedAt = 0;

async function submit() {
  if (busy || root.dataset.state !== "ready") return;
  let payload;
  try {
    payload = tool.payload();
  } catch (err) {
    return say(err.message, "error");
  }
  busy = true;
  withdrawRetry();
  submitClickedAt = performance.now();
  setState("sending");
  const url = `/api/v1/work/assignments/${work.assignment}/submit/`;
  const body = { payload, duration_ms: Math.round(performance.now() - startedAt) };
  try {
    // Only a lost connection or a gateway error is sent again; the answer stays on the page.
    const onRetry = (n, of) => say(`Connection trouble; sending again (${n} of ${of})…`, "warn");
    await withRetry(() => api.post(url, body), { onRetry });
    say("Sent. Thank you!", "ok");
  } catch (err) {
    if (!(await submitFailed(err))) {
      busy = false;
      return;
    }
  }
  busy = false;
  refreshStats();
  showFeedback(api, $("toast"));
  await next();
}

// True when the page should move on to the next task; false to stay on this one.
async function submitFailed(err) {
  if (err instanceof ApiError && err.code === "already_submitted") return true; // a retry after a lost reply
  if (err instanceof ApiError && (err.code === "assignment_expired" || err.status === 404)) {
    say("The time for this task ran out, so your answer could not count. Here is a new task.", "warn");
    return true;
  }
  setState("ready");
  if (err instanceof ApiError && err.status === 400) {
    say(`Not accepted: ${err.message}${err.field ? ` (${err.field})` : ""}`, "error");
    return false; // the answer needs mending, not sending again
  }
  const why = err instanceof NetworkError ? "no connection." : err.message;
  say(`Not sent: ${why} Your answer is kept here; press Try again, or Skip.`, "error");
  offerRetry(submit);
  return false;
}

async function skip() {
  if (busy || root.dataset.state !== "ready") return;
  busy = true;
  withdrawRetry();
  setState("sending");
  const url = `/api/v1/work/assignments/${work.assignment}/skip/`;
  const onRetry = (n, of) => say(`Connection trouble; skipping again (${n} of ${of})…`, "warn");
  try {
    // Safe to repeat: a second skip of the same lease is refused (409) and the page moves on.
    await withRetry(() => api.post(url), { serverErrors: true, onRetry });
    say("Skipped.", "info");
  } catch (err) {
    if (isTransientFailure(err)) {
      busy = false;
      setState("ready");
      offerRetry(skip);
      return say("Not skipped: the server did not answer. Press Try again.", "error");
    }
  }
  busy = false;
  await next();
}

function isTransientFailure(err) {
  return err instanceof NetworkError || (err instanceof ApiError && err.status >= 500);
}

function nextFailed(err) {
  work = null;
  clearStage();
  setState("error");
  const why = err instanceof NetworkError ? "no connection to the server." : err.message;
  say(`Could not get a task: ${why} Press Try again in a moment.`, "error");
  offerRetry(next);
}

async function refreshStats() {
  try {
    const me = await api.get("/api/v1/me/");
    $("stat-today").textContent = `${me.answers_today}/${me.daily_target}`;
    $("stat-points").textContent = String(me.points);
    $("stat-streak").textContent = String(me.streak);
  } catch (err) {
    /* the header is a nicety; labelling goes on without it */
  }
}

function onKey(e) {
  if (keyBelongsToFocus(e)) return; // a focused control's own Enter or Space, or typing
  if (e.key === "Enter" && retryAction && root.dataset.state === "error") {
    e.preventDefault();
    return retryAction();
  }
  if (!tool || root.dataset.state !== "ready") return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
    e.preventDefault();
    tool.undo();
  } else if (e.key === "Enter") {
    e.preventDefault();
    if (!tool.key(e)) submit();
  } else if (/^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
    tool.setLabel(Number(e.key) - 1);
  } else if (e.key === "r" && root.dataset.kind === "moderation") {
    reveal();
  } else if (e.key === "+" || e.key === "=") {
    stage.zoomCenter(1.25);
  } else if (e.key === "-") {
    stage.zoomCenter(0.8);
  } else if (e.key === "0") {
    stage.fit();
  } else if (e.key === " ") {
    e.preventDefault();
    stage.panKey = true;
  } else if (tool.key(e)) {
    e.preventDefault();
  }
}

document.addEventListener("keydown", onKey);
document.addEventListener("keyup", (e) => {
  if (e.key === " ") stage.panKey = false;
});
onPress($("submit"), submit);
onPress($("skip"), skip);
onPress($("undo"), () => tool?.undo());
onPress($("delete"), () => tool?.deleteSelected?.());
onPress($("reveal"), reveal);
onPress($("again"), next);
onPress($("retry"), () => retryAction?.());
onPress($("zoom-in"), () => stage.zoomCenter(1.25));
onPress($("zoom-out"), () => stage.zoomCenter(0.8));
onPress($("zoom-fit"), () => stage.fit());

refreshStats();
showFeedback(api, $("toast"));
next();
