// The projector: the current item, live charts, the join screen; obeys the facilitator's keys.
import { Live, connectionNotice, randomId, readJSON, t } from "./live.js";
import { bindKeys } from "./keys.js";
import { ACTION, SNAPSHOT } from "./protocol.js";
import { countdown } from "./countdown.js";

const main = document.getElementById("main");
const screen = document.getElementById("screen");
const join = document.getElementById("join");
const footerCount = document.getElementById("footer-count");
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
  join.classList.toggle("off", !joinVisible());
  followCountdown(snap);
  footerCount.textContent = !snap.item.question ? "" : (snap.answers === 1 ? t("1 person answered") : t("{count} people answered", { count: snap.answers }));
  if (snap.html === undefined || snap.html === lastHtml) return;
  lastHtml = snap.html;
  screen.innerHTML = snap.html; // autoescaped by the server's templates
  project();
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
