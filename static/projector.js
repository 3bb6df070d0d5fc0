// The projector: the current item, live charts, the join screen; obeys the facilitator's keys.
import { Live, barList, connectionNotice, h, randomId, readJSON, t } from "./live.js";
import { bindKeys } from "./keys.js";
import { ACTION, SNAPSHOT } from "./protocol.js";

const main = document.getElementById("main");
const screen = document.getElementById("screen");
const join = document.getElementById("join");
const footerCount = document.getElementById("footer-count");
const roomId = main.dataset.room;

let snap = readJSON("poll-snapshot");
let joinForced = null; // null: automatic (shown on the first item); true/false: toggled by J
let lastIndex = snap.index;

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

let lastKey = "";
function render() {
  join.classList.toggle("off", !joinVisible());
  const key = JSON.stringify([snap.item.id, snap.status, snap.results, snap.answers, snap.room.ended]);
  footerCount.textContent = snap.item.type === "slide" ? "" : (snap.answers === 1 ? t("1 person answered") : t("{count} people answered", { count: snap.answers }));
  if (key === lastKey) return;
  lastKey = key;
  screen.replaceChildren(...view());
}

function view() {
  const item = snap.item;
  if (snap.room.ended) return [h("h2", { class: "title", text: t("This session has ended. Thank you for taking part!") })];
  if (item.type === "slide") {
    const body = h("div", { class: "slide-body" });
    body.innerHTML = item.body_html; // safe HTML: rendered by the server from a Markdown subset
    return [h("h2", { class: "title", text: item.title }), body];
  }
  const nodes = [h("h2", { class: "title prompt", text: item.prompt })];
  if (snap.status === "pending") nodes.push(h("p", { class: "state", text: t("Voting has not started yet.") }));
  if (snap.status === "closed") nodes.push(h("p", { class: "state", text: t("Voting is closed.") }));
  const results = snap.results;
  if (!results) {
    nodes.push(
      h("p", { class: "hidden-results", text: t("Results are hidden until the facilitator shows them.") }),
      h("p", { class: "answer-count", text: snap.answers === 1 ? t("1 answer") : t("{count} answers", { count: snap.answers }) }),
    );
  } else if (results.kind === "bars") {
    nodes.push(barList(results, true));
    if (results.other_texts && results.other_texts.length) {
      nodes.push(
        h("h3", { class: "other-title", text: `${item.other_label}:` }),
        h("ul", { class: "cards small" }, results.other_texts.map((e) => h("li", { text: e.text }))),
      );
    }
  } else if (results.texts.length) {
    nodes.push(h("ul", { class: "cards" }, [...results.texts].reverse().map((e) => h("li", { text: e.text }))));
  } else {
    nodes.push(h("p", { class: "state", text: t("No answers yet.") }));
  }
  return nodes;
}

render();
