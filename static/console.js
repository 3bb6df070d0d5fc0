// The console: forms go over the websocket; the live panel is redrawn by the server after each change.
import { Live, connectionNotice, randomId, t } from "./live.js";
import { bindKeys } from "./keys.js";
import { ACTION, DONE, ERROR, SNAPSHOT } from "./protocol.js";
import { countdown } from "./countdown.js";

const main = document.getElementById("main");
const panel = document.getElementById("panel");
const statusLine = document.getElementById("console-status");
const roomId = main.dataset.room;
const channel = "BroadcastChannel" in window ? new BroadcastChannel(`poll-${roomId}`) : null;

let snap = null;
const followCountdown = countdown(document.getElementById("countdown"));
let shownVersion = "";
let fetching = false;
let again = false;

const live = new Live(`/ws/console/${roomId}`, {
  onMessage: (message) => {
    if (message.type === SNAPSHOT) {
      snap = message;
      followCountdown(snap);
      // Presence changes and a countdown running out do not bump the version: compare all.
      const key = `${message.version}/${message.joined}/${message.connected}/${message.status}`;
      if (key !== shownVersion) refresh(key);
    } else if (message.type === ERROR) {
      statusLine.className = "console-status error";
      statusLine.textContent = message.message;
    } else if (message.type === DONE) {
      statusLine.className = "console-status";
      statusLine.textContent = "";
    }
  },
  onStatus: (status) => {
    notice(status);
  },
});
const notice = connectionNotice(statusLine);

function act(action, fields = {}) {
  if (!live.send({ type: ACTION, action, request_id: randomId(), ...fields })) return false;
  return true;
}

function toggleJoin() {
  if (channel) channel.postMessage({ join: "toggle" });
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

panel.addEventListener("click", (event) => {
  if (event.target && event.target.id === "btn-join") toggleJoin();
});

// Redraw the panel from the server's own template, keeping focus and open confirmations.
async function refresh(version) {
  if (fetching) { again = true; return; }
  fetching = true;
  try {
    const response = await fetch(`/console/room/${roomId}/panel`, { headers: { accept: "text/html" }, cache: "no-store" });
    if (response.ok) {
      const html = await response.text();
      const focusedId = document.activeElement && document.activeElement.id;
      const open = [...panel.querySelectorAll("details[open]")].map((d) => d.id);
      const doc = new DOMParser().parseFromString(html, "text/html");
      panel.replaceChildren(...doc.body.childNodes);
      for (const id of open) { const d = document.getElementById(id); if (d) d.open = true; }
      if (focusedId) { const node = document.getElementById(focusedId); if (node) node.focus(); }
      showJoinButton();
      shownVersion = version;
    }
  } finally {
    fetching = false;
    if (again) { again = false; refresh(snap ? `${snap.version}/${snap.joined}/${snap.connected}/${snap.status}` : version); }
  }
}

function showJoinButton() {
  const button = document.getElementById("btn-join");
  if (button && channel) button.hidden = false;
}

showJoinButton();
bindKeys(() => snap, act, toggleJoin);
void t;
