// Review page: the image with every worker's answer in its own colour and the fused result;
// accept, pick, edit (drag box edges or polygon vertices, see editor.js) or reject, posted to the
// staff API with the consensus version the page was drawn from, so a stale decision comes back
// as 409. A decision in force is shown with Replace (decide again) and Reopen (undo). Accepting a
// fused result that is empty or below the project's acceptance threshold asks first: it
// re-grades every worker against it.

import { ApiError, makeApi } from "../shared/api.js";
import { paletteColour } from "../shared/palette.js";
import { svg } from "../shared/svg.js";
import { draftFrom, drawDraft, reshape, trackGrips } from "./editor.js";

const FUSED = "#ffffff";
const $ = (id) => document.getElementById(id);
const root = $("review");
const overlay = $("overlay");
const api = makeApi();
let item = null;
let draft = null; // the payload being edited
let replacing = false; // the admin chose to replace the decision in force

function say(message, kind) {
  const status = $("status");
  status.textContent = message;
  status.className = `status ${kind || ""}`;
}

function summary(payload) {
  if (!payload) return "nothing";
  if ("label" in payload) return payload.label;
  if ("verdict" in payload) return payload.verdict + (payload.categories.length ? ` (${payload.categories.join(", ")})` : "");
  const shapes = payload.boxes || payload.polygons;
  return `${shapes.length} × ${shapes.map((s) => s.label).join(", ") || "—"}`;
}

function drawShapes(payload, colour, cls, layer) {
  for (const box of payload.boxes || []) {
    const [x, y, w, h] = box.bbox;
    svg("rect", { x, y, width: w, height: h, stroke: colour, class: `shape ${cls}` }, layer);
  }
  for (const polygon of payload.polygons || []) {
    const points = polygon.points.map((p) => p.join(",")).join(" ");
    svg("polygon", { points, stroke: colour, class: `shape ${cls}` }, layer);
  }
}

// Classes: one chip per answer in the worker's colour, the fused class last.
function drawVotes(layer) {
  const size = Math.max(item.height / 12, 8);
  const chips = item.answers.map((a, i) => [summary(a.payload), paletteColour(i)]);
  if (item.fused) chips.push([`fused: ${summary(item.fused)}`, "#111"]);
  chips.forEach(([text, colour], i) => {
    const y = size * 0.3 + i * size * 1.3;
    svg("rect", { x: size * 0.3, y, width: item.width * 0.6, height: size * 1.1, fill: colour, class: "vote" }, layer);
    const attrs = { x: size * 0.6, y: y + size * 0.85, "font-size": size * 0.8, fill: "#fff" };
    svg("text", attrs, layer).textContent = text;
  });
}

function render() {
  overlay.setAttribute("viewBox", `0 0 ${item.width} ${item.height}`);
  overlay.replaceChildren();
  svg("image", { href: item.image_url, x: 0, y: 0, width: item.width, height: item.height }, overlay);
  const layer = svg("g", { class: "answers-layer" }, overlay);
  const shapes = item.kind === "bbox" || item.kind === "polygon";
  if (shapes) {
    item.answers.forEach((a, i) => drawShapes(a.payload, paletteColour(i), "answer", layer));
    if (item.fused && !draft) drawShapes(item.fused, FUSED, "fused-shape", layer);
  } else {
    drawVotes(layer);
  }
  if (draft && shapes) drawDraft(overlay, draft, item);
  renderSide();
}

function answerLine(a, i) {
  const li = document.createElement("li");
  const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
  swatch.style.background = paletteColour(i);
  const { mean, low, high } = a.skill;
  const text = document.createElement("span");
  text.className = "answer-text";
  text.textContent =
    `${a.worker} · skill ${mean.toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)}) · ${summary(a.payload)}` +
    (a.agreement === null ? "" : ` · agreement ${a.agreement.toFixed(2)}`);
  const pick = Object.assign(document.createElement("button"), { type: "button", textContent: "Pick" });
  pick.className = "pick";
  pick.dataset.annotation = a.annotation;
  li.append(swatch, text, pick);
  return li;
}

function renderSide() {
  $("answers").replaceChildren(...item.answers.map(answerLine));
  $("fused").textContent =
    summary(item.fused) + (item.confidence === null ? "" : ` · confidence ${item.confidence.toFixed(3)}`);
  renderActions();
}

function shapesOf(payload) {
  return payload ? payload.boxes || payload.polygons || null : null;
}

// Why accepting the fused result needs a second look; empty when it does not.
function fusedDoubts() {
  const doubts = [];
  const shapes = shapesOf(item.fused);
  if (shapes && shapes.length === 0) {
    const drawn = item.answers.filter((a) => (shapesOf(a.payload) || []).length > 0).length;
    doubts.push(
      drawn
        ? `it is empty, though ${drawn} of ${item.answers.length} answers drew shapes ` +
            "(no object was drawn by enough of the crowd at matching places)"
        : "it is empty",
    );
  }
  const threshold = parseFloat(root.dataset.threshold);
  if (item.confidence === null || item.confidence < threshold) {
    const confidence = item.confidence === null ? "unknown" : item.confidence.toFixed(3);
    doubts.push(`its confidence ${confidence} is below the project's acceptance threshold ${threshold.toFixed(2)}`);
  }
  return doubts.join("; ");
}

