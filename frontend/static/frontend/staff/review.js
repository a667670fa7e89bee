// Review page: the image with every worker's answer in its own colour and the fused result;
// accept, pick, edit (drag box edges or polygon vertices) or reject, posted to the staff API
// with the consensus version the page was drawn from, so a stale decision comes back as 409.
// A decision in force is shown with Replace (decide again) and Reopen (undo). Accepting a fused
// result that is empty or below the project's acceptance threshold asks first: it re-grades
// every worker against it.
(function () {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];
  const FUSED = "#ffffff";
  const svg = document.getElementById("overlay");
  const status = document.getElementById("status");
  const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const labels = root.dataset.labels.split("|");
  const threshold = parseFloat(root.dataset.threshold);
  let item = null;
  let draft = null; // the shapes being edited
  let replacing = false; // the admin chose to replace the decision in force

  function node(name, attrs, parent, text) {
    const element = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    if (parent) parent.appendChild(element);
    return element;
  }

  function say(message, kind) {
    status.textContent = message;
    status.className = "status " + (kind || "");
  }

  function summary(payload) {
    if (!payload) return "nothing";
    if ("label" in payload) return payload.label;
    if ("verdict" in payload) return payload.verdict + (payload.categories.length ? " (" + payload.categories.join(", ") + ")" : "");
    const shapes = payload.boxes || payload.polygons;
    return shapes.length + " × " + (shapes.map((s) => s.label).join(", ") || "—");
  }

  function drawShapes(payload, colour, cls, layer) {
    for (const box of payload.boxes || []) {
      const [x, y, w, h] = box.bbox;
      node("rect", { x, y, width: w, height: h, stroke: colour, class: "shape " + cls }, layer);
    }
    for (const polygon of payload.polygons || []) {
      const points = polygon.points.map((p) => p.join(",")).join(" ");
      node("polygon", { points, stroke: colour, class: "shape " + cls }, layer);
    }
  }

  function drawVotes(layer) {
    // Classes: one chip per answer in the worker's colour, the fused class last.
    const size = Math.max(item.height / 12, 8);
    const chips = item.answers.map((a, i) => [summary(a.payload), PALETTE[i % PALETTE.length]]);
    if (item.fused) chips.push(["fused: " + summary(item.fused), "#111"]);
    chips.forEach(([text, colour], i) => {
      const y = size * 0.3 + i * size * 1.3;
      node("rect", { x: size * 0.3, y, width: item.width * 0.6, height: size * 1.1, fill: colour, class: "vote" }, layer);
      node("text", { x: size * 0.6, y: y + size * 0.85, "font-size": size * 0.8, fill: "#fff" }, layer, text);
    });
  }

  function render() {
    svg.setAttribute("viewBox", "0 0 " + item.width + " " + item.height);
    svg.replaceChildren();
    node("image", { href: item.image_url, x: 0, y: 0, width: item.width, height: item.height }, svg);
    const layer = node("g", { class: "answers-layer" }, svg);
    const shapes = item.kind === "bbox" || item.kind === "polygon";
    if (shapes) {
      item.answers.forEach((a, i) => drawShapes(a.payload, PALETTE[i % PALETTE.length], "answer", layer));
      if (item.fused && !draft) drawShapes(item.fused, FUSED, "fused-shape", layer);
    } else {
      drawVotes(layer);
    }
    if (draft && shapes) drawDraft();
    renderSide();
  }

  function renderSide() {
    const list = document.getElementById("answers");
    list.replaceChildren();
    item.answers.forEach((a, i) => {
      const li = document.createElement("li");
      const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
      swatch.style.background = PALETTE[i % PALETTE.length];
      const skill = a.skill;
      const text = document.createElement("span");
      text.className = "answer-text";
      text.textContent = a.worker + " · skill " + skill.mean.toFixed(2) + " (" + skill.low.toFixed(2) + "–" +
        skill.high.toFixed(2) + ") · " + summary(a.payload) +
        (a.agreement === null ? "" : " · agreement " + a.agreement.toFixed(2));
      const pick = Object.assign(document.createElement("button"), { type: "button", textContent: "Pick" });
      pick.className = "pick";
      pick.dataset.annotation = a.annotation;
      li.append(swatch, text, pick);
      list.appendChild(li);
    });
    document.getElementById("fused").textContent = summary(item.fused) +
      (item.confidence === null ? "" : " · confidence " + item.confidence.toFixed(3));
    renderActions();
  }

  function shapesOf(payload) {
    return payload ? payload.boxes || payload.polygons || null : null;
  }

  function fusedDoubts() {
    // Why accepting the fused result needs a second look; empty when it does not.
    const doubts = [];
    const shapes = shapesOf(item.fused);
    if (shapes && shapes.length === 0) {
      const drawn = item.answers.filter((a) => (shapesOf(a.payload) || []).length > 0).length;
      doubts.push(drawn
        ? "it is empty, though " + drawn + " of " + item.answers.length + " answers drew shapes " +
          "(no object was drawn by enough of the crowd at matching places)"
        : "it is empty");
    }
    if (item.confidence === null || item.confidence < threshold) {
      const confidence = item.confidence === null ? "unknown" : item.confidence.toFixed(3);
      doubts.push("its confidence " + confidence + " is below the project's acceptance threshold " +
        threshold.toFixed(2));
    }
    return doubts.join("; ");
  }

  function renderActions() {
    const inForce = item.decision && item.decision.action !== "reopen" ? item.decision : null;
    const locked = Boolean(inForce) && !replacing;
    root.querySelectorAll("#decide button, button.pick").forEach((b) => { b.disabled = locked; });
    const doubts = item.fused ? fusedDoubts() : "";
    const accept = root.querySelector("[data-action=accept_fused]");
    accept.disabled = locked || !item.fused;
    accept.classList.toggle("primary", !doubts);
    accept.textContent = doubts ? "Accept fused…" : "Accept fused";
    root.querySelector("[data-action=edit-start]").classList.toggle("primary", Boolean(doubts));
    const warning = document.getElementById("fused-doubts");
    warning.hidden = !doubts || locked;
    warning.textContent = doubts ? "Look before accepting the fused result: " + doubts + "." : "";
    document.getElementById("in-force").hidden = !inForce;
    root.querySelector("[data-action=replace]").textContent = replacing ? "Keep it" : "Replace decision";
    const decision = item.decision;
    if (inForce) {
      say("Decision in force: settled by " + inForce.reviewer + " (" + inForce.action + ") at " +
        inForce.created_at + ": " + (inForce.label ? "accepted label " + summary(inForce.label) : "no label") + "." +
        (replacing ? " Your decision will replace it." : ""), replacing ? "" : "done");
    } else if (decision) {
      say("Reopened by " + decision.reviewer + " at " + decision.created_at + ": state " + item.state +
        ", consensus version " + item.version + ".");
    } else {
      say("State " + item.state + ", consensus version " + item.version + ".");
    }
  }

  // --- editing ---------------------------------------------------------------------------

  function startEdit() {
    const source = item.fused && summary(item.fused) !== "0 × —" ? item.fused : (item.answers[0] || {}).payload;
    draft = JSON.parse(JSON.stringify(source || {}));
    for (const box of draft.boxes || []) delete box.score;
    for (const polygon of draft.polygons || []) delete polygon.score;
    root.querySelector("[data-action=edit]").hidden = false;
    if (item.kind === "classification" || item.kind === "moderation") showClassPicker();
    render();
    say("Editing: drag the handles, then save.");
  }

  function showClassPicker() {
    const select = document.createElement("select");
    select.id = "class-picker";
    const options = item.kind === "classification" ? labels : ["safe", "unsafe"];
    for (const name of options) select.appendChild(new Option(name, name));
    select.value = draft.label || draft.verdict || options[0];
    select.addEventListener("change", () => {
      if (item.kind === "classification") draft.label = select.value;
      else draft = { verdict: select.value, categories: [] };
    });
    document.getElementById("fused").after(select);
  }

  function pointer(event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const local = point.matrixTransform(svg.getScreenCTM().inverse());
    return [Math.min(Math.max(local.x, 0), item.width), Math.min(Math.max(local.y, 0), item.height)];
  }

  function drawDraft() {
    const layer = node("g", { class: "draft" }, svg);
    const grip = Math.max(item.width, item.height) / 40;
    (draft.boxes || []).forEach((box, b) => {
      const [x, y, w, h] = box.bbox;
      node("rect", { x, y, width: w, height: h, class: "shape edited" }, layer);
      const edges = {
        left: [x, y, x, y + h], right: [x + w, y, x + w, y + h],
        top: [x, y, x + w, y], bottom: [x, y + h, x + w, y + h],
      };
      for (const [edge, [x1, y1, x2, y2]] of Object.entries(edges)) {
        node("line", { x1, y1, x2, y2, class: "handle edge-" + edge, "stroke-width": grip,
          "data-box": b, "data-edge": edge }, layer);
      }
    });
    (draft.polygons || []).forEach((polygon, p) => {
      node("polygon", { points: polygon.points.map((q) => q.join(",")).join(" "), class: "shape edited" }, layer);
      polygon.points.forEach(([cx, cy], v) => {
        node("circle", { cx, cy, r: grip / 2, class: "handle vertex", "data-polygon": p, "data-vertex": v }, layer);
      });
    });
  }

  function moveEdge(box, edge, [px, py]) {
    let [x, y, w, h] = box.bbox;
    const right = x + w, bottom = y + h;
    if (edge === "left") { x = Math.min(px, right - 1); w = right - x; }
    if (edge === "right") { w = Math.max(px - x, 1); }
    if (edge === "top") { y = Math.min(py, bottom - 1); h = bottom - y; }
    if (edge === "bottom") { h = Math.max(py - y, 1); }
    box.bbox = [x, y, w, h].map((v) => Math.round(v * 10) / 10);
  }

  let dragging = null;
  svg.addEventListener("pointerdown", (event) => {
    const handle = event.target.closest(".handle");
    if (!handle || !draft) return;
    event.preventDefault();
    dragging = { ...handle.dataset };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    const at = pointer(event);
    if (dragging.edge) moveEdge(draft.boxes[Number(dragging.box)], dragging.edge, at);
    else draft.polygons[Number(dragging.polygon)].points[Number(dragging.vertex)] = at.map((v) => Math.round(v * 10) / 10);
    render();
  });
  svg.addEventListener("pointerup", () => { dragging = null; });

  // --- decisions -------------------------------------------------------------------------

  async function decide(body) {
    say("Saving…");
    const response = await fetch(root.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
      body: JSON.stringify({ ...body, version: item.version }),
    });
    const answer = await response.json();
    if (response.status === 201) {
      draft = null;
      replacing = false;
      await load();
      return;
    }
    const error = answer.error || {};
    const where = error.field ? " (" + error.field + ")" : "";
    say((response.status === 409 ? "Not saved: " : "Refused: ") + error.message + where, "error");
  }

  function acceptFused() {
    const doubts = fusedDoubts();
    const sure = !doubts || window.confirm("Accept the fused result anyway? " +
      doubts.charAt(0).toUpperCase() + doubts.slice(1) + ". Every worker is re-graded against it.");
    if (sure) decide({ action: "accept_fused" });
    else say("Not accepted. Edit the shapes, pick an answer or reject the image instead.");
  }

  function reopen() {
    const sure = window.confirm("Reopen this task? The decision in force is undone: the task goes " +
      "back to review with no label, and the workers' points and skills go back to what the " +
      "crowd's consensus gave them.");
    if (sure) decide({ action: "reopen" });
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    const action = button.dataset.action;
    if (button.classList.contains("pick")) decide({ action: "pick", annotation: button.dataset.annotation });
    else if (action === "accept_fused") acceptFused();
    else if (action === "reject") decide({ action });
    else if (action === "replace") { replacing = !replacing; render(); }
    else if (action === "reopen") reopen();
    else if (action === "edit-start") startEdit();
    else if (action === "edit") decide({ action: "edit", label: draft });
  });

  async function load() {
    const response = await fetch(root.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } });
    item = await response.json();
    const picker = document.getElementById("class-picker");
    if (picker) picker.remove();
    root.querySelector("[data-action=edit]").hidden = true;
    render();
  }

  load();
})();
