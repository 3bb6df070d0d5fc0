// The presenter's console: forms go over the websocket; the live panel is redrawn by
// the server after each change; the clock, the run's time and the countdown tick here.
import { Live, connectionNotice, randomId } from "./live.js";
import { bindKeys } from "./keys.js";
import { ACTION, ERROR, SNAPSHOT } from "./protocol.js";
import { countdown } from "./countdown.js";
import { duration, formatTime, localTimes } from "./times.js";

const main = document.getElementById("main");
const panel = document.getElementById("panel");
const statusLine = document.getElementById("console-status");
const errorBox = document.getElementById("console-error");
const errorText = document.getElementById("console-error-text");
const dismiss = document.getElementById("console-error-dismiss");
const clock = document.getElementById("clock");
const elapsed = document.getElementById("elapsed");
const roomId = main.dataset.room;

let snap = null;
const followCountdown = countdown(document.getElementById("countdown"));
let shownVersion = "";
let fetching = false;
let again = false;

// An error stays until dismissed or replaced by the next one: a connection that
// comes back, or a later action that works, says nothing about it.
function showError(text) {
  errorText.textContent = text;
  errorBox.hidden = false;
}
dismiss.hidden = false;
dismiss.addEventListener("click", () => {
  errorBox.hidden = true;
  errorText.textContent = "";
  main.focus({ preventScroll: true });
});

const notice = connectionNotice(statusLine);
const live = new Live(`/ws/console/${roomId}`, {
  onMessage: (message) => {
    if (message.type === SNAPSHOT) {
      snap = message;
      followCountdown(snap);
      tick();
      // Presence changes and a countdown running out do not bump the version: compare all.
      const key = viewKey(message);
      if (key !== shownVersion) refresh(key);
    } else if (message.type === ERROR) {
      showError(message.message);
    }
  },
  onStatus: (status) => {
    main.dataset.live = status; // "online" once the websocket is up (tests wait for it)
    notice(status);
  },
});

function viewKey(message) {
  return `${message.version}/${message.joined}/${message.connected}/${message.status}`;
}

function act(action, fields = {}) {
  return live.send({ type: ACTION, action, request_id: randomId(), ...fields });
}

// Forms submit over the websocket when it is up; otherwise as plain POSTs.
panel.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("action")) return;
  const data = Object.fromEntries(new FormData(form).entries());
  delete data.csrf;
  const { action, ...fields } = data;
  if (act(action, fields)) {
    event.preventDefault();
    const details = form.closest("details");
    if (details) details.open = false;
  }
});

// Redraw the panel from the server's own template, keeping focus and open details.
async function refresh(version) {
  if (fetching) { again = true; return; }
  fetching = true;
  try {
    const response = await fetch(`/console/room/${roomId}/panel`, { headers: { accept: "text/html" }, cache: "no-store" });
    if (response.ok) {
      const html = await response.text();
      const focusedId = document.activeElement && document.activeElement.id;
      const open = [...panel.querySelectorAll("details[open]")].map((d) => d.id).filter(Boolean);
      const doc = new DOMParser().parseFromString(html, "text/html");
      panel.replaceChildren(...doc.body.childNodes);
      for (const id of open) { const d = document.getElementById(id); if (d) d.open = true; }
      if (focusedId) { const node = document.getElementById(focusedId); if (node) node.focus(); }
      localTimes(panel);
      shownVersion = version;
    }
  } finally {
    fetching = false;
    if (again) { again = false; refresh(snap ? viewKey(snap) : version); }
  }
}

// The clock in the browser's time zone, and how long the run has gone on.
function tick() {
  const now = new Date();
  clock.setAttribute("datetime", now.toISOString());
  formatTime(clock);
  const since = Date.parse((snap && snap.started_at) || elapsed.dataset.since);
  const endedAt = snap ? snap.ended_at : elapsed.dataset.until;
  if (!Number.isNaN(since)) elapsed.textContent = duration(since, endedAt ? Date.parse(endedAt) : now.getTime());
}
tick();
setInterval(tick, 1000);

// Keys pressed while the page still connects are sent once it has.
bindKeys(() => snap, (action, fields = {}) =>
  live.sendSoon({ type: ACTION, action, request_id: randomId(), ...fields }));
