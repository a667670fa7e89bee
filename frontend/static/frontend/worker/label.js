// The labelling page: lease a task, draw or pick with the tool for its kind, submit, and go
// straight on to the next task without reloading. Every step is a worker API call, tried again
// while the failure may pass (shared/api.js withRetry); an answer is kept on the phone until the
// server has it (outbox.js), and the worker always has something to press.
//
// Prefetch: while the worker labels one task the page already holds the next ones (their leases
// and images, ahead.js), so Submit shows one at once and the answer is sent behind it.

import { ApiError, NetworkError, makeApi, withRetry } from "../shared/api.js";
import { gettext, interpolate } from "../shared/i18n.js";
import * as ahead from "./ahead.js";
import * as outbox from "./outbox.js";
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
const KIND_NAMES = {
  classification: gettext("classification"),
  bbox: gettext("boxes"),
  polygon: gettext("polygons"),
  moderation: gettext("moderation"),
};
// "(2 of 3)": how far the page's retries have got.
const tries = (n, of) => interpolate(gettext("%(n)s of %(of)s"), { n, of }, true);

let work = null; // the current lease, as /work/next/ returned it
let tool = null;
let busy = false;
let startedAt = 0;
let imageSize = 0; // the longest side of the image file being shown
let sending = null; // the kept answers being sent behind the task shown, while they are
let retryAction = null; // what "Try again" does, while it is shown
let resendTimer = 0; // the next unprompted try to send kept answers
let resendDelay = 0;
let offlineSaid = false; // the message shown says the phone is offline

