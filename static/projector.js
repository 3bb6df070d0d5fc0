// The projector: the current item, live charts, the join screen; obeys the facilitator's keys.
import { Live, connectionNotice, randomId, readJSON, t } from "./live.js";
import { bindKeys } from "./keys.js";
import { ACTION, SNAPSHOT } from "./protocol.js";
import { countdown } from "./countdown.js";

const main = document.getElementById("main");
const screen = document.getElementById("screen");
const join = document.getElementById("join");
const footerCount = document.getElementById("footer-count");
const joinedCount = document.getElementById("joined-count");
const roomId = main.dataset.room;

let snap = readJSON("poll-snapshot");
const followCountdown = countdown(document.getElementById("countdown"));

const live = new Live(`/ws/projector/${roomId}`, {
  onMessage: (message) => {
    if (message.type === SNAPSHOT) {
      snap = message;
      render();
    }
  },
  onStatus: connectionNotice(document.getElementById("connection")),
});

function act(action, extra = {}) {
  live.sendSoon({ type: ACTION, action, request_id: randomId(), ...extra });
}

// The join screen is the room's: the console's button and J set it on the server.
function joinVisible() {
  return Boolean(snap.join_screen);
}

bindKeys(() => snap, act);
main.focus();

// The screen is rendered by the server (from the same template as the first page
// load) once per change, and arrives with the snapshot.
let lastHtml = null;
function render() {
  document.body.classList.toggle("ended", Boolean(snap.room.ended));
  join.classList.toggle("off", !joinVisible());
  followCountdown(snap);
  footerCount.textContent = snap.item.question ? answered(snap) : "";
  if (joinedCount) joinedCount.textContent = snap.joined === 1 ? t("1 person joined") : t("{count} people joined", { count: snap.joined });
  if (snap.html === undefined || snap.html === lastHtml) return;
  lastHtml = snap.html;
  const sizes = grownSizes();
  screen.innerHTML = snap.html; // autoescaped by the server's templates
  project();
  grow(sizes);
}

// Bars grow to their new size instead of jumping: a fill that names its option
// (data-grow) starts from the size its predecessor had before the redraw, or from
// nothing when it is new, and its CSS transition carries it to the new size.
const still = window.matchMedia("(prefers-reduced-motion: reduce)");
function grownSizes() {
  const sizes = new Map();
  for (const fill of screen.querySelectorAll("[data-grow]")) {
    sizes.set(fill.dataset.grow, { width: fill.offsetWidth, height: fill.offsetHeight });
  }
  return sizes;
}

function grow(sizes) {
  if (still.matches) return;
  const fills = [...screen.querySelectorAll("[data-grow]")];
  for (const fill of fills) {
    const track = fill.parentElement;
    const upright = track && track.offsetHeight > track.offsetWidth;
    const before = sizes.get(fill.dataset.grow) || (upright ? { height: 0 } : { width: 0 });
    if (before.width !== undefined) fill.style.width = `${before.width}px`;
    if (before.height !== undefined) fill.style.height = `${before.height}px`;
  }
  if (!fills.length) return;
  void screen.offsetWidth; // lay out the old sizes first, so the change is a transition
  for (const fill of fills) fill.style.removeProperty("width"), fill.style.removeProperty("height");
}

// Full screen by F or the button (shown only where the browser can, and not while
// in full screen); the pointer hides after a few seconds without moving.
const fullscreenButton = document.getElementById("fullscreen");
function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else document.documentElement.requestFullscreen().catch(() => {});
}
if (fullscreenButton && document.fullscreenEnabled) {
  fullscreenButton.hidden = false;
  fullscreenButton.addEventListener("click", toggleFullscreen);
}
document.addEventListener("fullscreenchange", () => {
  document.body.classList.toggle("fullscreen", Boolean(document.fullscreenElement));
  main.focus();
});
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || (event.key !== "f" && event.key !== "F")) return;
  event.preventDefault();
  toggleFullscreen();
});

const IDLE_MS = 3000;
let idleTimer = null;
function awake() {
  document.body.classList.remove("idle");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add("idle"), IDLE_MS);
}
for (const kind of ["mousemove", "mousedown", "touchstart"]) document.addEventListener(kind, awake, { passive: true });
awake();

// As templates/_counts.html says it: people, and answers where one person may give several.
function answered(s) {
  const people = s.answers === 1 ? t("1 person answered") : t("{count} people answered", { count: s.answers });
  if (s.entries === null || s.entries === undefined) return people;
  return `${people} · ${s.entries === 1 ? t("1 answer") : t("{count} answers", { count: s.entries })}`;
}

// A question type may lay out its results in the browser: its fragment names the
// type's module in data-script, whose `project(element)` runs after every swap. A
// loaded module is kept, so later swaps are laid out at once, before the next paint.
const projectors = new Map();
function project() {
  for (const host of screen.querySelectorAll("[data-script]")) {
    const url = host.dataset.script;
    const loaded = projectors.get(url);
    if (loaded) {
      if (loaded.project) loaded.project(host);
      continue;
    }
    import(url).then((module) => {
      projectors.set(url, module);
      if (module.project && host.isConnected) module.project(host);
    }).catch(() => {});
  }
}

render();
project();
