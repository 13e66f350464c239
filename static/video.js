// Video room: device check, lobby, a peer-to-peer mesh with everyone the server says shares
// our group (joint session or caucus), controls, chat. The server decides who talks to whom;
// this page follows its roster: one RTCPeerConnection per listed peer, the smaller user id
// makes the offer, a new epoch (the peer reconnected) replaces the connection, a hangup or
// leaving the roster closes it. Video: 360p/15 fps with a bitrate cap, a 180p tier, and
// audio only when the link is poor. VP8 first, constrained-baseline H.264 as fallback.
import { connect } from "./socket.js";

const root = document.getElementById("video-room");
const t = root.dataset;
const roomId = Number(t.room);
const me = Number(t.me);
const isHost = t.role === "host";
const media = JSON.parse(t.media);
const $ = (id) => document.getElementById(id);
const fill = (tpl, values) => tpl.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const seatKey = `odr-video-${roomId}-joined`;

let localStream = null;
let facing = "user";
// Where the cameras do not say which way they face (desktop webcams), a camera chosen by its
// id: front is the first camera, back the last.
let cameraId = null;
let iceServers = [];
let roster = null;
let audioOn = true, videoOn = true, audioOnly = false, weak = false, screenTrack = null;
const pcs = new Map(); // user id → {pc, epoch, tile, via}
let relayAsked = false;
const STALL_MS = media.stall_ms || 8000;
const stalls = new Map(); // user id → negotiations with them in a row that never connected
// Each offer we make has a number; the answer and the candidates carry it back (ours or the
// other side's offer's), so those of a negotiation since replaced are told apart and dropped.
let offers = 0;
const SCREEN_FPS = 5;

// --- devices ------------------------------------------------------------------------------
async function openDevices() {
  const v = media.high;
  const constraints = {
    audio: { echoCancellation: true, noiseSuppression: true },
    video: { ...(cameraId ? { deviceId: { exact: cameraId } } : { facingMode: facing }), width: { ideal: v.width }, height: { ideal: v.height }, frameRate: { ideal: v.fps, max: v.fps } },
  };
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    if (localStream) localStream.getTracks().forEach((tr) => tr.stop());
    localStream = stream;
    $("device-error").hidden = true;
  } catch (err) {
    try { // no camera: audio only
      localStream = await navigator.mediaDevices.getUserMedia({ audio: true });
      videoOn = false;
    } catch (err2) {
      localStream = new MediaStream();
    }
    $("device-error").textContent = t.tNoCamera;
    $("device-error").hidden = false;
  }
  $("preview").srcObject = localStream;
  $("self-view").srcObject = localStream;
  for (const { pc } of pcs.values()) replaceSending(pc);
}

const localTrack = (kind) => localStream && localStream.getTracks().find((tr) => tr.kind === kind) || null;

function sendingVideo() {
  if (screenTrack) return screenTrack;
  if (!videoOn || audioOnly) return null; // a weak link sends the 180p tier (capBitrate), not nothing
  return localTrack("video");
}

// The same connections carry the new track (no new negotiation): another camera, the
// screen, or nothing; then the video limits fit what is sent now.
function replaceSending(pc) {
  const done = [];
  for (const tr of pc.getTransceivers()) {
    const kind = tr.receiver.track && tr.receiver.track.kind;
    if (kind === "audio") done.push(tr.sender.replaceTrack(localTrack("audio")));
    if (kind === "video") done.push(tr.sender.replaceTrack(sendingVideo()));
  }
  Promise.all(done).then(() => capBitrate(pc)).catch(() => { /* closed meanwhile */ });
}

async function chooseCamera(want) {
  facing = want;
  cameraId = null;
  const current = localTrack("video");
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  if (!(current && current.getSettings().facingMode) && cameras.length > 1) {
    cameraId = cameras[want === "user" ? 0 : cameras.length - 1].deviceId;
  }
  // Many phones cannot open a second camera while one is open.
  if (current) current.stop();
  await openDevices();
  // The call's camera button offers the other camera.
  $("camera-switch").textContent = facing === "user" ? t.tBackCamera : t.tFrontCamera;
}