function say(text, kind = "info", { offline = false } = {}) {
  const message = $("message");
  message.textContent = text;
  message.dataset.kind = kind;
  offlineSaid = offline;
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

function imageUrl(needPx) {
  const image = ahead.imageFor(work, needPx);
  imageSize = image.size;
  return image.url;
}

function neededPx() {
  return ahead.neededPx($("stage-wrap"), work, work.width / stage.view.w);
}

// Zoomed in past what the file holds: fetch a sharper copy (same coordinates, so shapes stay put).
function sharpenIfNeeded() {
  if (!work || imageSize >= Math.max(work.width, work.height)) return;
  if (neededPx() > imageSize * 1.3) stage.image.setAttribute("href", imageUrl(neededPx() * 1.5));
}

async function next() {
  const again = root.dataset.state === "error";
  if (again) say(gettext("Trying again…"), "info");
  setState("loading");
  withdrawRetry();
  // No new lease while an answer waits on the phone: the server would hand back that same lease
  // (its task not answered yet) and the worker would answer it twice. Kept answers go first.
  if (outbox.keptAnswers().length) return deliver();
  tool?.destroy();
  tool = null;
  $("proposal-note").hidden = true;
  let retried = false;
  const onRetry = (n, of, wait, offline) => {
    if (!retried) clearStage();
    retried = true;
    if (offline) say(gettext("Offline — the next task comes when the connection returns."), "warn", { offline });
    else say(interpolate(gettext("The server did not answer; trying again (%(tries)s)…"), { tries: tries(n, of) }, true), "warn");
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
  ahead.forgetIfShown(lease);
  const kind = KIND_NAMES[lease.kind] || lease.kind;
  $("project-name").textContent = interpolate(gettext("Instructions (%(kind)s)"), { kind }, true);
  $("instructions-text").textContent = lease.instructions || gettext("Label what you see.");
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
  if (!(await loadImage(lease))) return;
  ready(lease);
}

function ready(lease) {
  startedAt = performance.now();
  setState("ready");
  root.dataset.task = lease.task;
  if (submitClickedAt) {
    root.dataset.nextMs = String(Math.round(performance.now() - submitClickedAt));
    submitClickedAt = 0;
  }
  // An answer given on the task before goes now, behind this one: the tap's time went to showing it.
  if (outbox.keptAnswers().length && !busy) sendBehind();
  else if (!sending) prefetch();
}

// The next tasks, fetched while this one is labelled; quiet, as Submit can do without them.
function prefetch() {
  ahead.prefetchNext(api, {
    project: config.project,
    shownNow: () => work,
    answered: () => outbox.keptAnswers().map((answer) => answer.assignment),
    stageWrap: $("stage-wrap"),
  });
}

// Shows the prefetched task at once, if there is one still fresh; false if there is not.
function showAhead() {
  const lease = ahead.take();
  if (!lease) return false;
  tool?.destroy();
  tool = null;
  work = lease;
  say("");
  setState("loading");
  start(lease);
  return true;
}

// True once the image shows. Until then the page stays "loading" (no Submit on a blank stage);
// after the retries, "error" with Try again.
async function loadImage(lease) {
  const load = () => {
    stage.image.removeAttribute("href"); // so that setting it again loads again
    return stage.load(imageUrl(neededPx()), lease.width, lease.height).catch(() => {
      throw new NetworkError(gettext("The image did not load."));
    });
  };
  const onRetry = (n, of, wait, offline) =>
    offline
      ? say(gettext("Offline — the image comes when the connection returns."), "warn", { offline })
      : say(interpolate(gettext("Loading the image again (%(tries)s)…"), { tries: tries(n, of) }, true), "warn");
  try {
    await withRetry(load, { onRetry });
  } catch (err) {
    setState("error");
    say(gettext("The image did not load. Press Try again."), "error");
    if (outbox.keptAnswers().length && !busy) sendBehind(); // not held up by this image
    offerRetry(async () => {
      withdrawRetry();
      say(gettext("Trying again…"), "info");
      setState("loading");
      if (await loadImage(lease)) {
        say("");
        ready(lease);
      }
    });
    return false;
  }
  return true;
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
  submitClickedAt = performance.now();
  const duration_ms = Math.round(performance.now() - startedAt);
  outbox.keep({ assignment: work.assignment, payload, duration_ms, expires_at: work.expires_at });
  if (showAhead()) return; // the answer is sent once the next task shows (ready)
  await deliver();
}

function sendingTrouble(n, of, wait, offline) {
  if (offline) say(gettext("Offline — your answer is saved on this phone and will be sent when the connection returns."), "warn", { offline });
  else say(interpolate(gettext("Connection trouble; sending again (%(tries)s)…"), { tries: tries(n, of) }, true), "warn");
}

// Sends every answer kept on the phone, oldest first: { sent } when none is left, with
// failed: { answer, err } when the server could not be reached, stay: true when an answer on
// the task shown was refused and needs mending (answerDropped).
async function sendKept() {
  let sent = false;
  for (const answer of outbox.keptAnswers()) {
    let result;
    try {
      result = await outbox.send(api, answer, { onRetry: sendingTrouble });
    } catch (err) {
      return { sent, failed: { answer, err } };
    }
    if (result.outcome === "sent") sent = true;
    if (answerDropped(answer, result) === "stay") return { sent, stay: true };
  }
  return { sent };
}

function thank() {
  say(gettext("Sent. Thank you!"), "ok");
  refreshStats();
  showFeedback(api, $("toast"));
}

// Sends the kept answers, then fetches the next task. Also what the page does on load, on Try
// again and when the connection returns, while answers wait.
async function deliver() {
  if (busy) return;
  busy = true;
  clearTimeout(resendTimer);
  withdrawRetry();
  setState("sending");
  await sending; // answers already on their way behind the task shown go first
  const outcome = await sendKept();
  busy = false;
  if (outcome.failed) return stillKept(outcome.failed.answer, outcome.failed.err);
  if (outcome.stay) return;
  resendDelay = 0;
  if (outcome.sent) thank();
  if (!showAhead()) await next();
}

// The answer goes while the worker is on the next task: the task shown stays usable, and an
// answer the server cannot take yet stays on the phone, sent again with backoff.
async function sendBehind() {
  if (sending) return;
  clearTimeout(resendTimer);
  let outcome;
  do {
    // An answer kept while the last pass was on its way (a quick Submit) is not in that pass:
    // go again while a pass gets answers through and answers are left.
    sending = sendKept();
    outcome = await sending;
    sending = null;
  } while (outcome.sent && !outcome.failed && !outcome.stay && outbox.keptAnswers().length);
  if (outcome.failed) return keptBehind();
  resendDelay = 0;
  if (outcome.sent) thank();
  if (root.dataset.state === "ready") prefetch();
}

function keptBehind() {
  say(gettext("Your last answer is saved on this phone and will be sent when the connection returns."), "warn");
  resendDelay = Math.min((resendDelay || 2000) * 2, 60_000);
  resendTimer = setTimeout(() => {
    if (!busy) sendBehind();
  }, resendDelay);
}

// Says what became of a kept answer the server did not store; "stay" for an answer on the task
// still shown that needs mending (the worker's shapes are still there).
function answerDropped(answer, { outcome, err }) {
  const current = work && answer.assignment === work.assignment && root.dataset.task;
  if (outcome === "expired") {
    say(
      current
        ? gettext("The time for this task ran out, so your answer could not count. Here is a new task.")
        : gettext("An answer kept on this phone was not sent: the time for its task ran out, so it could not count."),
      "warn",
    );
  } else if (outcome === "refused" && current && err.status === 400) {
    busy = false;
    setState("ready");
    const why = err.field ? `${err.message} (${err.field})` : err.message;
    say(interpolate(gettext("Not accepted: %(why)s"), { why }, true), "error");
    return "stay";
  } else if (outcome === "refused") {
    say(interpolate(gettext("Not sent: %(why)s"), { why: err.message }, true), "error");
  }
  return "go on";
}

// The server could not be reached, even after the retries: the answer stays on the phone and is
// sent when the connection returns, with backoff meanwhile, or on Try again. On the task still
// shown the worker may also mend it and Submit again, or Skip.
function stillKept(answer, err) {
  const current = work && answer.assignment === work.assignment && root.dataset.task;
  setState(current ? "ready" : "error");
  const why = err instanceof NetworkError ? gettext("no connection.") : err.message;
  const text = current
    ? gettext("Not sent: %(why)s Your answer is saved on this phone and will be sent when the connection returns; press Try again, or Skip.")
    : gettext("Not sent: %(why)s Your answer is saved on this phone and will be sent when the connection returns; press Try again.");
  say(interpolate(text, { why }, true), "error");
  offerRetry(deliver);
  resendDelay = Math.min((resendDelay || 2000) * 2, 60_000);
  resendTimer = setTimeout(() => {
    if (!busy && retryAction === deliver) deliver();
  }, resendDelay);
}

async function skip() {
  if (busy || root.dataset.state !== "ready") return;
  busy = true;
  withdrawRetry();
  clearTimeout(resendTimer);
  outbox.forget(work.assignment); // the worker chose Skip over sending the kept answer
  setState("sending");
  const url = `/api/v1/work/assignments/${work.assignment}/skip/`;
  const onRetry = (n, of, wait, offline) =>
    offline
      ? say(gettext("Offline — the skip goes through when the connection returns."), "warn", { offline })
      : say(interpolate(gettext("Connection trouble; skipping again (%(tries)s)…"), { tries: tries(n, of) }, true), "warn");
  try {
    // Safe to repeat: a second skip of the same lease is refused (409) and the page moves on.
    await withRetry(() => api.post(url), { serverErrors: true, onRetry });
    say(gettext("Skipped."), "info");
  } catch (err) {
    if (isTransientFailure(err)) {
      busy = false;
      setState("ready");
      offerRetry(skip);
      return say(gettext("Not skipped: the server did not answer. Press Try again."), "error");
    }
  }
  busy = false;
  if (!showAhead()) await next();
}

function isTransientFailure(err) {
  return err instanceof NetworkError || (err instanceof ApiError && err.status >= 500);
}

function nextFailed(err) {
  work = null;
  clearStage();
  setState("error");
  const why = err instanceof NetworkError ? gettext("no connection to the server.") : err.message;
  say(interpolate(gettext("Could not get a task: %(why)s Press Try again in a moment."), { why }, true), "error");
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
// The connection is back: whatever was waiting for it goes on (a retry loop wakes by itself).
window.addEventListener("online", () => {
  if (busy || ["loading", "sending"].includes(root.dataset.state)) say(gettext("Reconnecting…"), "info");
  else if (retryAction) retryAction();
  else if (outbox.keptAnswers().length && !sending) sendBehind();
  else if (offlineSaid) say("");
});
// Leaving: the prefetched task goes back to the pool now rather than when its lease runs out.
window.addEventListener("pagehide", () => ahead.giveBack());
window.addEventListener("offline", () => {
  if (root.dataset.state === "ready")
    say(gettext("Offline — go on with this task: your answer will be saved on this phone until the connection returns."), "warn", { offline: true });
});
onPress($("zoom-in"), () => stage.zoomCenter(1.25));
onPress($("zoom-out"), () => stage.zoomCenter(0.8));
onPress($("zoom-fit"), () => stage.fit());

refreshStats();
showFeedback(api, $("toast"));
next();
