// Read the page's main text aloud with the browser's speech synthesis, where the device has a voice
// for the page's language. The button stays hidden otherwise.
const button = document.getElementById('read-aloud');
const synth = window.speechSynthesis;
if (button && synth && window.SpeechSynthesisUtterance) {
  const lang = document.documentElement.lang || 'zh-CN';
  const label = button.textContent;
  const hasVoice = () => synth.getVoices().some(v => v.lang && v.lang.toLowerCase().startsWith(lang.slice(0, 2).toLowerCase()));
  const show = () => { if (hasVoice()) button.hidden = false; };
  show();
  synth.addEventListener?.('voiceschanged', show);
  button.addEventListener('click', () => {
    if (synth.speaking) { synth.cancel(); button.textContent = label; return; }
    const main = document.querySelector('main');
    const text = [...main.querySelectorAll('h1, h2, h3, p, li, label, summary')]
      .filter(e => e.offsetParent !== null && e !== button)
      .map(e => e.innerText.trim()).filter(Boolean).join('\n');
    const speech = new SpeechSynthesisUtterance(text);
    speech.lang = lang;
    speech.rate = 0.9;
    speech.onend = () => { button.textContent = label; };
    button.textContent = button.dataset.stop;
    synth.speak(speech);
  });
}