// --- socket -------------------------------------------------------------------------------
const socket = connect("/video");

function send(event, data) {
  return new Promise((resolve) => socket.emit(event, { room_id: roomId, ...data }, (ack) => {
    if (ack && !ack.ok) showProblem(ack.error);
    resolve(ack || {});
  }));
}

function showProblem(text) {
  $("problem").textContent = text || "";
  $("problem").hidden = !text;
}

function state(text) {
  $("room-state").textContent = text || "";
  $("room-state").hidden = !text;
}

async function join() {
  const ack = await send("join", {});
  if (!ack.ok) return;
  sessionStorage.setItem(seatKey, "1");
  iceServers = ack.ice_servers || [];
  $("precheck").hidden = true;
  applyRoster(ack.roster);
}

socket.on("connect", () => {
  if (sessionStorage.getItem(seatKey)) join(); // reconnect or reload: back into the same seat
});
// The signals of one peer are handled one at a time, in order (an ICE candidate must not be
// applied before its offer); a step that hangs gives up after a while so later ones go on.
// Rosters are applied at once: who may hear whom never waits for a negotiation.
const chains = new Map();
const withTimeout = (promise, ms) => Promise.race([promise, new Promise((_, no) => setTimeout(() => no(new Error("timeout")), ms))]);
function queue(uid, fn) {
  const next = (chains.get(uid) || Promise.resolve()).then(() => withTimeout(fn(), 10000)).catch((e) => console.warn("video:", e));
  chains.set(uid, next);
}
// The server closes the connection when the session ended (signed out here or on every device,
// or expired): reloading the page asks to sign in again.
socket.on("signed_out", () => location.reload());
socket.on("disconnect", (reason) => { if (reason === "io server disconnect") location.reload(); });
socket.on("roster", applyRoster);
socket.on("signal", (d) => queue(d.from, () => onSignal(d)));
socket.on("hangup", (d) => closePeer(d.peer));
socket.on("problem", (d) => showProblem(d.error));
socket.on("chat", showChat);
socket.on("muted", (d) => {
  if (d.muted) { audioOn = false; setAudio(); }
  showProblem(d.muted ? t.tMutedByHost : "");
});
for (const [event, text] of [["refused", t.tRefused], ["removed", t.tRemoved], ["ended", t.tEnded], ["replaced", t.tReplaced]]) {
  socket.on(event, () => {
    closeAll();
    if (event !== "refused") sessionStorage.removeItem(seatKey);
    $("call").hidden = true;
    $("precheck").hidden = event === "ended" || event === "replaced";
    state(text);
  });
}

// --- roster -------------------------------------------------------------------------------
let wasAdmitted = false;
function applyRoster(r) {
  if (!r || r.room_id !== roomId) return;
  roster = r;
  if (r.state !== "admitted") {
    closeAll();
    $("call").hidden = true;
    state(r.state === "waiting" ? t.tWaiting : r.state === "removed" ? t.tRemoved : t.tRefused);
    return;
  }
  if ($("call").hidden && !wasAdmitted && t.role !== "host") document.dispatchEvent(new CustomEvent("odr:announce", { detail: t.tAdmitted }));
  wasAdmitted = true;
  $("call").hidden = false;
  if (r.group === "lobby") {
    closeAll();
    state(t.tHostAway);
  } else {
    state("");
  }
  showWhoHears(r);
  const wanted = new Map(r.peers.map((p) => [p.user_id, p]));
  for (const [uid, entry] of pcs) {
    const p = wanted.get(uid);
    if (!p || p.epoch !== entry.epoch || (p.via || "direct") !== entry.via) closePeer(uid);
  }
  for (const p of r.peers) {
    // A relayed peer's connection is offered by the media bridge standing in for them.
    if (!pcs.has(p.user_id) && me < p.user_id && p.via !== "relay") queue(p.user_id, () => call(p));
    const entry = pcs.get(p.user_id);
    if (entry) updateTile(entry.tile, p);
  }
  if (isHost) showHostControls(r);
  showRecording(r);
  showDocument(r.document);
}

