// The labelling page: lease a task, draw or pick with the tool for its kind, submit, and go
// straight on to the next task without reloading. Every step is a worker API call.

import { ApiError, NetworkError, makeApi, withRetry } from "./api.js";
import { BoxTool } from "./bbox.js";
import { ClassTool, ModerationTool } from "./choice.js";
import { PolygonTool } from "./polygon.js";
import { onPress } from "./press.js";
import { Stage } from "./stage.js";
import { showFeedback } from "./feedback.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("label-config").textContent);
const api = makeApi($("csrf").value);
const root = $("labeller");
const stage = new Stage($("stage"), $("stage-image"), $("layer"));
const TOOLS = { classification: ClassTool, moderation: ModerationTool, bbox: BoxTool, polygon: PolygonTool };

let work = null; // the current lease, as /work/next/ returned it
let tool = null;
let busy = false;
let startedAt = 0;
let imageSize = 0; // the longest side of the image file being shown

function say(text, kind = "info") {
  const message = $("message");
  message.textContent = text;
  message.dataset.kind = kind;
}

function setState(state) {
  root.dataset.state = state;
  for (const id of ["submit", "skip", "undo", "delete"]) $(id).disabled = state !== "ready";
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
  setState("loading");
  tool?.destroy();
  tool = null;
  try {
    work = await withRetry(() => api.post("/api/v1/work/next/", config.project ? { project: config.project } : {}));
  } catch (err) {
    return failed(err, "Could not get a task");
  }
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
  stage.onView = () => {
    tool?.render?.();
    sharpenIfNeeded();
  };
  stage.width = lease.width;
  stage.height = lease.height;
  stage.view = { x: 0, y: 0, w: lease.width, h: lease.height };
  try {
    await stage.load(imageUrl(neededPx()), lease.width, lease.height);
  } catch (err) {
    say("The image did not load; skip this task or reload the page.", "error");
  }
  startedAt = performance.now();
  setState("ready");
  root.dataset.task = lease.task;
  if (submitClickedAt) {
    root.dataset.nextMs = String(Math.round(performance.now() - submitClickedAt));
    submitClickedAt = 0;
  }
}

function reveal() {
  stage.image.classList.remove("blurred");
  $("veil").hidden = true;
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
  submitClickedAt = performance.now();
  setState("sending");
  const url = `/api/v1/work/assignments/${work.assignment}/submit/`;
  const body = { payload, duration_ms: Math.round(performance.now() - startedAt) };
  try {
    await withRetry(() => api.post(url, body), { onRetry: (n) => say(`Connection trouble; sending again (${n})…`, "warn") });
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
  if (err instanceof NetworkError) {
    say("Not sent: no connection. Your answer is kept here; press Submit to try again.", "error");
  } else if (err instanceof ApiError && err.status === 400) {
    say(`Not accepted: ${err.message}${err.field ? ` (${err.field})` : ""}`, "error");
  } else {
    say(`Not sent: ${err.message} Press Submit to try again.`, "error");
  }
  return false;
}

async function skip() {
  if (busy || root.dataset.state !== "ready") return;
  busy = true;
  setState("sending");
  try {
    await withRetry(() => api.post(`/api/v1/work/assignments/${work.assignment}/skip/`));
    say("Skipped.", "info");
  } catch (err) {
    if (err instanceof NetworkError) {
      busy = false;
      setState("ready");
      return say("Not skipped: no connection. Try again.", "error");
    }
  }
  busy = false;
  await next();
}

function failed(err, what) {
  setState("error");
  say(`${what}: ${err.message}`, "error");
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
  if (e.target.closest?.("input, textarea, select, summary")) return;
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
onPress($("zoom-in"), () => stage.zoomCenter(1.25));
onPress($("zoom-out"), () => stage.zoomCenter(0.8));
onPress($("zoom-fit"), () => stage.fit());

refreshStats();
showFeedback(api, $("toast"));
next();
