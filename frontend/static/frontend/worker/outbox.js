// Answers kept on the phone until the server has them. An answer goes into localStorage before
// it is first sent and leaves it only once the server has it (or can never take it), so a lost
// connection, a closed tab or a reload loses nothing. Sending again is harmless: the server takes
// one answer per assignment and refuses a second with 409 already_submitted, which here means
// "an earlier try got through and its reply was lost".

import { ApiError, withRetry } from "../shared/api.js";

const KEY = "sebenzai.outbox";
let memory = null; // where answers wait when localStorage refuses them (private mode, full)

// Each kept answer: { assignment, payload, duration_ms, expires_at } (expires_at: the lease's).
export function keptAnswers() {
  if (memory) return memory;
  try {
    return JSON.parse(localStorage.getItem(KEY)) || [];
  } catch (err) {
    return [];
  }
}

function save(answers) {
  try {
    if (answers.length) localStorage.setItem(KEY, JSON.stringify(answers));
    else localStorage.removeItem(KEY);
    memory = null;
  } catch (err) {
    memory = answers; // kept for this page's life at least
  }
}

// One answer per assignment: a later one (the worker mended it) replaces the earlier.
export function keep(answer) {
  save([...keptAnswers().filter((a) => a.assignment !== answer.assignment), answer]);
}

export function forget(assignment) {
  save(keptAnswers().filter((a) => a.assignment !== assignment));
}

// Sends one kept answer and says how it went: "sent" (stored, now or by an earlier try),
// "expired" (its lease ran out, so the server would refuse it: dropped unsent) or "refused" (the
// server decided otherwise, err says why: dropped too). A failure that may pass (no connection
// after the retries) is thrown, and the answer stays kept.
export async function send(api, answer, retry) {
  if (Date.parse(answer.expires_at) <= Date.now()) return drop(answer, "expired");
  const url = `/api/v1/work/assignments/${answer.assignment}/submit/`;
  const body = { payload: answer.payload, duration_ms: answer.duration_ms };
  try {
    await withRetry(() => api.post(url, body), retry);
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status === 429 && err.retryAfterMs)) throw err;
    if (err.code === "already_submitted") return drop(answer, "sent");
    if (err.code === "assignment_expired" || err.status === 404) return drop(answer, "expired");
    if (err.status >= 500) throw err;
    return drop(answer, "refused", err);
  }
  return drop(answer, "sent");
}

function drop(answer, outcome, err = null) {
  forget(answer.assignment);
  return { outcome, err };
}