function roleName(role) {
  return { host: t.tHost, panel: t.tPanel, claimant: t.tClaimant, respondent: t.tRespondent }[role] || role;
}

function showWhoHears(r) {
  const names = r.peers.map((p) => `${p.name} (${roleName(p.role)})`).join(", ");
  let text;
  if (r.group === "lobby") text = t.tHearNobody;
  else if (r.group && r.group.startsWith("apart-")) text = t.tHearApart;
  else if (!r.peers.length) text = t.tHearNobody;
  else if (r.group === "caucus") text = fill(t.tHearCaucus, { names });
  else text = fill(t.tHearAll, { names });
  $("who-hears").textContent = text;
  $("who-hears").dataset.group = r.group || "";
}

function button(label, onclick, cls = "button secondary") {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = label;
  b.addEventListener("click", onclick);
  return b;
}

function showHostControls(r) {
  const lobby = $("lobby-list");
  lobby.replaceChildren(...(r.lobby || []).map((w) => {
    const li = document.createElement("li");
    li.dataset.user = w.user_id;
    li.append(`${w.name} (${roleName(w.role)})`,
      button(t.tAdmit, () => send("admit", { user_id: w.user_id, admit: true }), "button admit"),
      button(t.tRefuse, () => send("admit", { user_id: w.user_id, admit: false })));
    return li;
  }));
  const people = $("participant-list");
  people.replaceChildren(...r.seats.filter((s) => s.role !== "host" && s.state === "admitted").map((s) => {
    const li = document.createElement("li");
    li.dataset.user = s.user_id;
    li.append(`${s.name} (${roleName(s.role)})${s.present ? "" : " …"}`,
      button(s.muted_by_host ? t.tUnmute : t.tMute, () => send("mute", { user_id: s.user_id, muted: !s.muted_by_host })),
      button(t.tRemove, () => send("remove", { user_id: s.user_id })));
    return li;
  }));
  $("caucus-end").hidden = !r.caucus_side;
  $("caucus-claimant").hidden = r.caucus_side === "claimant";
  $("caucus-respondent").hidden = r.caucus_side === "respondent";
  const choice = $("document-choice");
  const want = ["", ...(r.documents || []).map((d) => String(d.evidence_id))];
  const have = [...choice.options].map((o) => o.value);
  if (want.join() !== have.join()) {
    choice.replaceChildren(choice.options[0], ...(r.documents || []).map((d) => new Option(d.name, d.evidence_id)));
  }
  choice.value = r.document ? String(r.document.evidence_id) : "";
  $("record").hidden = r.recording.on;
  $("record-stop").hidden = !r.recording.on;
}

function showDocument(doc) {
  $("document").hidden = !doc;
  if (!doc) return;
  if ($("document-page").getAttribute("src") !== doc.url) $("document-page").src = doc.url;
  $("document-page").alt = doc.name;
  $("document-caption").textContent = `${doc.name} · ${fill(t.tPage, { page: doc.page, pages: doc.pages })}`;
}

function showRecording(r) {
  const mine = r.recording.consents[String(me)];
  $("consent").hidden = !(r.recording.on && mine === null);
  const el = $("recording-state");
  el.hidden = !r.recording.on;
  el.textContent = r.recording.running ? `● ${t.tRecording}` : t.tRecordingWaits;
}

// --- peer connections ---------------------------------------------------------------------
function newTile(uid) {
  const fig = document.createElement("figure");
  fig.className = uid === 0 ? "tile-box recorder" : "tile-box remote";
  fig.hidden = uid === 0; // the recorder (media bridge) receives only: nothing to show
  fig.dataset.user = uid;
  const video = document.createElement("video");
  video.className = "tile";
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute("playsinline", "");
  const cap = document.createElement("figcaption");
  fig.append(video, cap);
  $("videos").append(fig);
  return fig;
}

