// A word cloud.
// On the phone (`enhance`): the inputs per word appear one after another as she fills
// them, Enter moves on to the next word, and a counter says how many she has written.
// The inputs stay the form's own (all named "words"), so the page script sends what the
// form without JavaScript would post.
// On the projector (`project`): the server's list of words, most frequent first, laid
// out as a cloud. A word keeps its place (its centre) for as long as it is shown: when
// it or another word gets votes only the sizes change, and a new word goes into free
// space. Everything is scaled down together when words would otherwise overlap.

export function enhance(form) {
  const box = form.querySelector(".wordcloud-form");
  if (!box || box.dataset.enhanced) return;
  box.dataset.enhanced = "1";
  const rows = [...box.querySelectorAll(".wordcloud-inputs li")];
  const inputs = rows.map((row) => row.querySelector("input"));
  const counter = box.querySelector(".wordcloud-counter");
  const filled = (input) => input.value.trim() !== "";

  // Every input up to one past the last filled one: an empty one in between stays,
  // so nothing she wrote (or the input she is in) is ever hidden.
  function update() {
    let last = -1;
    inputs.forEach((input, index) => { if (filled(input)) last = index; });
    rows.forEach((row, index) => { row.hidden = index > last + 1; });
    const count = inputs.filter(filled).length;
    const text = count ? box.dataset.counter.replace("{count}", count).replace("{limit}", inputs.length) : "";
    if (counter.textContent !== text) counter.textContent = text;
  }

  inputs.forEach((input, index) => {
    input.addEventListener("input", update);
    input.addEventListener("keydown", (event) => {
      // Enter after a word goes to the next one; on the last (or an empty) one it sends.
      if (event.key !== "Enter" || event.isComposing || !filled(input) || index + 1 >= inputs.length) return;
      event.preventDefault();
      rows[index + 1].hidden = false;
      inputs[index + 1].focus();
    });
  });
  update();
}

// The projector ------------------------------------------------------------------------

// Font sizes as shares of the stage's height: the most frequent word, the least.
const LARGEST = 0.2;
const SMALLEST = 0.05;
const SMALLEST_PX = 22;
// The top count at which the top word reaches the largest size.
const FULL = 12;
// Below this common scale, words are too small to read from the back of the room:
// rather than shrink further, a word that no longer fits is placed again.
const SMALLEST_SCALE = 0.6;
// A new word is placed as if it and the words around it were this much larger,
// leaving them room to grow before they would touch (and shrink the whole cloud).
const ROOM = 1.35;
// Space around a word (as the CSS pads it): a share of its font size on each side,
// and the line height.
const PAD = 0.12;
const LINE = 1.2;

const clouds = new Map(); // question id → {stage, places: key → {x, y} as shares, spans}
const measurer = document.createElement("canvas").getContext("2d");

export function project(host) {
  const id = host.dataset.question || "";
  let cloud = clouds.get(id);
  if (!cloud) {
    const stage = document.createElement("div");
    stage.className = "wordcloud-stage";
    stage.setAttribute("aria-hidden", "true"); // the list (visually hidden) is read instead
    cloud = { stage, places: new Map(), spans: new Map() };
    clouds.set(id, cloud);
  }
  cloud.host = host;
  host.classList.add("laid-out");
  // The stage moves into the new fragment with its words as they were, so that they
  // grow from their old sizes (a style read makes those the transitions' start).
  host.append(cloud.stage);
  void cloud.stage.offsetWidth;
  layout(cloud);
}

window.addEventListener("resize", () => {
  for (const cloud of clouds.values()) if (cloud.host && cloud.host.isConnected) layout(cloud);
});

function layout(cloud) {
  const { stage, places, spans } = cloud;
  const words = [...cloud.host.querySelectorAll(".wordcloud-cloud li[data-key]")].map((li) => ({
    key: li.dataset.key,
    text: li.querySelector(".wordcloud-word").textContent,
    count: Number(li.dataset.count) || 1,
    tone: [...li.classList].find((name) => name.startsWith("wordcloud-tone-")) || "",
  }));
  const { width, height } = size(stage);
  measure(words, getComputedStyle(stage).fontFamily, height);

  // Places of words no longer listed are forgotten: their space is free again.
  const listed = new Set(words.map((word) => word.key));
  for (const key of [...places.keys()]) if (!listed.has(key)) places.delete(key);

  const at = (word) => {
    const place = places.get(word.key);
    return { x: place.x * width, y: place.y * height };
  };
  let placed = words.filter((word) => places.has(word.key));
  let { scale, culprit } = largestScale(placed, at, width, height);
  // Words grown into each other (or past an edge) below a readable scale: the smaller
  // of the two is placed again, as if new.
  while (scale < SMALLEST_SCALE && culprit) {
    places.delete(culprit.key);
    placed = placed.filter((word) => word !== culprit);
    ({ scale, culprit } = largestScale(placed, at, width, height));
  }
  for (const word of words) {
    if (places.has(word.key)) continue;
    // With room to grow if there is space for that; else just where it fits; else
    // everything a little smaller, and look again.
    let found = freeSpot(word, placed, at, scale, width, height, ROOM)
      || freeSpot(word, placed, at, scale, width, height, 1);
    while (!found && scale * 0.92 >= SMALLEST_SCALE) {
      scale *= 0.92;
      found = freeSpot(word, placed, at, scale, width, height, 1);
    }
    // Still no room: the least frequent words shown give theirs to a more frequent one
    // (they come later in this loop, and find a place again if there is one).
    while (!found) {
      const least = placed.reduce((low, other) => (!low || other.count < low.count ? other : low), null);
      if (!least || least.count >= word.count) break;
      places.delete(least.key);
      placed.splice(placed.indexOf(least), 1);
      found = freeSpot(word, placed, at, scale, width, height, 1);
    }
    if (!found) continue; // no room even at the smallest size: left out of the picture
    places.set(word.key, { x: found.x / width, y: found.y / height });
    placed.push(word);
  }

  const keys = new Set(placed.map((word) => word.key));
  for (const [key, span] of spans) {
    if (!keys.has(key)) {
      span.remove();
      spans.delete(key);
    }
  }
  for (const word of placed) {
    let span = spans.get(word.key);
    const arriving = !span;
    if (arriving) {
      span = document.createElement("span");
      span.dataset.key = word.key;
      spans.set(word.key, span);
      stage.append(span);
    }
    span.className = arriving ? `${word.tone} arriving` : word.tone;
    if (span.textContent !== word.text) span.textContent = word.text;
    const place = places.get(word.key);
    span.style.left = `${(place.x * 100).toFixed(3)}%`;
    span.style.top = `${(place.y * 100).toFixed(3)}%`;
    span.style.fontSize = `${(word.font * scale).toFixed(1)}px`;
    if (arriving) {
      void span.offsetWidth; // start from transparent, then fade in
      span.classList.remove("arriving");
    }
  }
}