function renderActions() {
  const inForce = item.decision && item.decision.action !== "reopen" ? item.decision : null;
  const locked = Boolean(inForce) && !replacing;
  root.querySelectorAll("#decide button, button.pick").forEach((b) => {
    b.disabled = locked;
  });
  const doubts = item.fused ? fusedDoubts() : "";
  const accept = root.querySelector("[data-action=accept_fused]");
  accept.disabled = locked || !item.fused;
  accept.classList.toggle("primary", !doubts);
  accept.textContent = doubts ? "Accept fused…" : "Accept fused";
  root.querySelector("[data-action=edit-start]").classList.toggle("primary", Boolean(doubts));
  const warning = $("fused-doubts");
  warning.hidden = !doubts || locked;
  warning.textContent = doubts ? `Look before accepting the fused result: ${doubts}.` : "";
  $("in-force").hidden = !inForce;
  root.querySelector("[data-action=replace]").textContent = replacing ? "Keep it" : "Replace decision";
  sayState(inForce);
}

function sayState(inForce) {
  const decision = item.decision;
  if (inForce) {
    const label = inForce.label ? `accepted label ${summary(inForce.label)}` : "no label";
    say(
      `Decision in force: settled by ${inForce.reviewer} (${inForce.action}) at ${inForce.created_at}: ${label}.` +
        (replacing ? " Your decision will replace it." : ""),
      replacing ? "" : "done",
    );
  } else if (decision) {
    say(`Reopened by ${decision.reviewer} at ${decision.created_at}: state ${item.state}, consensus version ${item.version}.`);
  } else {
    say(`State ${item.state}, consensus version ${item.version}.`);
  }
}

// --- editing -------------------------------------------------------------------------------

function startEdit() {
  const source = item.fused && summary(item.fused) !== "0 × —" ? item.fused : (item.answers[0] || {}).payload;
  draft = draftFrom(source);
  root.querySelector("[data-action=edit]").hidden = false;
  if (item.kind === "classification" || item.kind === "moderation") showClassPicker();
  render();
  say("Editing: drag the handles, then save.");
}

function showClassPicker() {
  const select = document.createElement("select");
  select.id = "class-picker";
  const options = item.kind === "classification" ? root.dataset.labels.split("|") : ["safe", "unsafe"];
  for (const name of options) select.appendChild(new Option(name, name));
  select.value = draft.label || draft.verdict || options[0];
  select.addEventListener("change", () => {
    if (item.kind === "classification") draft.label = select.value;
    else draft = { verdict: select.value, categories: [] };
  });
  $("fused").after(select);
}

// --- decisions -----------------------------------------------------------------------------

async function decide(body) {
  say("Saving…");
  try {
    await api.post(root.dataset.api, { ...body, version: item.version });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const where = err.field ? ` (${err.field})` : "";
    say((err.status === 409 ? "Not saved: " : "Refused: ") + err.message + where, "error");
    return;
  }
  draft = null;
  replacing = false;
  await load();
}

function acceptFused() {
  const doubts = fusedDoubts();
  const sure =
    !doubts ||
    window.confirm(
      `Accept the fused result anyway? ${doubts.charAt(0).toUpperCase()}${doubts.slice(1)}. ` +
        "Every worker is re-graded against it.",
    );
  if (sure) decide({ action: "accept_fused" });
  else say("Not accepted. Edit the shapes, pick an answer or reject the image instead.");
}

function reopen() {
  const sure = window.confirm(
    "Reopen this task? The decision in force is undone: the task goes back to review with no " +
      "label, and the workers' points and skills go back to what the crowd's consensus gave them.",
  );
  if (sure) decide({ action: "reopen" });
}

function onClick(event) {
  const button = event.target.closest("button");
  if (!button || button.disabled) return;
  const action = button.dataset.action;
  if (button.classList.contains("pick")) decide({ action: "pick", annotation: button.dataset.annotation });
  else if (action === "accept_fused") acceptFused();
  else if (action === "reject") decide({ action });
  else if (action === "replace") {
    replacing = !replacing;
    render();
  } else if (action === "reopen") reopen();
  else if (action === "edit-start") startEdit();
  else if (action === "edit") decide({ action: "edit", label: draft });
}

async function load() {
  item = await api.get(root.dataset.api);
  $("class-picker")?.remove();
  root.querySelector("[data-action=edit]").hidden = true;
  render();
}

if (root) {
  root.addEventListener("click", onClick);
  trackGrips(overlay, {
    active: () => Boolean(draft),
    size: () => item,
    onDrag: (grip, point) => {
      reshape(draft, grip, point);
      render();
    },
  });
  load();
}