function updateTile(tile, p) {
  tile.querySelector("figcaption").textContent = `${p.name} (${roleName(p.role)})${p.audio ? "" : " 🔇"}`;
  // Muted by the host: silenced here too, whatever the muted person's own page does.
  const v = tile.querySelector("video");
  if (p.muted_by_host) { v.muted = true; v.dataset.hostMuted = "1"; }
  else if (v.dataset.hostMuted) { v.muted = false; delete v.dataset.hostMuted; }
}

function preferCodecs(transceiver) {
  if (!window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities || !transceiver.setCodecPreferences) return;
  const codecs = RTCRtpReceiver.getCapabilities("video").codecs;
  const rank = (c) => {
    if (c.mimeType === "video/VP8") return 0;
    if (c.mimeType === "video/H264" && /profile-level-id=42e0/.test(c.sdpFmtpLine || "")) return 1;
    if (c.mimeType === "video/H264") return 2;
    if (/rtx|red|ulpfec/i.test(c.mimeType)) return 3;
    return 4;
  };
  try { transceiver.setCodecPreferences([...codecs].sort((a, b) => rank(a) - rank(b))); } catch (e) { /* keep defaults */ }
}

async function capBitrate(pc) {
  const tier = weak ? media.low : media.high;
  for (const sender of pc.getSenders()) {
    if (!sender.track || sender.track.kind !== "video") continue;
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    params.encodings[0].maxBitrate = tier.bitrate;
    // A shared screen keeps its resolution (its text must stay readable) and sends fewer frames.
    const screen = sender.track === screenTrack;
    params.encodings[0].maxFramerate = screen ? SCREEN_FPS : tier.fps;
    params.encodings[0].scaleResolutionDownBy = screen ? 1 : Math.max(1, (sender.track.getSettings().height || tier.height) / tier.height);
    try { await sender.setParameters(params); } catch (e) { /* not yet negotiated */ }
  }
}

function makePc(p, initiate, tile = null) {
  const pc = new RTCPeerConnection({ iceServers });
  tile = tile || newTile(p.user_id);
  if (p.role === "recorder") tile.hidden = true;
  const entry = { pc, epoch: p.epoch, tile, via: p.via || "direct", offer: null };
  pcs.set(p.user_id, entry);
  updateTile(tile, p);
  if (initiate) {
    const audio = pc.addTransceiver("audio", { direction: "sendrecv" });
    audio.sender.replaceTrack(localTrack("audio"));
    const video = pc.addTransceiver("video", { direction: "sendrecv" });
    preferCodecs(video);
    video.sender.replaceTrack(sendingVideo());
  }
  pc.onicecandidate = (e) => send("signal", { to: p.user_id, type: "candidate", offer: entry.offer,
                                               candidate: e.candidate ? e.candidate.toJSON() : null });
  pc.ontrack = (e) => {
    const el = tile.querySelector("video");
    if (!el.srcObject) el.srcObject = new MediaStream();
    el.srcObject.addTrack(e.track);
    // Where autoplay with sound is blocked (iOS Safari, some Chrome settings), play muted and
    // ask for a tap to turn the sound on.
    el.play().catch(() => { el.muted = true; el.play().catch(() => {}); $("tap-unmute").hidden = false; });
  };
  pc.onconnectionstatechange = () => {
    tile.dataset.state = pc.connectionState;
    if (pc.connectionState === "connected") { stalls.delete(p.user_id); capBitrate(pc); }
    // No direct path to this peer (strict NAT, no TURN): ask for the media bridge's relay.
    if (pc.connectionState === "failed" && entry.via === "direct" && p.user_id !== 0) askRelay();
  };
  return entry;
}

function askRelay() {
  if (relayAsked) return;
  relayAsked = true;
  send("relay", { on: true });
}

