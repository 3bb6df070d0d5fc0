// The participant's phone: follows the room live, sends votes, shows "saved" only on the server's ack.
// What it shows is rendered by the server from the same templates as the page without
// JavaScript (snapshot.html, results_html, and the stage drawn for her own answers in
// "mine" and "ack"); this script only swaps those in, keeps what she is typing, and sends.
import { Live, connectionNotice, randomId, readJSON, t } from "./live.js";
import {
  ACK, CLOSE_TOO_MANY_ATTEMPTS, CLOSE_UNKNOWN_ROOM, ERROR, MINE, REFUSED, SNAPSHOT, SYNC, UNKNOWN_ROOM, VOTE,
} from "./protocol.js";
import { countdown } from "./countdown.js";

const main = document.getElementById("main");
const stage = document.getElementById("stage");
const resultsBox = document.getElementById("results");
const statusLine = document.getElementById("vote-status");
const code = main.dataset.code;
const TOO_MANY = "Too many wrong codes. Wait a minute, then try again.";

let snap = readJSON("poll-snapshot");
const mine = {}; // question id → the participant's stored answers (from the server only)
const drawn = {}; // question id → {stage, html}: her stage as the server drew it for her answers
if (snap.item && snap.mine) {
  mine[snap.item.id] = snap.mine;
  drawn[snap.item.id] = { stage: snap.stage, html: stage.innerHTML };
}
// Question id → what she has ticked or typed but not yet sent. Kept in the tab's
// sessionStorage too (per run and question), so that a draft survives the facilitator
// moving on and back, and a reload (a phone that wakes up reloads its tab).
const drafts = {};
const draftKey = (questionId) => `poll-draft:${snap.room.id}:${questionId}`;
function draftFor(questionId) {
  if (!(questionId in drafts)) {
    try {
      const kept = sessionStorage.getItem(draftKey(questionId));
      if (kept) drafts[questionId] = JSON.parse(kept);
    } catch {
      // No storage (a private window may refuse it): the draft lives in this page only.
    }
  }
  return drafts[questionId];
}
function keepDraft(questionId, draft) {
  drafts[questionId] = draft;
  try { sessionStorage.setItem(draftKey(questionId), JSON.stringify(draft)); } catch { /* see above */ }
}
function dropDraft(questionId) {
  delete drafts[questionId];
  try { sessionStorage.removeItem(draftKey(questionId)); } catch { /* see above */ }
}
// Question id → her form as the server drew it for her stored answers: the form
// "saved" speaks of. A form that differs from it is not saved, whatever was sent before.
const asSaved = {};
let pending = null; // {submission_id, question_id, answer} until acked or refused
let pendingFromStage = false; // whether the pending vote is the stage's form (her draft)
let boardFocus = null; // [name, value] of a board button that lost the focus to a redraw
let retryTimer = null;
let lastHeard = Date.now(); // the last message over the websocket
let shown = [stage.innerHTML, resultsBox.innerHTML, false];
let syncAsked = "";
const followCountdown = countdown(document.getElementById("countdown"));
followCountdown(snap);

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
    // Her stage: drawn for her answers, or on a personal screen (a leaderboard) for her standing.
    if (message.item) {
      receive({
        type: MINE, question_id: message.item.id, answers: message.mine || [],
        stage: message.stage, html: message.mine_html,
      });
    }
    receive(message);
  } catch {
    // Offline: the next tick tries again.
  }
}, 5000);

function setStatus(kind, text) {
  statusLine.className = `vote-status ${kind}`;
  statusLine.textContent = text;
}

// Her answers, and her stage as the server drew it for them. Without answers the
// server sends no stage: the snapshot's own (drawn for no answer) is hers.
function remember(questionId, answers, message) {
  mine[questionId] = answers;
  if (message.html !== undefined) drawn[questionId] = { stage: message.stage, html: message.html };
  else delete drawn[questionId];
}

