// Status changes said aloud by screen readers: the page's one polite live region (#announce in
// base.html) receives what other scripts send as an "odr:announce" event, e.g.
//   document.dispatchEvent(new CustomEvent("odr:announce", { detail: "File uploaded" }));
// and, after a form was sent, the page's first flash message (a proposal answered, a file added).
const region = document.getElementById("announce");
let timer = null;
function announce(text) {
  if (!region || !text) return;
  // Emptied first, so the same words twice in a row are said twice.
  region.textContent = "";
  clearTimeout(timer);
  timer = setTimeout(() => { region.textContent = text; }, 100);
}
document.addEventListener("odr:announce", (event) => announce(String(event.detail || "").trim()));
const flash = document.querySelector("main .flash:not(#status)");
if (flash) announce(flash.textContent.trim());
