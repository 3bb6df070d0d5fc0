// Shared by every page: the live websocket with reconnect, and small DOM helpers.
// Protocol: docs/protocol.md.
import { CLOSE_TOO_MANY_ATTEMPTS, FINAL_CLOSE_CODES, PING, PONG } from "./protocol.js";

export function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

const STRINGS = readJSON("poll-strings") || {};

// A translated text with {name} placeholders filled in.
export function t(message, params = {}) {
  let text = STRINGS[message] ?? message;
  for (const [key, value] of Object.entries(params)) text = text.split(`{${key}}`).join(String(value));
  return text;
}

// Random ids work on plain-HTTP LAN addresses too, where crypto.randomUUID is unavailable.
export function randomId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const SOON_MS = 5000;

export class Live {
  constructor(path, { onMessage, onStatus }) {
    this.path = path;
    this.onMessage = onMessage;
    this.onStatus = onStatus || (() => {});
    this.attempt = 0;
    this.everConnected = false;
    this.socket = null;
    this.lastSeen = Date.now();
    this.stopped = false;
    this.soon = []; // [sent at, message]: see sendSoon
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
    // The server pings every 20 s; silence for much longer means a dead connection.
    setInterval(() => {
      if (this.socket && this.socket.readyState === WebSocket.OPEN && Date.now() - this.lastSeen > 50000) {
        this.socket.close();
      }
    }, 5000);
    this.connect();
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.path}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.lastSeen = Date.now();
      const again = this.everConnected;
      this.everConnected = true;
      this.onStatus("online", again);
      const fresh = this.soon.filter(([at]) => Date.now() - at < SOON_MS);
      this.soon = [];
      for (const [, message] of fresh) this.send(message);
    });
    socket.addEventListener("message", (event) => {
      this.lastSeen = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === PING) {
        this.send({ type: PONG, t: message.t });
        return;
      }
      this.onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.stopped = true;
        this.onStatus("gone", event.code);
        return;
      }
      this.onStatus("reconnecting", event.code);
      // Backoff with jitter, so that a restarted server is not hit by every phone at once;
      // after too many wrong codes (4429) the server refuses everything for a minute.
      const base = event.code === CLOSE_TOO_MANY_ATTEMPTS ? 30000 : Math.min(10000, 500 * 2 ** this.attempt);
      const delay = base * (0.6 + Math.random() * 0.8);
      this.attempt += 1;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  reconnectNow() {
    if (this.stopped || this.open) return;
    if (this.socket && this.socket.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  send(message) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  // Send now, or as soon as the socket opens if that is within a few seconds: a key
  // the facilitator pressed while the page was still connecting is not lost, and one
  // pressed long before a reconnect does not act out of the blue.
  sendSoon(message) {
    if (this.send(message)) return;
    this.soon.push([Date.now(), message]);
  }
}

// The quiet "reconnecting…" notice shared by all pages.
export function connectionNotice(element) {
  let shownAt = 0;
  let hideTimer = null;
  return (status) => {
    if (!element) return;
    clearTimeout(hideTimer);
    if (status === "reconnecting") {
      // Don't flash the notice for a blip shorter than a second.
      if (element.hidden) {
        hideTimer = setTimeout(() => {
          element.textContent = t("Reconnecting…");
          element.hidden = false;
          shownAt = Date.now();
        }, 1000);
      }
    } else if (status === "online") {
      if (!element.hidden && shownAt) {
        element.textContent = t("Connected again.");
        hideTimer = setTimeout(() => { element.hidden = true; }, 1500);
      } else {
        element.hidden = true;
      }
    }
  };
}