async function call(p) {
  const still = (roster?.peers || []).find((x) => x.user_id === p.user_id && x.epoch === p.epoch);
  // Already connected, no longer wanted, or now relayed (the media bridge offers then).
  if (pcs.has(p.user_id) || !still || still.via === "relay") return;
  const entry = makePc(p, true);
  const { pc } = entry;
  entry.offer = ++offers;
  // Watchdog: a negotiation that has not connected after a while (a lost answer, a peer that
  // reloaded at that moment) is started again from scratch by us, the offering side. Twice in
  // a row means there is no direct path: where no candidate pair can even be formed (no STUN,
  // each side's addresses unknown to the other) the connection never reports "failed", so
  // this is when the relay is asked for.
  setTimeout(() => {
    const entry = pcs.get(p.user_id);
    if (entry && entry.pc === pc && !["connected", "completed"].includes(pc.connectionState)) {
      const times = (stalls.get(p.user_id) || 0) + 1;
      stalls.set(p.user_id, times);
      closePeer(p.user_id);
      if (times >= 2 && entry.via === "direct" && p.user_id !== 0) askRelay();
      queue(p.user_id, () => call(p));
    }
  }, STALL_MS);
  await pc.setLocalDescription(await pc.createOffer());
  send("signal", { to: p.user_id, type: "offer", offer: entry.offer, sdp: pc.localDescription.sdp });
}

async function onSignal(d) {
  if (d.room_id !== roomId) return;
  let entry = pcs.get(d.from);
  if (d.type === "offer") {
    // A new offer from the same peer (it started again) replaces the connection in the same tile.
    const tile = entry ? entry.tile : null;
    if (entry) closePeer(d.from, true);
    const peer = (roster?.peers || []).find((p) => p.user_id === d.from) || { user_id: d.from, epoch: d.epoch, name: "", role: "" };
    entry = makePc({ ...peer, epoch: d.epoch }, false, tile);
    entry.offer = d.offer ?? null;
    await entry.pc.setRemoteDescription({ type: "offer", sdp: d.sdp });
    // The answerer's transceivers came from the offer: attach our tracks to them.
    for (const tr of entry.pc.getTransceivers()) {
      if (tr.receiver.track.kind === "video") preferCodecs(tr);
      tr.direction = "sendrecv";
    }
    replaceSending(entry.pc);
    await entry.pc.setLocalDescription(await entry.pc.createAnswer());
    send("signal", { to: d.from, type: "answer", offer: entry.offer, sdp: entry.pc.localDescription.sdp });
  } else if (!entry || (d.offer ?? null) !== entry.offer) {
    // For a connection since closed or offered again.
  } else if (d.type === "answer" && entry.pc.signalingState === "have-local-offer") {
    await entry.pc.setRemoteDescription({ type: "answer", sdp: d.sdp });
  } else if (d.type === "candidate" && d.candidate) {
    // Not awaited: resolving an mDNS (.local) candidate can take long, and later signals must not wait.
    entry.pc.addIceCandidate(d.candidate).catch(() => { /* stale candidate */ });
  }
}

function closePeer(uid, keepTile = false) {
  const entry = pcs.get(uid);
  if (!entry) return;
  entry.pc.close();
  pcs.delete(uid);
  if (!keepTile) entry.tile.remove();
  else entry.tile.querySelector("video").srcObject = null;
}

function closeAll() {
  for (const uid of [...pcs.keys()]) closePeer(uid);
}

// --- weak links: 360p → 180p → audio only, from the measured outgoing bandwidth -----------
setInterval(async () => {
  for (const { pc } of pcs.values()) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    let available = null;
    stats.forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate) available = s.availableOutgoingBitrate;
    });
    if (available === null) continue;
    const nowWeak = available < media.high.bitrate;
    const tooWeak = available < media.audio_only_below;
    if (nowWeak !== weak) { weak = nowWeak; capBitrate(pc); }
    $("weak-link").hidden = !tooWeak;
    $("weak-link").textContent = t.tWeak;
    if (tooWeak && !audioOnly) { audioOnly = true; updateSending(); }
  }
}, 5000);

