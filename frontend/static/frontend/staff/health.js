// Services panel of the dashboard: the database, the cache's Redis and the Celery broker as the
// staff API reports them (GET /api/v1/staff/health/), refreshed every few seconds. Text only:
// nothing from the response is parsed as markup.
(function () {
  "use strict";
  const panel = document.getElementById("health");
  if (!panel) return;
  const rows = document.getElementById("health-rows");
  const seconds = Number(panel.dataset.seconds) || 15;
  const NAMES = { database: "database", cache: "cache (Redis)", broker: "Celery broker (Redis)" };
  const WITHOUT = { cache: "counting per process", broker: "scoring left to the sweeper" };

  function row(service, check) {
    const tr = document.createElement("tr");
    tr.className = "health-" + check.status;
    const cells = [
      NAMES[service],
      check.status + (check.error ? " (" + check.error + ")" : ""),
      check.latency_ms === null ? "–" : check.latency_ms + " ms",
      check.fallback ? WITHOUT[service] : "–",
    ];
    for (const text of cells) {
      tr.appendChild(Object.assign(document.createElement("td"), { textContent: text }));
    }
    return tr;
  }

  async function refresh() {
    try {
      const response = await fetch(panel.dataset.url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const body = await response.json();
      const services = Object.keys(NAMES);
      rows.replaceChildren(...services.map((service) => row(service, body[service])));
      const trouble = services.some((s) => body[s].status === "down" || body[s].fallback);
      panel.classList.toggle("alert", trouble);
      panel.classList.remove("stale");
    } catch (error) {
      panel.classList.add("stale"); // keep the last answer; try again next tick
    }
  }

  refresh();
  setInterval(refresh, seconds * 1000);
})();
