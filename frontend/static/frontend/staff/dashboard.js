// Live dashboard: fetch the freshly drawn panels every few seconds and swap them in. A task whose
// scoring failed can be given a fresh attempt: its button posts to the staff API.

import { makeApi } from "../shared/api.js";

const api = makeApi();
const $ = (id) => document.getElementById(id);

async function refresh(live) {
  try {
    const body = await api.get(live.dataset.url);
    // A sign-in page instead (the session ended) is not the figures: keep the last ones.
    if (typeof body.html !== "string") throw new Error("Not the live figures.");
    $("panels").innerHTML = body.html;
    $("updated").textContent = body.figures.generated_at;
    for (const [state, n] of Object.entries(body.figures.states)) {
      const cell = document.querySelector(`.state-${state} b`);
      if (cell) cell.textContent = n;
    }
    live.classList.remove("stale");
  } catch (err) {
    live.classList.add("stale"); // keep the last figures; try again next tick
  }
}

function showRetry(text, kind) {
  const status = $("retry-status");
  status.hidden = false;
  status.className = kind ? `status ${kind}` : "status";
  status.textContent = text;
}

async function retry(button, live) {
  button.disabled = true;
  showRetry("Re-queueing…");
  try {
    const body = await api.post(button.dataset.url);
    showRetry(
      body.requeued_answers
        ? `Task ${body.task}: ${body.requeued_answers} answer(s) queued for scoring again.`
        : `Task ${body.task}: nothing left to retry.`,
      "done",
    );
    await refresh(live);
  } catch (err) {
    showRetry(`Not re-queued: ${err.message}`, "error");
    button.disabled = false;
  }
}

function start(live) {
  const seconds = Number(live.dataset.seconds) || 5;
  $("panels").addEventListener("click", (event) => {
    const button = event.target.closest("button.retry");
    if (button && !button.disabled) retry(button, live);
  });
  setInterval(() => refresh(live), seconds * 1000);
}

const live = $("live");
if (live) start(live);
