// Times in the browser's own time zone and language. The server renders each as
// <time datetime="ISO"> holding a UTC fallback for pages read without JavaScript;
// data-format says what to show: "time" (14:05) or "datetime" (1 Dec 2026, 14:05).
// The page's language (nl, en) in the browser's own variant of it when it has one
// (en-GB writes 14:05 where en-US writes 2:05 PM).
const pageLang = document.documentElement.lang || "en";
const lang = (navigator.languages || []).find((tag) => tag.split("-")[0] === pageLang) || pageLang;
const FORMATS = {
  time: new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }),
  datetime: new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }),
};

export function formatTime(element) {
  const format = FORMATS[element.dataset.format];
  const when = new Date(element.getAttribute("datetime"));
  if (!format || Number.isNaN(when.getTime())) return;
  element.textContent = format.format(when);
  element.title = when.toISOString();
}

export function localTimes(root = document) {
  for (const element of root.querySelectorAll("time[data-format]")) formatTime(element);
}

// "1:02:03" since a moment (and until another, once the run has ended).
export function duration(since, until = Date.now()) {
  const seconds = Math.max(0, Math.floor((until - since) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor(seconds / 60) % 60;
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

localTimes();
