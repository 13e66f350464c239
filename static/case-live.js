// A page of a case that follows it live (templates/cases/_live.html): when the other side answers a
// proposal or an offer (odr/cases/live.py), the page fetches its own address again, puts each part
// marked data-live-part in place (the rest — a form being filled in — stays as it is) and says
// what happened in the live region (announce.js). When who may see the case changed, the server
// takes every page out of the case's room and asks it to watch again: a page let back in fetches
// itself again (it may have missed a change meanwhile); one refused says so and stops updating.
import { connect } from "./socket.js";

const root = document.getElementById("case-live");
if (root) {
  const t = root.dataset;
  const socket = connect("/case");
  // Asked again after every reconnection: a new connection starts in no room.
  function watch(then) {
    socket.emit("watch", { case: t.case }, (ack) => {
      if (ack && ack.ok) {
        root.dataset.watching = "1";
        if (then) then();
      } else if (then) {
        lost();
      }
    });
  }
  socket.on("connect", () => watch(null));

  function lost() {
    delete root.dataset.watching;
    root.dataset.lost = "1";
    socket.disconnect();
    const notice = document.createElement("p");
    notice.id = "case-live-lost";
    notice.className = "flash warning";
    notice.textContent = t.tLost;
    const main = document.querySelector("main");
    if (main) main.prepend(notice);
    document.dispatchEvent(new CustomEvent("odr:announce", { detail: t.tLost }));
  }

  socket.on("access_changed", () => {
    delete root.dataset.watching;
    watch(() => refresh());
  });

  async function refresh() {
    const resp = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!resp.ok) return;
    const fresh = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const part of document.querySelectorAll("[data-live-part]")) {
      const replacement = fresh.getElementById(part.id);
      if (replacement) part.replaceWith(document.importNode(replacement, true));
    }
  }

  socket.on("answered", async (d) => {
    if (d.kind !== t.kind) return;
    await refresh();
    const words = t[`t${d.answer.charAt(0).toUpperCase()}${d.answer.slice(1)}`]; // data-t-<answer>
    if (words && String(d.by) !== t.me) {
      document.dispatchEvent(new CustomEvent("odr:announce", { detail: words.replace("{id}", d.id) }));
    }
  });
}
