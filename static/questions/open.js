// An open question's form on the phone: a live count of characters, and how many
// more answers she can send. On the projector: the wall's pages (below).
import { t } from "../live.js";

export function enhance(form) {
  const area = form.querySelector("textarea[name=text]");
  const help = form.querySelector("#answer-help");
  if (!area || !help) return;
  const limit = Number(help.dataset.limit);
  const left = help.dataset.left === "" ? null : Number(help.dataset.left);
  const update = () => {
    let text = t("{count} of {limit} characters.", { count: area.value.length, limit });
    if (left !== null) {
      text += ` ${left === 1 ? t("You can send one more answer.") : t("You can send {count} more answers.", { count: left })}`;
    }
    help.textContent = text;
  };
  area.addEventListener("input", update);
  update();
}

// The projector's wall: as many cards as fit make a page, whole rows only; with more
// than one page they turn by themselves every few seconds, and by key (↓ or . the
// next, ↑ or , the previous). A redraw (a new answer) keeps the page on the screen:
// cards come oldest first, so a new one lands on the last page and moves no other.
const TURN_SECONDS = 10;
const wall = { question: null, host: null, pages: [], page: 0, seen: new Set(), timer: null };

export function project(host) {
  const list = host.querySelector("ul.cards");
  if (!list) return;
  const cards = [...list.children];
  const fresh = wall.question !== host.dataset.question;
  const firstShown = !fresh && wall.pages.length ? refOf(wall.pages[wall.page]?.[0]) : null;
  if (fresh) Object.assign(wall, { question: host.dataset.question, page: 0, seen: new Set() });
  wall.host = host;
  for (const card of cards) {
    if (!fresh && !wall.seen.has(card.dataset.ref)) card.classList.add("arriving");
    wall.seen.add(card.dataset.ref);
  }
  // The page line takes its room before the cards are measured, so none is clipped.
  const label = host.querySelector(".wall-pages");
  if (label) {
    label.hidden = false;
    label.textContent = "…";
  }
  wall.pages = paginate(list, cards);
  const keep = wall.pages.findIndex((page) => page.some((card) => refOf(card) === firstShown));
  wall.page = keep >= 0 ? keep : Math.min(wall.page, wall.pages.length - 1);
  show();
  clearInterval(wall.timer);
  wall.timer = wall.pages.length > 1 ? setInterval(() => turn(1), TURN_SECONDS * 1000) : null;
}

function refOf(card) {
  return card ? card.dataset.ref : null;
}

// Pages of cards: from each page's first card, the cards whose bottom stays inside
// the list; a row that does not fit whole starts the next page. A single card taller
// than the screen still makes a page of its own.
function paginate(list, cards) {
  const pages = [];
  let start = 0;
  while (start < cards.length) {
    cards.forEach((card, i) => card.classList.toggle("off", i < start));
    const limit = list.getBoundingClientRect().bottom + 0.5;
    let end = start;
    while (end < cards.length && cards[end].getBoundingClientRect().bottom <= limit) end += 1;
    if (end < cards.length && end > start) {
      const rowTop = cards[end].getBoundingClientRect().top;
      while (end > start + 1 && Math.abs(cards[end - 1].getBoundingClientRect().top - rowTop) < 1) end -= 1;
    }
    if (end === start) end = start + 1;
    pages.push(cards.slice(start, end));
    start = end;
  }
  return pages;
}

function show() {
  const host = wall.host;
  const shown = new Set(wall.pages[wall.page] || []);
  for (const card of host.querySelectorAll("ul.cards > li")) card.classList.toggle("off", !shown.has(card));
  const label = host.querySelector(".wall-pages");
  if (!label) return;
  label.hidden = wall.pages.length < 2;
  label.textContent = (host.dataset.pageLabel || "{page} / {pages}")
    .replace("{page}", String(wall.page + 1))
    .replace("{pages}", String(wall.pages.length));
}

function turn(step) {
  if (!wall.host || !wall.host.isConnected) {
    clearInterval(wall.timer); // the screen moved on: no wall to turn
    return false;
  }
  if (wall.pages.length < 2) return false;
  wall.page = (wall.page + step + wall.pages.length) % wall.pages.length;
  show();
  return true;
}

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const step = { ArrowDown: 1, ".": 1, ArrowUp: -1, ",": -1 }[event.key];
  if (!step || !turn(step)) return;
  event.preventDefault();
  // Turned by hand: the next turn by itself waits a whole interval again.
  clearInterval(wall.timer);
  wall.timer = setInterval(() => turn(1), TURN_SECONDS * 1000);
});

window.addEventListener("resize", () => {
  if (wall.host && wall.host.isConnected) project(wall.host);
});
