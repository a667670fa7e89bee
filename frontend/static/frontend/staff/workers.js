// Workers view: block a worker from the project through the staff API.

import { ApiError, makeApi } from "../shared/api.js";

const api = makeApi();

async function block(table, button) {
  const row = button.closest("tr");
  const name = row.cells[0].textContent;
  if (!window.confirm(`Block ${name} from this project? Their undecided answers stop counting.`)) return;
  button.disabled = true;
  const url = `/api/v1/staff/projects/${table.dataset.project}/workers/${row.dataset.worker}/block/`;
  let body;
  try {
    body = await api.post(url, { reason: "blocked from the workers view" });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    button.disabled = false;
    window.alert(err.message);
    return;
  }
  const done = Object.assign(document.createElement("span"), {
    className: "blocked",
    textContent: `blocked · ${body.rescored_tasks.length} tasks re-scored`,
  });
  button.replaceWith(done);
}

const table = document.getElementById("workers");
table?.addEventListener("click", (event) => {
  const button = event.target.closest("button.block");
  if (button) block(table, button);
});