// The stage fills the screen below the prompt, down to the bottom of the main area.
function size(stage) {
  const main = stage.closest("main") || document.body;
  const bottom = main.getBoundingClientRect().bottom - parseFloat(getComputedStyle(main).paddingBottom || "0");
  const height = Math.max(200, Math.floor(bottom - stage.getBoundingClientRect().top));
  stage.style.height = `${height}px`;
  return { width: stage.clientWidth, height };
}

// Each word's font size (by the square root of its share of the top count) and the
// box it takes at that size, measured in the stage's own font. The top word reaches
// the largest size only with a dozen votes, so a young cloud visibly grows.
function measure(words, family, height) {
  const most = Math.max(1, ...words.map((word) => word.count));
  const small = Math.max(SMALLEST_PX, height * SMALLEST);
  const large = small + (Math.max(small, height * LARGEST) - small) * Math.min(1, Math.sqrt(most / FULL));
  measurer.font = `700 100px ${family}`;
  for (const word of words) {
    word.font = small + (large - small) * Math.sqrt(word.count / most);
    word.w = (measurer.measureText(word.text).width / 100 + 2 * PAD) * word.font;
    word.h = LINE * word.font;
  }
}

// The largest common scale (at most 1) at which no two placed words overlap and each
// is inside the stage, and the word that limits it (the smaller of a pair).
function largestScale(words, at, width, height) {
  let scale = 1;
  let culprit = null;
  const points = words.map(at);
  words.forEach((a, i) => {
    const p = points[i];
    const edge = Math.min((2 * Math.min(p.x, width - p.x)) / a.w, (2 * Math.min(p.y, height - p.y)) / a.h);
    if (edge < scale) { scale = edge; culprit = a; }
    for (let j = i + 1; j < words.length; j += 1) {
      const b = words[j];
      const q = points[j];
      const apart = Math.max(Math.abs(p.x - q.x) / ((a.w + b.w) / 2), Math.abs(p.y - q.y) / ((a.h + b.h) / 2));
      if (apart < scale) { scale = apart; culprit = a.count < b.count ? a : b; }
    }
  });
  return { scale: Math.max(0, scale), culprit };
}

// The first free spot on a spiral out from the middle (stretched to the stage's shape,
// starting at an angle of the word's own), or null when there is none.
function freeSpot(word, placed, at, scale, width, height, room) {
  const w = word.w * scale;
  const h = word.h * scale;
  if (w > width || h > height) return null;
  const boxes = placed.map((other) => {
    const p = at(other);
    const ow = (other.w * scale * room + w * (room - 1)) / 2;
    const oh = (other.h * scale * room + h * (room - 1)) / 2;
    return [p.x - ow, p.y - oh, p.x + ow, p.y + oh];
  });
  const stretch = width / height;
  const turn = Math.max(8, h / 3); // how far the spiral moves out per turn
  const start = (hash(word.key) % 360) * (Math.PI / 180);
  const reach = height * 0.75; // the corners of the stage, stretched
  let last = 0; // the box that stopped the last try is the likeliest to stop the next
  for (let angle = 0, r = 0; r <= reach; ) {
    const x = width / 2 + r * Math.cos(start + angle) * stretch;
    const y = height / 2 + r * Math.sin(start + angle);
    const box = [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
    if (box[0] >= 0 && box[1] >= 0 && box[2] <= width && box[3] <= height) {
      let clash = boxes.length && overlaps(box, boxes[last]) ? last : -1;
      if (clash < 0) clash = boxes.findIndex((other) => overlaps(box, other));
      if (clash < 0) return { x, y };
      last = clash;
    }
    angle += Math.min(0.5, 10 / Math.max(1, r * stretch)); // about 10 px along the spiral
    r = (turn * angle) / (2 * Math.PI);
  }
  return null;
}

function overlaps(a, b) {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

function hash(text) {
  let value = 0;
  for (const char of text) value = (value * 31 + char.codePointAt(0)) >>> 0;
  return value;
}
