// The participant's phone: follows the room live, sends votes, shows "saved" only on the server's ack.
import { Live, barList, connectionNotice, h, randomId, readJSON, t } from "./live.js";
import {
  ACK, CLOSE_TOO_MANY_ATTEMPTS, CLOSE_UNKNOWN_ROOM, ERROR, MINE, REFUSED, SNAPSHOT, UNKNOWN_ROOM, VOTE,
} from "./protocol.js";

const main = document.getElementById("main");
const stage = document.getElementById("stage");
const statusLine = document.getElementById("vote-status");
const code = main.dataset.code;
const TOO_MANY = "Too many wrong codes from this network. Wait a minute, then try again.";

let snap = readJSON("poll-snapshot");
const mine = {}; // question id → the participant's stored answers (from the server only)
if (snap.item && snap.mine) mine[snap.item.id] = snap.mine;
const drafts = {}; // question id → what she has ticked or typed but not yet sent
let pending = null; // {submission_id, question_id, answer} until acked or refused
let retryTimer = null;
let lastHeard = Date.now(); // the last message over the websocket
let lastKey = "";

const live = new Live(`/ws/participant/${code}`, {
  onMessage: (message) => { lastHeard = Date.now(); receive(message); },
  onStatus: (status, detail) => {
    notice(status);
    if (status === "online" && pending) send(); // retry with the same submission id
    if (status === "reconnecting" && detail === CLOSE_TOO_MANY_ATTEMPTS) setStatus("error", t(TOO_MANY));
    if (status === "gone") {
      setStatus("error", detail === CLOSE_UNKNOWN_ROOM ? t("This session has ended. Thank you for taking part!") : t("Something went wrong."));
    }
  },
});
const notice = connectionNotice(document.getElementById("connection"));

// While the websocket is down (or a proxy never lets it up), follow the room by
// asking for the snapshot over plain HTTP every few seconds.
setInterval(async () => {
  if (live.open || Date.now() - lastHeard < 8000) return;
  try {
    const response = await fetch(`/r/${code}`, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    if (!response.ok) return;
    const message = await response.json();
    if (message.type !== SNAPSHOT) return;
    receive(message);
    if (message.item && message.item.type !== "slide") {
      receive({ type: MINE, question_id: message.item.id, answers: message.mine || [] });
    }
  } catch {
    // Offline: the next tick tries again.
  }
}, 5000);

function setStatus(kind, text) {
  statusLine.className = `vote-status ${kind}`;
  statusLine.textContent = text;
}

function receive(message) {
  switch (message.type) {
    case SNAPSHOT: {
      const before = snap.item ? snap.item.id : null;
      snap = message;
      if (message.item.id !== before && !pending) setStatus("", "");
      render();
      break;
    }
    case MINE:
      mine[message.question_id] = message.answers;
      render();
      break;
    case ACK:
      if (pending && message.submission_id === pending.submission_id) {
        pending = null;
        clearTimeout(retryTimer);
        mine[message.question_id] = message.mine;
        delete drafts[message.question_id];
        setStatus("saved", t("Your answer is saved."));
        render(true);
      }
      break;
    case REFUSED:
      if (pending && message.submission_id === pending.submission_id) {
        if (message.retry) {
          setStatus("pending", t("Not saved yet, trying again…"));
          scheduleRetry(2000);
        } else {
          pending = null;
          clearTimeout(retryTimer);
          setStatus("error", message.message);
          render(true);
        }
      }
      break;
    case ERROR:
      if (message.reason === UNKNOWN_ROOM) setStatus("error", message.message);
      break;
    default:
      break;
  }
}

function scheduleRetry(delay) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    if (!pending) return;
    setStatus("pending", t("Not saved yet, trying again…"));
    send();
  }, delay);
}

function send() {
  if (!pending) return;
  const sent = live.send({ type: VOTE, ...pending });
  if (!sent) {
    // The websocket is down (or a proxy never lets it up): post the vote instead.
    live.reconnectNow();
    postVote(pending);
  }
  // No answer within 5 s: send again; the same submission id is never counted twice.
  scheduleRetry(5000);
}

