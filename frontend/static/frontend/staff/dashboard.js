// Live dashboard: fetch the freshly drawn panels every few seconds and swap them in. A task whose
// scoring failed can be given a fresh attempt: its button posts to the staff API.
(function () {
  "use strict";
  const live = document.getElementById("live");
  if (!live) return;
  const seconds = Number(live.dataset.seconds) || 5;

  async function refresh() {
    try {
      const response = await fetch(live.dataset.url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const body = await response.json();
      document.getElementById("panels").innerHTML = body.html;
      document.getElementById("updated").textContent = body.figures.generated_at;
      for (const [state, n] of Object.entries(body.figures.states)) {
        const cell = document.querySelector(".state-" + state + " b");
        if (cell) cell.textContent = n;
      }
      live.classList.remove("stale");
    } catch (error) {
      live.classList.add("stale"); // keep the last figures; try again next tick
    }
  }

  async function retry(button) {
    const status = document.getElementById("retry-status");
    const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    button.disabled = true;
    status.hidden = false;
    status.className = "status";
    status.textContent = "Re-queueing…";
    try {
      const response = await fetch(button.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
        body: "{}",
      });
      const body = await response.json();
      if (!response.ok) throw new Error((body.error || {}).message || "HTTP " + response.status);
      status.className = "status done";
      status.textContent = body.requeued_answers
        ? "Task " + body.task + ": " + body.requeued_answers + " answer(s) queued for scoring again."
        : "Task " + body.task + ": nothing left to retry.";
      await refresh();
    } catch (error) {
      status.className = "status error";
      status.textContent = "Not re-queued: " + error.message;
      button.disabled = false;
    }
  }

  document.getElementById("panels").addEventListener("click", (event) => {
    const button = event.target.closest("button.retry");
    if (button && !button.disabled) retry(button);
  });

  setInterval(refresh, seconds * 1000);
})();
