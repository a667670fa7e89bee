// Workers view: block a worker from the project through the staff API.
(function () {
  "use strict";
  const table = document.getElementById("workers");
  if (!table) return;
  const token = document.querySelector("[name=csrfmiddlewaretoken]").value;

  table.addEventListener("click", async (event) => {
    const button = event.target.closest("button.block");
    if (!button) return;
    const row = button.closest("tr");
    const name = row.cells[0].textContent;
    if (!window.confirm("Block " + name + " from this project? Their undecided answers stop counting.")) return;
    button.disabled = true;
    const url = "/api/v1/staff/projects/" + table.dataset.project + "/workers/" + row.dataset.worker + "/block/";
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ reason: "blocked from the workers view" }),
    });
    const body = await response.json();
    if (response.ok) {
      button.replaceWith(Object.assign(document.createElement("span"), {
        className: "blocked",
        textContent: "blocked · " + body.rescored_tasks.length + " tasks re-scored",
      }));
    } else {
      button.disabled = false;
      window.alert(body.error.message);
    }
  });
})();
