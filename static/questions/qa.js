// A Q&A board on the phone. The ask form gets a live count of characters. The board
// below it (#results) is the same for every phone, so this phone's part is set here,
// from what the server drew into her stage for her own answers (data-upvoted,
// data-own): her upvotes pressed, her own questions without an upvote button. The
// page script sends each upvote form as a vote, like the ask form, and calls this
// again whenever it redraws the stage or the board.
import { t } from "../live.js";

export function enhance(form) {
  const ask = form.querySelector(".qa-ask");
  if (!ask) return;
  count(form);
  const upvoted = new Set((ask.dataset.upvoted || "").split(" ").filter(Boolean));
  const own = new Set((ask.dataset.own || "").split(" ").filter(Boolean));
  const board = document.getElementById("results");
  if (!board) return;
  for (const item of board.querySelectorAll(".qa-item[data-ref]")) {
    const ref = item.dataset.ref;
    const mine = own.has(ref);
    const label = item.querySelector(".qa-own");
    if (label) label.hidden = !mine;
    for (const other of item.querySelectorAll("form.qa-up, .qa-tally")) other.hidden = mine;
    const button = item.querySelector("button.qa-vote");
    if (button) button.setAttribute("aria-pressed", upvoted.has(ref) ? "true" : "false");
  }
}

// "12 of 280 characters. You can ask 2 more questions."
function count(form) {
  const area = form.querySelector("textarea[name=text]");
  const help = form.querySelector("#qa-help");
  if (!area || !help || help.dataset.counting) return;
  help.dataset.counting = "1";
  const limit = Number(help.dataset.limit);
  const left = Number(help.dataset.left);
  const more = left === 1 ? help.dataset.oneMore : (help.dataset.more || "").split("{count}").join(String(left));
  const update = () => {
    help.textContent = `${t("{count} of {limit} characters.", { count: area.value.length, limit })} ${more}`;
  };
  area.addEventListener("input", update);
  update();
}