function receive(message) {
  switch (message.type) {
    case SNAPSHOT: {
      const before = snap.item ? snap.item.id : null;
      snap = message;
      if (message.item.id !== before && !pending) setStatus("", "");
      followCountdown(snap);
      render();
      break;
    }
    case MINE:
      remember(message.question_id, message.answers, message);
      render();
      break;
    case ACK:
      if (pending && message.submission_id === pending.submission_id) {
        pending = null;
        clearTimeout(retryTimer);
        remember(message.question_id, message.mine, message);
        // A vote from the board (an upvote) leaves what she is typing in the stage.
        if (pendingFromStage) dropDraft(message.question_id);
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
  for (const [name, value] of Object.entries(vote.answer)) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  }
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

function vote(questionId, answer, fromStage) {
  pending = { submission_id: randomId(), question_id: questionId, answer };
  pendingFromStage = fromStage;
  setStatus("pending", t("Sending…"));
  send();
  render(true);
}

// The answer in a form, in the shape the vote message carries: its fields by name,
// those the type lists in data-lists as arrays. The type's template names its fields
// as its answer's keys, so this needs to know no type.
function answerOf(form, submitter) {
  const lists = (form.dataset.lists || "").split(" ").filter(Boolean);
  const answer = {};
  for (const name of lists) answer[name] = [];
  const add = (name, value) => {
    if (lists.includes(name)) answer[name].push(value);
    else answer[name] = value;
  };
  for (const field of form.elements) {
    if (!field.name || field.disabled || ["hidden", "submit", "button"].includes(field.type)) continue;
    if (field.tagName === "BUTTON") continue;
    if ((field.type === "checkbox" || field.type === "radio") && !field.checked) continue;
    add(field.name, field.value);
  }
  if (submitter && submitter.name) add(submitter.name, submitter.value);
  return answer;
}

// Ticks and texts she has not sent yet, kept across redraws of the same question.
function draftOf(form) {
  const draft = {};
  for (const field of form.elements) {
    if (!field.name || ["hidden", "submit", "button"].includes(field.type) || field.tagName === "BUTTON") continue;
    draft[field.name] = draft[field.name] || [];
    if (field.type === "checkbox" || field.type === "radio") {
      if (field.checked) draft[field.name].push(field.value);
    } else {
      draft[field.name].push(field.value);
    }
  }
  return draft;
}

function applyDraft(form, draft) {
  const next = {}; // several text fields of one name (a list field) take its values in turn
  for (const field of form.elements) {
    if (!field.name || !(field.name in draft)) continue;
    if (field.type === "checkbox" || field.type === "radio") field.checked = draft[field.name].includes(field.value);
    else if (!["hidden", "submit", "button"].includes(field.type) && field.tagName !== "BUTTON") {
      const index = next[field.name] || 0;
      next[field.name] = index + 1;
      field.value = draft[field.name][index] ?? "";
    }
  }
}

// The stage to show: hers as drawn for her answers on this screen; the room's
// (drawn for no answers) when she has none; otherwise the one shown until hers
// arrives (the server sends it after every change of screen).
function stageHtml() {
  const id = snap.item.id;
  const hers = drawn[id];
  if (hers && hers.stage === snap.stage) return hers.html;
  if (!snap.item.question || !(mine[id] || []).length) return snap.html;
  if (syncAsked !== snap.stage && live.send({ type: SYNC })) syncAsked = snap.stage;
  return shown[0];
}

function render(force = false) {
  if (snap.html === undefined) return; // the page's own first render is still current
  const html = stageHtml();
  const results = snap.results_html || "";
  const next = [html, results, pending !== null];
  if (!force && next.every((part, i) => part === shown[i])) return;
  shown = next;
  // The field she is in gets the focus back: by its id (one of several inputs of a
  // list field), else by its name.
  const active = document.activeElement;
  const focused = active && stage.contains(active) ? active : null;
  const focusedId = focused && focused.id;
  const focusedName = focused && focused.name;
  // A board's button (an upvote) keeps the focus across redraws; while its vote is
  // sent it is disabled, and gets the focus back once it is enabled again.
  if (active && resultsBox.contains(active) && active.name) boardFocus = [active.name, active.value];
  else if (active && active !== document.body) boardFocus = null;
  stage.innerHTML = html; // rendered by the server from its autoescaped templates
  resultsBox.innerHTML = results;
  document.title = `${snap.room.title} · poll`;
  if (pending) for (const button of resultsBox.querySelectorAll("form.vote button")) button.disabled = true;
  const form = stage.querySelector("form.vote");
  if (form) prepare(form);
  const byId = focusedId ? document.getElementById(focusedId) : null;
  const again = byId && stage.contains(byId) ? byId : focusedName ? stage.querySelector(`[name="${focusedName}"]`) : null;
  if (again && again.type !== "submit") again.focus();
  if (boardFocus) {
    const [name, value] = boardFocus;
    const button = [...resultsBox.querySelectorAll("button[name]")].find((b) => b.name === name && b.value === value);
    if (!button) boardFocus = null;
    else if (!button.disabled) {
      button.focus();
      boardFocus = null;
    }
  }
}

function prepare(form) {
  const id = form.dataset.question;
  // Drawn for her stored answers (or for none): what "saved" compares the form with.
  asSaved[id] = JSON.stringify(draftOf(form));
  const draft = draftFor(id);
  if (draft) applyDraft(form, draft);
  // A redraw of a form where each send adds an entry leaves "saved" (of an upvote, of
  // the last entry) alone: only her typing there says something new. Where sending
  // changes her answer, a draft brought back says at once whether it is sent.
  if (snap.item.answer_mode === "replace") reflectSaved(form, Boolean(draft));
  if (pending) for (const button of form.querySelectorAll("button")) button.disabled = true;
  if (form.dataset.script) {
    import(form.dataset.script).then((type) => type.enhance(form)).catch(() => {});
  }
}

stage.addEventListener("input", (event) => {
  const form = event.target.closest("form.vote");
  if (!form) return;
  keepDraft(form.dataset.question, draftOf(form));
  reflectSaved(form);
});

// "Saved" only while the form shows what the server has. Where sending again changes
// her answer, a form that differs says it is not sent; where each send adds an entry,
// "saved" spoke of the last one, and a new text is simply not sent yet.
function reflectSaved(form, restored = false) {
  if (pending || statusLine.classList.contains("error")) return;
  const said = statusLine.classList.contains("saved") || statusLine.classList.contains("unsent");
  if (!said && !restored) return;
  const id = form.dataset.question;
  const same = JSON.stringify(draftOf(form)) === asSaved[id];
  if (same && (mine[id] || []).length) setStatus("saved", t("Your answer is saved."));
  else if (!same && snap.item.answer_mode === "replace" && (mine[id] || []).length) {
    setStatus("unsent", t("Not sent yet: send to save your change."));
  } else setStatus("", "");
}

// The stage's form, and the small vote forms a type's board may hold (an upvote per
// question on a Q&A board): each is sent as a vote with the fields it has.
function submitted(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("vote")) return;
  event.preventDefault();
  if (pending) return;
  vote(form.dataset.question, answerOf(form, event.submitter), stage.contains(form));
}
stage.addEventListener("submit", submitted);
resultsBox.addEventListener("submit", submitted);

{
  const form = stage.querySelector("form.vote");
  if (form) prepare(form);
}
