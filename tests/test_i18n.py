"""The Chinese catalog covers every message, the compiled catalog matches it, and the
language follows the visitor's choice, then the account's saved locale, then the default."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from jinja2 import TemplateSyntaxError

from odr.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIR = ROOT / "translations" / "zh" / "LC_MESSAGES"
#: The keywords ``scripts/i18n update`` passes to ``pybabel extract``.
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["_l", "lazy_gettext"])}
#: A %-format directive as ``str % mapping`` reads it, including ``%%`` and a stray ``%``.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlL]?.?", re.S)

HOME_EN = "How it works"  # on the home page signed in and out
HOME_ZH = "办理流程"


@cache  # one extraction for the tests below (a few seconds over the whole tree)
def extracted_messages():
    """``{(msgid, context): first place it appears}`` for the sources named in babel.cfg."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found = {}
    current = []
    try:
        for filename, lineno, message, _comments, context in extract_from_dir(
                ROOT, method_map, options_map, keywords=KEYWORDS,
                callback=lambda filename, method, options: current.append(filename)):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault((msgid, context), f"{filename}:{lineno}")
    except (SyntaxError, TemplateSyntaxError) as exc:
        pytest.fail(f"messages cannot be extracted from {current[-1]}: {exc}")
    return found


def read_catalog():
    with open(CATALOG_DIR / "messages.po", "rb") as f:
        return read_po(f, locale="zh")


def strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


def test_the_sources_have_messages():
    # Guards the coverage test below against passing on an extraction that finds nothing.
    messages = extracted_messages()
    assert len(messages) > 100
    assert ("Sign in", None) in messages  # a template
    assert ("Wrong code.", None) in messages  # Python, gettext
    assert ("People's mediation committee", None) in messages  # Python, lazy_gettext as _l


def test_every_message_is_translated():
    catalog = read_catalog()
    problems = []
    for (msgid, context), where in sorted(extracted_messages().items()):
        message = catalog.get(msgid, context=context)
        if message is None:
            problems.append(f"missing: {msgid!r} ({where})")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where})")
        elif not all(s.strip() for s in strings(message)):
            problems.append(f"untranslated: {msgid!r} ({where})")
    assert not catalog.fuzzy, "the catalog header is marked fuzzy, so pybabel compile would skip it"
    assert not problems, "run scripts/i18n update, translate, then scripts/i18n compile:\n" + "\n".join(problems)


def test_the_translations_handed_in_are_all_current_messages():
    # translations/new/*.json fill the catalog at merge (scripts/i18n merge); a string the code no
    # longer has would be carried along there for nothing, and misread as still in use.
    current = {msgid for msgid, _context in extracted_messages()}
    stale = [f"{path.name}: {msgid!r}" for path in sorted((ROOT / "translations" / "new").glob("*.json"))
             for msgid in json.loads(path.read_text(encoding="utf-8")) if msgid not in current]
    assert not stale, "no longer a message in the code; remove it from its file:\n" + "\n".join(stale)


def test_the_compiled_catalog_matches_the_po_file():
    def translations(catalog):
        return {(m.id, m.context): m.string for m in catalog if m.id and not m.fuzzy}

    with open(CATALOG_DIR / "messages.mo", "rb") as f:
        compiled = read_mo(f)
    assert translations(compiled) == translations(read_catalog()), "run scripts/i18n compile"


def test_translations_keep_the_placeholders():
    wrong = []
    for message in read_catalog():
        if not message.id:
            continue
        expected = placeholders(ids(message)[0])
        for string in strings(message):
            if string and placeholders(string) != expected:
                wrong.append(f"{message.id!r} → {string!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("text, found", [
    ("Welcome, %(name)s.", {"%(name)s": 1}),
    ("%(minutes)d minutes, 100%%", {"%(minutes)d": 1, "%%": 1}),
    ("100% 完成", {"% 完": 1}),  # a stray % breaks the formatting
    ("no placeholder", {}),
])
def test_placeholders_are_found(text, found):
    assert placeholders(text) == Counter(found)


def home(client) -> str:
    return client.get("/").get_data(as_text=True)


def test_the_home_page_is_chinese_by_default_and_english_on_request(client):
    page = home(client)
    assert HOME_ZH in page and "调解" in page and 'lang="zh-CN"' in page
    assert HOME_EN not in page

    resp = client.post("/lang", data={"lang": "en"})
    assert resp.status_code == 303
    page = home(client)
    assert HOME_EN in page and 'lang="en"' in page
    assert HOME_ZH not in page and "调解" not in page

    client.post("/lang", data={"lang": "xx"})  # not offered: the choice stays
    assert HOME_EN in home(client)

    client.post("/lang", data={"lang": "zh"})
    assert HOME_ZH in home(client)


def test_a_signed_in_user_gets_their_saved_locale(client, make_user, login):
    user = make_user()
    user.locale = "en"
    db.session.commit()
    assert HOME_ZH in home(client)
    page = home(login(client, user))
    assert HOME_EN in page and HOME_ZH not in page


def test_choosing_a_language_while_signed_in_is_saved_for_the_next_visit(app, make_user, login):
    user = make_user()
    first_visit = login(app.test_client(), user)
    first_visit.post("/lang", data={"lang": "en"})
    db.session.refresh(user)
    assert user.locale == "en"

    next_visit = login(app.test_client(), user)  # a new session: no language chosen in it
    assert HOME_EN in home(next_visit)
