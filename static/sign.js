// Signing a document: the signing block (templates/_signing.html) on the document page and on the
// grid worker's phone, where a party without a phone confirms with the ID card the worker checked.
//
// The signer's key is made here, by WebCrypto, as a non-extractable ECDSA P-256 key: the
// private half cannot be read out of the browser, not even by this script. Only the public
// half goes to the server, with the one-time code; the platform certifies it and prepares the
// PDF; the browser signs what the server says must be signed (the CMS signed attributes, which
// hold the digest of the exact PDF) and sends the signature back. The key lives as long as
// this page.

const root = document.getElementById("sign");
const status = document.getElementById("sign-status");
const say = (text, bad = false) => { status.textContent = text; status.className = bad ? "error" : "muted"; };
const msg = (name) => root.dataset[`msg${name[0].toUpperCase()}${name.slice(1)}`];

const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function post(url, body) {
  const resp = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await resp.json(); } catch { /* an HTML error page */ }
  if (!resp.ok) {
    const error = new Error(data.detail || msg("failed"));
    error.retry = Boolean(data.retry);
    throw error;
  }
  return data;
}

// --- the signature pad ----------------------------------------------------------------------
const pad = document.getElementById("pad");
const ink = pad.getContext("2d");
let drawn = false;
let last = null;

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
}
pad.addEventListener("pointerdown", (event) => {
  try { pad.setPointerCapture(event.pointerId); } catch { /* a pointer the browser no longer tracks */ }
  last = point(event);
  event.preventDefault();
});
pad.addEventListener("pointermove", (event) => {
  if (!last) return;
  const next = point(event);
  ink.lineWidth = 5; ink.lineCap = "round"; ink.strokeStyle = "#102a5c";
  ink.beginPath(); ink.moveTo(...last); ink.lineTo(...next); ink.stroke();
  last = next; drawn = true;
  event.preventDefault();
});
for (const end of ["pointerup", "pointercancel", "pointerleave"]) pad.addEventListener(end, () => { last = null; });
document.getElementById("clear-pad").addEventListener("click", () => {
  ink.clearRect(0, 0, pad.width, pad.height); drawn = false; typed.value = "";
});

// Signing without drawing (WCAG 2.5.1, single pointer): the typed name, written on the pad, is the
// signature's picture. Drawing afterwards starts again from an empty pad.
const typed = document.getElementById("typed-name");
typed.addEventListener("input", () => {
  ink.clearRect(0, 0, pad.width, pad.height);
  const name = typed.value.trim();
  drawn = Boolean(name);
  if (!name) return;
  let size = 120;
  do {
    ink.font = `italic ${size}px "KaiTi", "STKaiti", "Kaiti SC", cursive, serif`;
    size -= 8;
  } while (ink.measureText(name).width > pad.width - 40 && size > 24);
  ink.fillStyle = "#102a5c"; ink.textAlign = "center"; ink.textBaseline = "middle";
  ink.fillText(name, pad.width / 2, pad.height / 2);
});
pad.addEventListener("pointerdown", () => {
  if (typed.value) { typed.value = ""; ink.clearRect(0, 0, pad.width, pad.height); drawn = false; }
}, { capture: true });

// --- signing -------------------------------------------------------------------------------
const signButton = document.getElementById("sign-now");
// On the grid worker's phone a party without a phone has no code to ask for (templates/field/sign.html).
const codeButton = document.getElementById("send-code");
const codeInput = document.getElementById("sign-code");
// Instead of a code: the ID card the grid worker checked in person (and why not the phone on record).
const idNumber = document.getElementById("id-number");
const noCodeReason = document.getElementById("no-code-reason");
const secure = window.isSecureContext && window.crypto && window.crypto.subtle;
if (!secure) {
  say(msg("insecure"), true);
  signButton.disabled = true;
  if (codeButton) codeButton.disabled = true;
}

codeButton?.addEventListener("click", async () => {
  codeButton.disabled = true;
  try {
    const data = await post(root.dataset.code, {});
    say(msg("sent").replace("%(to)s", data.sent_to));
  } catch (error) {
    say(error.message, true);
  } finally {
    setTimeout(() => { codeButton.disabled = false; }, 5000);
  }
});

let keys = null;

async function signOnce(confirmation, stamp) {
  const publicKey = b64(await crypto.subtle.exportKey("spki", keys.publicKey));
  const prepared = await post(root.dataset.prepare, { ...confirmation, public_key: publicKey, stamp,
                                                      sha256: root.dataset.sha256 });
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey,
                                             unb64(prepared.to_be_signed));
  return post(root.dataset.finish, { signature: b64(signature) });
}

signButton.addEventListener("click", async () => {
  const code = codeInput ? codeInput.value.trim() : "";
  const checked = idNumber ? idNumber.value.trim() : "";
  if (!document.getElementById("read-all").checked) return say(msg("read"), true);
  if (!drawn) return say(msg("draw"), true);
  let confirmation;
  if (checked && !code) {
    confirmation = { id_number: checked, no_code_reason: noCodeReason ? noCodeReason.value.trim() : "" };
  } else if (/^\d{6}$/.test(code)) {
    confirmation = { code };
  } else {
    return say(msg(idNumber ? "idNumber" : "code"), true);
  }
  signButton.disabled = true;
  say(msg("signing"));
  try {
    // A new key for each attempt that carries a code (or an ID card checked in person); extractable = false keeps it in the browser.
    keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const stamp = pad.toDataURL("image/png");
    let result;
    try {
      result = await signOnce(confirmation, stamp);
    } catch (error) {
      if (!error.retry) throw error;
      // Someone signed a moment before us: sign the newer file with the key already certified.
      result = await signOnce({}, stamp);
    }
    say(msg("done"));
    root.dataset.state = "signed";
    // On the worker's phone the next signer's turn is on the agreement page (templates/field/sign.html).
    setTimeout(() => { if (root.dataset.doneUrl) window.location.assign(root.dataset.doneUrl); else window.location.reload(); }, 800);
    return result;
  } catch (error) {
    say(error.message, true);
    signButton.disabled = false;
  }
});
