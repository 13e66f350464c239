// Field pages: the 1-3-8 clocks count up live, a new or changed dispatch arrives over Socket.IO
// (the worker's phone rings and vibrates where the browser allows), one left unanswered past the
// acceptance target is announced in the page's live region (announce.js), and "on the scene" sends the
// phone's location when the person allows it.
import { connect } from "./socket.js";

function fmt(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function tick() {
  const now = Date.now();
  for (const clock of document.querySelectorAll(".field-clock[data-received]")) {
    const received = Date.parse(clock.dataset.received);
    let running = true;
    for (const step of clock.querySelectorAll("li")) {
      if (step.dataset.done !== undefined) continue;
      const elapsed = (now - received) / 1000;
      if (running) step.querySelector(".clock-value").textContent = fmt(elapsed);
      if (elapsed > Number(step.dataset.target)) { step.classList.add("late"); step.classList.remove("running"); }
      running = false;
    }
  }
}
tick();
setInterval(tick, 1000);

function ring() {
  try {
    if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
  } catch (e) { /* not allowed here */ }
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch (e) { /* sound needs a tap first on some browsers */ }
}

const live = document.querySelector("[data-live]");
if (live) {
  const socket = connect("/field");
  socket.on("dispatch", (d) => {
    const kind = live.dataset.live;
    if (kind === "dispatch" && String(d.id) !== live.dataset.dispatch) return;
    if (d.escalated_now) {
      // Missed the acceptance target: said in the live region and shown, without reloading the
      // page under the person reading it (the next reload shows it in the list too).
      const text = live.dataset.msgEscalated.replace("%(case)s", d.case);
      const banner = document.getElementById("field-escalated");
      if (banner) { banner.textContent = text; banner.hidden = false; }
      for (const row of document.querySelectorAll(`[data-dispatch="${d.id}"]`)) {
        row.classList.add("escalated");
        row.dataset.escalated = "yes";
      }
      document.dispatchEvent(new CustomEvent("odr:announce", { detail: text }));
      if (kind === "worker") ring();
      return;
    }
    if (kind === "worker" && d.new) {
      ring();
      sessionStorage.setItem("field-new", String(d.id));
    }
    window.location.reload();
  });
  if (sessionStorage.getItem("field-new")) {
    const banner = document.getElementById("field-new");
    if (banner) banner.hidden = false;
    sessionStorage.removeItem("field-new");
  }
}

const sceneForm = document.getElementById("field-scene-form");
if (sceneForm && navigator.geolocation) {
  let located = false;
  sceneForm.addEventListener("submit", (event) => {
    if (located) return;
    event.preventDefault();
    const send = () => { located = true; sceneForm.requestSubmit(); };
    navigator.geolocation.getCurrentPosition((pos) => {
      document.getElementById("scene-lat").value = pos.coords.latitude;
      document.getElementById("scene-lng").value = pos.coords.longitude;
      send();
    }, send, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  });
}
