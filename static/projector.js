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
let joinForced = null; // null: automatic (shown on the first item); true/false: toggled by J
let lastIndex = snap.index;
const followCountdown = countdown(document.getElementById("countdown"));

const live = new Live(`/ws/projector/${roomId}`, {
  onMessage: (message) => {
    if (message.type === SNAPSHOT) {
      snap = message;
      if (snap.index !== lastIndex) joinForced = null; // moving on ends a manual join screen
      lastIndex = snap.index;
      render();
    }
  },
  onStatus: connectionNotice(document.getElementById("connection")),
});

function act(action, extra = {}) {
  live.send({ type: ACTION, action, request_id: randomId(), ...extra });
}

function toggleJoin() {
  joinForced = !joinVisible();
  render();
}

function joinVisible() {
  return joinForced === null ? snap.index === 0 && !snap.room.ended : joinForced;
}

// The console's "join screen" button reaches this window through the browser, not the server.
if ("BroadcastChannel" in window) {
  const channel = new BroadcastChannel(`poll-${roomId}`);
  channel.addEventListener("message", (event) => {
    if (event.data && event.data.join === "toggle") toggleJoin();
  });
}

bindKeys(() => snap, act, toggleJoin);
main.focus();

// The screen is rendered by the server (from the same template as the first page
// load) once per change, and arrives with the snapshot.
let lastHtml = null;
function render() {
  join.classList.toggle("off", !joinVisible());
  followCountdown(snap);
  footerCount.textContent = snap.item.question ? answered(snap) : "";
  if (joinedCount) joinedCount.textContent = snap.joined === 1 ? t("1 person joined") : t("{count} people joined", { count: snap.joined });
  if (snap.html === undefined || snap.html === lastHtml) return;
  lastHtml = snap.html;
  screen.innerHTML = snap.html; // autoescaped by the server's templates
  project();
}

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
