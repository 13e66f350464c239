"""Read-aloud in elderly mode: the button shows only where the device has a voice for the page's
language, and reads the page's main text with the browser's speech synthesis.

Headless Chromium has no voices; a device with a Chinese voice is simulated by answering
``speechSynthesis.getVoices()`` with one (the browser's API surface, not our code). ``speak`` is
watched, not replaced: the real one still runs."""

from __future__ import annotations

from playwright.sync_api import expect

VOICE = """(() => {
  const voice = { lang: 'zh-CN', name: 'Device voice', default: true, localService: true, voiceURI: 'zh' };
  speechSynthesis.getVoices = () => [voice];
  const speak = speechSynthesis.speak.bind(speechSynthesis);
  window.__spoken = [];
  speechSynthesis.speak = (u) => { window.__spoken.push({ text: u.text, lang: u.lang }); speak(u); };
})();"""


def elderly_page(context):
    page = context.new_page()
    page.goto("/consult/kb")
    page.locator("#elderly-switch").click()
    expect(page.locator("body.elderly")).to_have_count(1)
    return page


def test_hidden_without_a_voice(phone, server):
    page = elderly_page(phone())
    expect(page.locator("#read-aloud")).to_be_hidden()


def test_reads_the_main_text_where_the_device_has_a_voice(phone, server):
    context = phone()
    context.add_init_script(VOICE)
    page = elderly_page(context)
    button = page.locator("#read-aloud")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["width"] >= 60 and box["height"] >= 60  # a main control in elderly mode
    button.click()
    spoken = page.evaluate("window.__spoken")
    assert len(spoken) == 1 and spoken[0]["lang"] == "zh-CN"
    assert page.locator("main h1").inner_text() in spoken[0]["text"]
