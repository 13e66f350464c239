// Live consultation chat. Messages carry a client id: a message not yet acknowledged by
// the server stays in localStorage and is sent again after a reconnect or a reload; the
// server keeps one copy per client id, so nothing is lost and nothing shows twice.
import { connect } from "./socket.js";

const root = document.getElementById("chat");
const cid = Number(root.dataset.consultation);
const me = Number(root.dataset.me);
const t = root.dataset;
const list = document.getElementById("messages");
const statusEl = document.getElementById("status");
const typingEl = document.getElementById("typing");
const form = document.getElementById("compose");
const errorEl = document.getElementById("compose-error");
const pendingKey = `odr-consult-${cid}-pending`;
const shown = new Map(); // client id (mine) or "s<id>" → <li>
let lastId = 0;

const pending = () => JSON.parse(localStorage.getItem(pendingKey) || "[]");
const savePending = (items) => localStorage.setItem(pendingKey, JSON.stringify(items));
const newId = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);
const fill = (tpl, values) => tpl.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

const socket = connect("/consult");

function showError(text) {
  errorEl.textContent = text;
  errorEl.hidden = !text;
}

function render(msg, state) {
  const key = msg.sender_id === me ? msg.client_id : `s${msg.id}`;
  let li = shown.get(key) || (msg.id && list.querySelector(`li[data-id="${msg.id}"]`));
  if (!li) {
    li = document.createElement("li");
    li.className = msg.sender_id === me || state === "pending" ? "mine" : "theirs";
    li.dataset.client = msg.client_id;
    const body = document.createElement("span");
    body.className = "body";
    body.textContent = msg.body || "";
    li.append(body);
    if (msg.attachment) {
      const a = document.createElement("a");
      a.href = msg.attachment.url;
      a.target = "_blank";
      if (msg.attachment.mimetype.startsWith("image/")) {
        const img = document.createElement("img");
        img.src = msg.attachment.url;
        img.alt = msg.attachment.filename;
        img.loading = "lazy";
        a.append(img);
      } else {
        a.textContent = `📄 ${msg.attachment.filename}`;
      }
      li.append(a);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    li.append(meta);
    list.append(li);
    shown.set(key, li);
    li.scrollIntoView({ block: "end" });
  }
  if (msg.id) {
    li.dataset.id = msg.id;
    lastId = Math.max(lastId, msg.id);
  }
  const meta = li.querySelector(".meta");
  if (li.classList.contains("mine")) {
    meta.textContent = state === "pending" ? t.tPending : msg.read ? t.tRead : msg.delivered ? t.tDelivered : t.tSent;
  }
  return li;
}

function markSeen() {
  if (!lastId) return;
  const what = document.visibilityState === "visible" ? "read" : "delivered";
  socket.emit("mark", { consultation_id: cid, up_to_id: lastId, what });
}

const attempts = new Map(); // client id → sends so far that were not answered, or answered "busy"

// Send again later: a busy server's answer says when at the earliest; each further try waits
// twice as long (at most 30 s), spread at random so that many waiting phones do not come back
// at the same moment. The message shows "sending…" meanwhile; a reconnect sends it too.
function sendLater(item, afterSeconds = 0) {
  const n = (attempts.get(item.client_id) || 0) + 1;
  attempts.set(item.client_id, n);
  const wait = Math.max(afterSeconds * 1000, Math.min(30000, 500 * 2 ** n)) * (0.5 + Math.random());
  setTimeout(() => {
    if (socket.connected && pending().some((p) => p.client_id === item.client_id)) send(item);
  }, wait);
}

function send(item) {
  render({ client_id: item.client_id, body: item.body, sender_id: me, attachment: item.attachment }, "pending");
  socket.timeout(8000).emit("send", { consultation_id: cid, client_id: item.client_id, body: item.body,
                                      attachment_id: item.attachment ? item.attachment.id : null }, (err, ack) => {
    if (err) return sendLater(item); // no answer in time: still pending, tried again
    if (!ack.ok && ack.retry) return sendLater(item, ack.retry_after); // the server is busy: not saved yet
    attempts.delete(item.client_id);
    savePending(pending().filter((p) => p.client_id !== item.client_id));
    if (ack.ok) {
      render(ack.message);
      showError("");
    } else {
      const li = shown.get(item.client_id);
      if (li) li.remove();
      shown.delete(item.client_id);
      showError(ack.error);
    }
  });
}

function queue(item) {
  savePending([...pending(), item]);
  send(item);
}

function setStatus(status, extra = {}) {
  root.dataset.status = status;
  if (status === "waiting" && extra.position && extra.eta_minutes == null) statusEl.textContent = fill(t.tWaitingNobody, { position: extra.position });
  else if (status === "waiting" && extra.position) statusEl.textContent = fill(t.tWaiting, { position: extra.position, minutes: extra.eta_minutes });
  else if (status === "active" && extra.consultant) statusEl.textContent = fill(t.tActive, { name: extra.consultant });
  else if (status === "ended") statusEl.textContent = t.tEnded;
}

socket.on("connect", () => {
  socket.emit("join", { consultation_id: cid, after_id: 0 }, (ack) => {
    if (!ack.ok) return showError(ack.error);
    ack.messages.forEach((m) => render(m));
    if (ack.queue) setStatus("waiting", ack.queue);
    pending().forEach(send);
    markSeen();
  });
});
// The server closes the connection when the session ended (signed out here or on every device,
// or expired): reloading the page asks to sign in again.
socket.on("signed_out", () => location.reload());
socket.on("disconnect", (reason) => (reason === "io server disconnect" ? location.reload() : showError(t.tOffline)));
const say = (text) => document.dispatchEvent(new CustomEvent("odr:announce", { detail: text }));
socket.on("message", (m) => {
  const fresh = !(m.id && list.querySelector(`li[data-id="${m.id}"]`));
  const li = render(m);
  if (m.sender_id !== me) {
    if (fresh && li) say(li.querySelector(".body").textContent || li.textContent);
    typingEl.hidden = true; // their message is here: they are no longer typing it
    markSeen();
  }
});
socket.on("receipt", (r) => {
  r.ids.forEach((id) => {
    const li = list.querySelector(`li.mine[data-id="${id}"]`);
    if (li) li.querySelector(".meta").textContent = r.what === "read" ? t.tRead : t.tDelivered;
  });
});
socket.on("typing", (d) => {
  typingEl.hidden = !d.typing;
  typingEl.textContent = t.tTyping;
});
socket.on("queue", (q) => { if (q.consultation_id === cid) setStatus("waiting", q); });
socket.on("status", (s) => {
  if (s.consultation_id !== cid) return;
  if (s.status === "ended" || (s.status === "active" && root.dataset.status === "waiting")) location.reload();
  setStatus(s.status, s);
});
socket.on("problem", (p) => showError(p.error));
document.addEventListener("visibilitychange", markSeen);

if (form) {
  const body = document.getElementById("body");
  let typingTimer = null;
  const stopTyping = () => {
    clearTimeout(typingTimer);
    if (typingTimer) socket.emit("typing", { consultation_id: cid, typing: false });
    typingTimer = null;
  };
  body.addEventListener("input", () => {
    if (!typingTimer) socket.emit("typing", { consultation_id: cid, typing: true });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 2000);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = body.value.trim();
    if (!text) return;
    stopTyping();
    queue({ client_id: newId(), body: text });
    body.value = "";
  });
  document.getElementById("file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const data = new FormData();
    data.append("file", file);
    try {
      const resp = await fetch(root.dataset.upload, { method: "POST", body: data, headers: { "X-CSRFToken": root.dataset.csrf } });
      const json = await resp.json();
      if (!resp.ok) return showError(json.detail || json.title);
      queue({ client_id: newId(), body: "", attachment: json });
      say(t.tUploaded.replace("{name}", json.filename || file.name));
    } catch (err) {
      showError(t.tOffline);
    } finally {
      e.target.value = "";
    }
  });
}
