// Services panel of the dashboard: the database, the cache's Redis and the Celery broker as the
// staff API reports them (GET /api/v1/staff/health/), refreshed every few seconds. Text only:
// nothing from the response is parsed as markup.

import { makeApi } from "../shared/api.js";

const NAMES = { database: "database", cache: "cache (Redis)", broker: "Celery broker (Redis)" };
const WITHOUT = { cache: "counting per process", broker: "scoring left to the sweeper" };
const api = makeApi();

function row(service, check) {
  const tr = document.createElement("tr");
  tr.className = `health-${check.status}`;
  const cells = [
    NAMES[service],
    check.status + (check.error ? ` (${check.error})` : ""),
    check.latency_ms === null ? "–" : `${check.latency_ms} ms`,
    check.fallback ? WITHOUT[service] : "–",
  ];
  for (const text of cells) {
    tr.appendChild(Object.assign(document.createElement("td"), { textContent: text }));
  }
  return tr;
}

async function refresh(panel) {
  try {
    const body = await api.get(panel.dataset.url);
    const services = Object.keys(NAMES);
    document.getElementById("health-rows").replaceChildren(...services.map((s) => row(s, body[s])));
    const trouble = services.some((s) => body[s].status === "down" || body[s].fallback);
    panel.classList.toggle("alert", trouble);
    panel.classList.remove("stale");
  } catch (err) {
    panel.classList.add("stale"); // keep the last answer; try again next tick
  }
}

const panel = document.getElementById("health");
if (panel) {
  refresh(panel);
  setInterval(() => refresh(panel), (Number(panel.dataset.seconds) || 15) * 1000);
}