// --- controls -----------------------------------------------------------------------------
function updateSending() {
  const a = localTrack("audio");
  if (a) a.enabled = audioOn;
  const v = localTrack("video");
  if (v) v.enabled = videoOn;
  for (const { pc } of pcs.values()) replaceSending(pc);
  $("mute").textContent = audioOn ? t.tMute : t.tUnmute;
  $("camera").textContent = videoOn ? t.tCameraOff : t.tCameraOn;
  $("audio-only").setAttribute("aria-pressed", String(audioOnly));
  send("media", { audio: audioOn, video: videoOn && !audioOnly });
}

function setAudio() { updateSending(); }

$("camera-front").addEventListener("click", () => chooseCamera("user"));
$("camera-back").addEventListener("click", () => chooseCamera("environment"));
$("camera-switch").addEventListener("click", () => chooseCamera(facing === "user" ? "environment" : "user"));
$("join").addEventListener("click", join);
$("mute").addEventListener("click", () => { audioOn = !audioOn; updateSending(); });
$("camera").addEventListener("click", () => { videoOn = !videoOn; updateSending(); });
$("audio-only").addEventListener("click", () => { audioOnly = !audioOnly; updateSending(); });
$("leave").addEventListener("click", async () => {
  await send("leave", {});
  sessionStorage.removeItem(seatKey);
  closeAll();
  $("call").hidden = true;
  $("precheck").hidden = false;
});
$("tap-unmute").addEventListener("click", () => {
  document.querySelectorAll("#videos figure.remote video").forEach((v) => { v.muted = false; v.play().catch(() => {}); });
  $("tap-unmute").hidden = true;
});
$("chat-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = $("chat-body").value;
  const ack = await send("chat", { body });
  if (ack.ok) { showChat(ack.message); $("chat-body").value = ""; }
});
$("consent-yes").addEventListener("click", () => send("consent", { consent: true }));
$("consent-no").addEventListener("click", () => send("consent", { consent: false }));

// Desktop browsers can share their screen instead of the camera (phones cannot).
if (navigator.mediaDevices.getDisplayMedia && !/Android|iPhone|iPad/i.test(navigator.userAgent)) {
  $("share-screen").hidden = false;
  $("share-screen").addEventListener("click", async () => {
    if (screenTrack) { screenTrack.stop(); screenTrack = null; updateSending(); return; }
    try {
      const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: SCREEN_FPS } });
      screenTrack = s.getVideoTracks()[0];
      screenTrack.contentHint = "detail";
      screenTrack.onended = () => { screenTrack = null; updateSending(); };
      updateSending();
    } catch (e) { /* the person cancelled */ }
  });
}

if (isHost) {
  $("caucus-claimant").addEventListener("click", () => send("caucus", { side: "claimant" }));
  $("caucus-respondent").addEventListener("click", () => send("caucus", { side: "respondent" }));
  $("caucus-end").addEventListener("click", () => send("caucus", { side: null }));
  $("end").addEventListener("click", () => send("end", {}));
  $("document-choice").addEventListener("focus", async () => {
    const ack = await send("documents", {});
    if (ack.ok) showHostControls({ ...roster, documents: ack.documents });
  });
  $("document-choice").addEventListener("change", (e) => {
    const id = e.target.value ? Number(e.target.value) : null;
    send("show", { evidence_id: id, page: 1 });
  });
  const turn = (step) => {
    const doc = roster && roster.document;
    if (doc && doc.page + step >= 1 && doc.page + step <= doc.pages) send("show", { evidence_id: doc.evidence_id, page: doc.page + step });
  };
  $("page-prev").addEventListener("click", () => turn(-1));
  $("page-next").addEventListener("click", () => turn(1));
  $("record").addEventListener("click", () => send("record", { on: true }));
  $("record-stop").addEventListener("click", () => send("record", { on: false }));
}

function showChat(m) {
  const li = document.createElement("li");
  li.className = m.from === me ? "mine" : "theirs";
  li.textContent = `${m.from === me ? "" : m.name + ": "}${m.body}`;
  $("chat-list").append(li);
  if (m.from !== me) document.dispatchEvent(new CustomEvent("odr:announce", { detail: li.textContent }));
}

openDevices();