// The vote as a form post answered with the same ack/refused message as the websocket.
async function postVote(vote) {
  const body = new URLSearchParams({
    token: main.dataset.token, question_id: vote.question_id, submission_id: vote.submission_id,
  });
  const answer = vote.answer;
  if ("choice" in answer) body.append("choice", answer.choice);
  for (const choice of answer.choices || []) body.append("choices", choice);
  if (answer.other) body.append("other", answer.other);
  if ("text" in answer) body.append("text", answer.text);
  let reply;
  try {
    const response = await fetch(`/r/${code}`, {
      method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    reply = await response.json();
  } catch {
    setStatus("pending", t("Not saved yet, trying again…"));
    return; // the retry timer sends it again
  }
  receive({ submission_id: vote.submission_id, question_id: vote.question_id, ...reply });
}

function vote(questionId, answer) {
  pending = { submission_id: randomId(), question_id: questionId, answer };
  setStatus("pending", t("Sending…"));
  send();
  render(true);
}

// What decides what the phone shows; votes by others do not change it (unless results are shown).
function renderKey() {
  return JSON.stringify([
    snap.item.id, snap.status, snap.room.ended, snap.results_shown ? snap.results : null,
    mine[snap.item.id] || [], !!pending,
  ]);
}

function render(force = false) {
  const key = renderKey();
  if (!force && key === lastKey) return;
  lastKey = key;
  const focusedName = document.activeElement && document.activeElement.name;
  stage.replaceChildren(...view());
  document.title = `${snap.room.title} · poll`;
  if (focusedName) {
    const again = stage.querySelector(`[name="${focusedName}"]`);
    if (again && again.type !== "submit") again.focus();
  }
}

function view() {
  const item = snap.item;
  if (snap.room.ended) return [h("h1", { text: t("This session has ended. Thank you for taking part!") })];
  if (item.type === "slide") {
    return [
      h("p", { class: "waiting", text: t("Waiting for the next question…") }),
      h("h1", { class: "slide-title", text: item.title }),
    ];
  }
  const answers = mine[item.id] || [];
  const nodes = [h("h1", { class: "prompt", text: item.prompt })];
  if (snap.status === "pending") nodes.push(h("p", { class: "notice", text: t("Voting has not started yet.") }));
  if (snap.status === "closed") nodes.push(h("p", { class: "notice", text: t("Voting is closed.") }));
  // "append": each answer is one more entry, so nothing locks.
  const locked = answers.length > 0 && !item.allow_change && item.answer_mode === "replace";
  if (snap.status === "open" && !locked) nodes.push(form(item, answers));
  else if (answers.length) nodes.push(...mineList(item, answers));
  if (snap.results && snap.results.kind === "bars") {
    nodes.push(h("h2", { class: "results-title", text: t("Results") }), barList(snap.results));
  }
  return nodes;
}

function labelOf(item, key) {
  const option = (item.options || []).find((o) => o.id === key);
  return option ? option.label : key === "_other" ? null : key;
}

function mineList(item, answers) {
  const entries = [];
  for (const answer of answers) {
    for (const key of answer.keys) {
      const label = labelOf(item, key);
      if (label) entries.push(label);
    }
    if (answer.text) entries.push(answer.text);
  }
  return [
    h("h2", { class: "mine-title", text: entries.length === 1 ? t("Your answer") : t("Your answers") }),
    h("ul", { class: "mine" }, entries.map((text) => h("li", { text }))),
  ];
}

function form(item, answers) {
  const chosen = new Set(answers.flatMap((a) => a.keys));
  const busy = pending !== null;
  const node = h("form", { class: "vote", method: "post", action: `/r/${code}`, "data-question": item.id });
  const simple = item.type === "yesno" || (item.type === "choice" && !item.multiple && !item.other);
  if (simple) {
    node.append(
      h(
        "div",
        { class: "buttons", role: "group", "aria-label": item.prompt },
        item.options.map((option) =>
          h("button", {
            type: "submit", value: option.id, class: `answer big${chosen.has(option.id) ? " chosen" : ""}`,
            "aria-pressed": chosen.has(option.id) ? "true" : "false", disabled: busy, text: option.label,
          }),
        ),
      ),
    );
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = event.submitter ? event.submitter.value : null;
      if (!value || pending) return;
      vote(item.id, item.type === "yesno" ? { choice: value } : { choices: [value] });
    });
    return node;
  }
  if (item.type === "choice") {
    const draft = drafts[item.id] || {
      choices: new Set(chosen),
      other: (answers.find((a) => a.text) || {}).text || "",
    };
    const kind = item.multiple ? "checkbox" : "radio";
    const legend = item.multiple
      ? item.max_choices ? t("Choose at most {limit} answers.", { limit: item.max_choices }) : t("Choose one or more answers.")
      : t("Choose one answer.");
    const rows = item.options.map((o) => ({ id: o.id, label: o.label }));
    if (item.other) rows.push({ id: "_other", label: item.other_label });
    const fieldset = h("fieldset", {}, h("legend", { text: legend }),
      rows.map((row) => h("label", { class: "option" },
        h("input", { type: kind, name: "choices", value: row.id, checked: draft.choices.has(row.id) }),
        " ", h("span", { text: row.label }))));
    if (item.other) {
      fieldset.append(
        h("label", { class: "other-label", for: "other", text: t("Your other answer") }),
        h("input", { id: "other", name: "other", maxlength: 200, autocomplete: "off", value: draft.other }),
      );
    }
    node.append(fieldset, h("button", {
      type: "submit", class: "primary big", disabled: busy,
      text: answers.length ? t("Change answer") : t("Send answer"),
    }));
    node.addEventListener("input", () => {
      const choices = new Set([...node.querySelectorAll("input[name=choices]:checked")].map((i) => i.value));
      const otherInput = node.querySelector("input[name=other]");
      const other = otherInput ? otherInput.value : "";
      // Typing an "other" text ticks its box: that is what people mean.
      if (other.trim() && !choices.has("_other")) {
        const box = node.querySelector("input[value=_other]");
        if (box) { box.checked = true; choices.add("_other"); }
        if (!item.multiple) choices.forEach((c) => { if (c !== "_other") choices.delete(c); });
      }
      drafts[item.id] = { choices, other };
    });
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      if (pending) return;
      const choices = [...node.querySelectorAll("input[name=choices]:checked")].map((i) => i.value);
      const otherInput = node.querySelector("input[name=other]");
      vote(item.id, { choices, other: otherInput ? otherInput.value : "" });
    });
    return node;
  }
  // Open text: one answer, which sending again changes; or several, sent one after another.
  const single = item.answer_mode === "replace";
  const left = single ? 1 : item.max_answers - answers.length;
  if (answers.length && !single) node.append(...mineList(item, answers));
  if (left <= 0) {
    node.append(h("p", { class: "notice", text: t("You have sent the most answers this question takes.") }));
    return node;
  }
  const saved = single && answers.length ? answers[0].text || "" : "";
  const draft = drafts[item.id] || { text: saved };
  const area = h("textarea", {
    id: "answer-text", name: "text", rows: 4, maxlength: item.max_length, required: true,
    "aria-describedby": "answer-help",
  });
  area.value = draft.text;
  const help = h("p", { id: "answer-help", class: "hint" });
  const updateHelp = () => {
    let text = t("{count} of {limit} characters.", { count: area.value.length, limit: item.max_length });
    if (item.max_answers > 1) {
      text += ` ${left === 1 ? t("You can send one more answer.") : t("You can send {count} more answers.", { count: left })}`;
    }
    help.textContent = text;
  };
  updateHelp();
  area.addEventListener("input", () => {
    drafts[item.id] = { text: area.value };
    updateHelp();
    // "Saved" would now speak of text she has since changed: say it again on the next ack.
    if (!pending && statusLine.classList.contains("saved")) setStatus("", "");
  });
  node.append(
    h("label", { for: "answer-text", text: t("Write your answer") }), area, help,
    h("button", {
      type: "submit", class: "primary big", disabled: busy,
      text: single && answers.length ? t("Change answer") : t("Send"),
    }),
  );
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    if (pending || !area.value.trim()) return;
    vote(item.id, { text: area.value });
  });
  return node;
}

render(true);
