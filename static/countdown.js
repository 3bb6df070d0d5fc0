// The countdown of a question with a timer, on the phone and on the projector.
// Each snapshot says how many seconds were left when the server sent it
// (`deadline_in`): counting from its arrival needs no trust in this device's clock.
// The server closes the vote itself and sends a snapshot with status "closed".
import { t } from "./live.js";

const SPOKEN_AT = new Set([60, 30, 10, 5]); // a screen reader hears these, not every tick

export function countdown(element) {
  if (!element) return () => {};
  const clock = element.querySelector(".countdown-clock");
  const spoken = element.querySelector(".countdown-spoken");
  let endsAt = null; // performance.now() at the deadline
  let timer = null;
  let lastSpoken = null;

  function tick() {
    const left = Math.max(0, Math.ceil((endsAt - performance.now()) / 1000));
    clock.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    element.classList.toggle("ending", left <= 10);
    if (SPOKEN_AT.has(left) && left !== lastSpoken) {
      lastSpoken = left;
      spoken.textContent = t("{seconds} seconds", { seconds: left });
    }
    if (left === 0) {
      clearInterval(timer);
      timer = null;
      spoken.textContent = t("Time is up.");
    }
  }

  // Follow a snapshot: start, restart or stop.
  return function follow(snap) {
    const left = snap.status === "open" ? snap.deadline_in : null;
    if (left === null || left === undefined) {
      clearInterval(timer);
      timer = null;
      endsAt = null;
      element.hidden = true;
      return;
    }
    const next = performance.now() + left * 1000;
    // The same deadline again (a snapshot of a count) must not make the clock jitter.
    if (endsAt !== null && Math.abs(next - endsAt) < 1500 && timer !== null) return;
    endsAt = next;
    lastSpoken = null;
    spoken.setAttribute("aria-live", "polite");
    element.hidden = false;
    clearInterval(timer);
    timer = setInterval(tick, 250);
    tick();
  };
}
