// The facilitator's keys, shared by the console and the projector window.
// → / PageDown next, ← / PageUp previous, V voting open/close, R results, J join screen.
// Each is an action on the room, so every console and projector follows it.

export function bindKeys(getSnapshot, act) {
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const snap = getSnapshot();
    if (!snap || snap.room.ended) return;
    const question = snap.item.question;
    switch (event.key) {
      case "ArrowRight":
      case "PageDown":
        act("next");
        break;
      case "ArrowLeft":
      case "PageUp":
        act("previous");
        break;
      case "v":
      case "V":
        if (!question) return;
        act(snap.status === "open" ? "close" : "open", { question_id: snap.item.id });
        break;
      case "r":
      case "R":
        if (!question) return;
        // Show: on the projector and the phones; hide: off both, whatever the
        // question's default (a question with live results too).
        act(snap.results_shown ? "hide" : "show", { question_id: snap.item.id });
        break;
      case "j":
      case "J":
        act("join", { shown: snap.join_screen ? "false" : "true" });
        break;
      default:
        return;
    }
    event.preventDefault();
  });
}
