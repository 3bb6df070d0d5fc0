// A choice question's form on the phone: typing an "other" text ticks its box,
// since that is what people mean (and, for one answer, unticks the others).
export function enhance(form) {
  const other = form.querySelector("input[name=other]");
  if (!other) return;
  other.addEventListener("input", () => {
    if (!other.value.trim()) return;
    const boxes = [...form.querySelectorAll("input[name=choices]")];
    const box = form.querySelector("input[name=choices][data-other]");
    if (!box || box.checked) return;
    box.checked = true;
    if (box.type === "radio") for (const b of boxes) if (b !== box) b.checked = false;
  });
}
