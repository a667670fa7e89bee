// Feedback on check tasks (tasks with a known answer): shown only once the server reveals it,
// a while after the answer, so a worker cannot tell a check task while doing it.

import { gettext, interpolate } from "../shared/i18n.js";

const KEY = "sebenzai.feedbackSince";

export async function showFeedback(api, toast) {
  const since = localStorage.getItem(KEY);
  let body;
  try {
    body = await api.get(`/api/v1/work/feedback/${since ? `?since=${encodeURIComponent(since)}` : ""}`);
  } catch (err) {
    return;
  }
  localStorage.setItem(KEY, body.now);
  const items = body.items.slice(-3);
  if (!items.length) return;
  toast.replaceChildren(
    ...items.map((item) => {
      const line = document.createElement("p");
      // The server gives only the hour of the answer (an exact time would point at the task).
      const when = new Date(item.answered_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      line.className = item.correct ? "correct" : "wrong";
      const values = { project: item.project, when, expected: item.expected };
      line.textContent = item.correct
        ? interpolate(gettext("Check task (%(project)s, %(when)s): correct ✓"), values, true)
        : interpolate(gettext("Check task (%(project)s, %(when)s): expected %(expected)s"), values, true);
      return line;
    }),
  );
  toast.hidden = false;
  setTimeout(() => {
    toast.hidden = true;
  }, 8000);
}
