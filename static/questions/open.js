// An open question's form on the phone: a live count of characters, and how many
// more answers she can send.
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
