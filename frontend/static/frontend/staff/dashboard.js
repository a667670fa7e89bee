// Live dashboard: fetch the freshly drawn panels every few seconds and swap them in.
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

  setInterval(refresh, seconds * 1000);
})();
