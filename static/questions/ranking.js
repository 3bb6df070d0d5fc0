// A ranking on the phone: the selects (one per place) become one ordered list she
// reorders by dragging (pointer events, so touch works too) or with a "move up" /
// "move down" button per option, each named after its option; the new place is
// announced in a live region. The selects stay in the form, hidden and in step with
// the list, so the page script sends the same fields as the form without JavaScript.
export function enhance(form) {
  const box = form.querySelector("fieldset.ranking");
  if (!box || box.querySelector(".ranking-list")) return;
  const selects = [...box.querySelectorAll("select")];
  const labels = new Map([...selects[0].options].filter((o) => o.value).map((o) => [o.value, o.text]));
  const say = (template, params) => Object.entries(params).reduce((text, [k, v]) => text.split(`{${k}}`).join(String(v)), template);

  // Her order so far: the options chosen per place, then the rest in the script's order.
  const chosen = selects.map((s) => s.value).filter((v) => labels.has(v));
  const order = [...new Set([...chosen, ...labels.keys()])];

  const list = document.createElement("ol");
  list.className = "ranking-list";
  const live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  for (const id of order) list.append(itemFor(id, labels.get(id)));
  box.querySelector(".ranking-places").hidden = true;
  box.querySelector(".ranking-hint").hidden = false;
  box.append(list, live);
  sync(false);

  function itemFor(id, label) {
    const li = document.createElement("li");
    li.className = "ranking-item";
    li.dataset.id = id;
    const place = document.createElement("span");
    place.className = "ranking-number";
    place.setAttribute("aria-hidden", "true");
    const grip = document.createElement("span");
    grip.className = "ranking-grip";
    grip.title = box.dataset.drag;
    const text = document.createElement("span");
    text.className = "ranking-label";
    text.textContent = label;
    grip.append(text);
    const up = button("ranking-up", "↑", say(box.dataset.moveUp, { option: label }), -1);
    const down = button("ranking-down", "↓", say(box.dataset.moveDown, { option: label }), 1);
    li.append(place, grip, up, down);
    grip.addEventListener("pointerdown", (event) => drag(event, li));
    return li;
  }

  function button(className, symbol, name, step) {
    const b = document.createElement("button");
    b.type = "button"; // never submits: the page script skips buttons when it reads the form
    b.className = `ranking-move ${className}`;
    b.textContent = symbol;
    b.setAttribute("aria-label", name);
    b.addEventListener("click", () => {
      const li = b.closest("li");
      const other = step < 0 ? li.previousElementSibling : li.nextElementSibling;
      if (!other) return;
      if (step < 0) other.before(li);
      else other.after(li);
      b.focus(); // the moved option keeps the focus, so she can press again
      sync(true, li);
    });
    return b;
  }

  // Drag: the item follows the pointer, taking the place of the one it passes.
  // Moving the item in the page ends a pointer capture, so the window listens.
  function drag(event, li) {
    if (event.button !== 0) return;
    event.preventDefault();
    const pointer = event.pointerId;
    li.classList.add("dragging");
    const move = (e) => {
      if (e.pointerId !== pointer) return;
      // Before the first other item whose middle is below the pointer; last otherwise.
      const next = [...list.children].find((other) => {
        if (other === li) return false;
        const r = other.getBoundingClientRect();
        return e.clientY < r.top + r.height / 2;
      });
      if (next && next !== li.nextElementSibling) next.before(li);
      else if (!next && list.lastElementChild !== li) list.append(li);
    };
    const end = (e) => {
      if (e.pointerId !== pointer) return;
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", end);
      window.removeEventListener("pointercancel", end);
      li.classList.remove("dragging");
      sync(true, li);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", end);
    window.addEventListener("pointercancel", end);
  }

  // The list's order into the selects (place 1 = first item), numbers and buttons
  // updated; after a move, say where the option is now and tell the page script.
  function sync(moved, li) {
    const items = [...list.children];
    items.forEach((item, index) => {
      const ranked = index < selects.length;
      item.classList.toggle("unranked", !ranked);
      item.querySelector(".ranking-number").textContent = ranked ? `${index + 1}.` : "–";
      item.querySelector(".ranking-up").disabled = index === 0;
      item.querySelector(".ranking-down").disabled = index === items.length - 1;
    });
    selects.forEach((select, index) => { select.value = items[index].dataset.id; });
    // With a top, a divider above the first option left out (CSS shows its text).
    for (const item of items) delete item.dataset.notRanked;
    if (selects.length < items.length) items[selects.length].dataset.notRanked = box.dataset.notRanked;
    if (!moved) return;
    // A disabled button loses the focus: give it to its partner.
    const focused = li.querySelector("button:focus");
    if (!focused && document.activeElement === document.body) li.querySelector("button:not([disabled])")?.focus();
    else if (focused && focused.disabled) li.querySelector("button:not([disabled])")?.focus();
    const index = items.indexOf(li);
    const label = labels.get(li.dataset.id);
    live.textContent = index < selects.length
      ? say(box.dataset.moved, { option: label, place: index + 1, count: selects.length })
      : say(box.dataset.unranked, { option: label });
    selects[0].dispatchEvent(new Event("input", { bubbles: true }));
  }
}
