"""Whatever bytes are handed to the verifier, it answers with a report or a named refusal, in
bounded time and memory, and never passes a changed file: damaged copies of a sealed agreement
(bits flipped, bytes overwritten, cut short, the room reserved for a signature changed), files
built to exhaust a reader (compressed bombs, deep nesting, thousands of signature fields or
revisions), through ``verify``, the public page and ``odr verify``."""

from __future__ import annotations

import io
import random
import re
import zlib

import pytest

from odr.documents.ca import platform_ca
from odr.documents.pades import NotAPdf, TooComplex
from odr.documents.verify import MAX_SIGNATURES, verify
from tests.documents.test_verify_page import upload


#: A sealed agreement's bytes per test process and database (``sealed``).
_sealed: dict[str, bytes] = {}


@pytest.fixture
def sealed(request, app) -> bytes:
    """A signed and sealed agreement's bytes (the ``signed`` fixture), made once per test process
    and database: these tests change copies of the file and read them back, which needs nothing
    but the bytes and the platform's root certificate (kept for the whole run)."""
    key = app.config["DATABASE_URL"]
    if key not in _sealed:
        _sealed[key] = request.getfixturevalue("signed")
    return _sealed[key]


def roots():
    return [platform_ca().ca.asn1_cert]


def check(pdf: bytes):
    """The verifier's answer: a report, or the refusal it raised (anything else fails the test)."""
    try:
        return verify(pdf, roots())
    except NotAPdf as exc:
        return exc


def signature_values(pdf: bytes) -> list[tuple[int, int]]:
    """Where each signature's hex value lies (no signature covers these bytes, not even its own)."""
    return [m.span(1) for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf)]


def damaged_copies(pdf: bytes, count: int, seed: int = 20261206):
    """Copies of ``pdf`` with bits flipped, bytes overwritten or the end cut off, each somewhere
    some signature covers (the values themselves are changed on purpose in another test)."""
    rng = random.Random(seed)
    values = signature_values(pdf)

    def covered_position():
        while True:
            at = rng.randrange(len(pdf))
            if not any(start <= at < end for start, end in values):
                return at

    for i in range(count):
        copy = bytearray(pdf)
        how = ("flip", "overwrite", "cut")[i % 3]
        if how == "flip":
            at = covered_position()
            copy[at] ^= 1 << rng.randrange(8)
        elif how == "overwrite":
            for _ in range(rng.randrange(2, 30)):
                copy[covered_position()] = rng.randrange(256)
        else:
            del copy[rng.randrange(8, len(pdf) - 1):]
        yield how, bytes(copy)


def test_damaged_copies_of_a_sealed_agreement_fail_or_are_refused(app, sealed):
    assert verify(sealed, roots()).ok
    answers = {"failed": 0, "refused": 0}
    for how, copy in damaged_copies(sealed, 90):
        answer = check(copy)
        if isinstance(answer, NotAPdf):
            answers["refused"] += 1
        else:
            assert not answer.ok, (how, answer)
            answers["failed"] += 1
    assert answers["failed"] and answers["refused"]  # both kinds of damage were tried


@pytest.mark.parametrize("change", ["padding", "space", "uppercase"])
def test_a_change_to_the_bytes_no_signature_covers_is_named(app, sealed, change):
    start, end = signature_values(sealed)[-1]  # the seal's value: the last bytes before the end
    value = sealed[start:end]
    at = start + len(value.rstrip(b"0")) + 100  # inside the zeros reserved after the signature
    copy = bytearray(sealed)
    copy[at] = {"padding": ord("1"), "space": ord(" "), "uppercase": ord("0")}[change]
    if change == "uppercase":  # the same value written differently: hex digits in the other case
        copy[start:end] = value.lower()
    report = verify(bytes(copy), roots())
    if change == "uppercase":
        assert report.ok  # nothing changed that a signature or its value holds
    else:
        seal = report.signatures[-1]
        assert not report.ok and seal.problems == ["value_changed"] and seal.intact and seal.valid


def raw_pdf(*objects: bytes, trailer: bytes = b"") -> bytes:
    """A PDF of these object bodies (1 0 obj …) with a classic cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def catalog(fields: int = 1) -> bytes:
    refs = b" ".join(b"%d 0 R" % (4 + i) for i in range(fields))
    return b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>" % refs


PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"
SIGNATURE = b"/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 10]"
BOMB = zlib.compress(b"\0" * (200 * 1024 * 1024), 9)  # 200 KB that decode to 200 MiB


def xref_stream_bomb() -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    root = len(out)
    out += b"1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    xref = len(out)
    out += b"2 0 obj\n<< /Type /XRef /Size 3 /W [1 4 1] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n" % len(BOMB)
    out += BOMB + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    assert root
    return bytes(out)


def object_stream_bomb() -> bytes:
    """The signature dictionary sits in an object stream that expands to 200 MiB."""
    signature = b"<< %s /Contents <3000> >>" % SIGNATURE
    packed = zlib.compress(b"5 0 " + signature + b"\0" * (200 * 1024 * 1024), 9)
    out, offsets = bytearray(b"%PDF-1.7\n"), {}
    for number, body in ((1, catalog()), (2, PAGES), (3, PAGE), (4, b"<< /FT /Sig /T (s) /V 5 0 R >>"),
                         (6, b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
                          % (len(packed), packed))):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets[7] = len(out)
    rows = [b"\0\0\0\0\0\xff\xff"] + [b"\1" + offsets[n].to_bytes(4, "big") + b"\0\0" for n in (1, 2, 3, 4)]
    rows += [b"\2" + (6).to_bytes(4, "big") + b"\0\0"] + [b"\1" + offsets[n].to_bytes(4, "big") + b"\0\0" for n in (6, 7)]
    table = b"".join(rows)
    out += b"7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        len(table), table)
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[7]
    return bytes(out)


def many_updates(pdf: bytes, count: int) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    for i in range(count):
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        writer.root["/Note"] = generic.NumberObject(i)
        writer.update_root()
        out = io.BytesIO()
        writer.write(out)
        pdf = out.getvalue()
    return pdf


HOSTILE = {
    "random bytes after a PDF header": b"%PDF-1.7\n" + random.Random(7).randbytes(50_000),
    "nothing after the header": b"%PDF-",
    "xref stream bomb": xref_stream_bomb(),
    "object stream bomb": object_stream_bomb(),
    "a stream as the signature value": raw_pdf(
        catalog(), PAGES, PAGE, b"<< /FT /Sig /T (s) /V 5 0 R >>", b"<< %s /Contents 6 0 R >>" % SIGNATURE,
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (len(BOMB), BOMB)),
    "nested 100,000 deep in a signature": raw_pdf(
        catalog(), PAGES, PAGE, b"<< /FT /Sig /T (s) /V 5 0 R >>",
        b"<< %s /Contents <3000> /X %s%s >>" % (SIGNATURE, b"[" * 100_000, b"]" * 100_000)),
    "a broken compressed stream in a signature": raw_pdf(
        catalog(), PAGES, PAGE, b"<< /FT /Sig /T (s) /V 5 0 R >>", b"<< %s /Contents 6 0 R >>" % SIGNATURE,
        b"<< /Filter /FlateDecode /Length 20 >>\nstream\n" + b"x\x9c\xff\xff garbage!!!!" + b"\nendstream"),
    "absurd byte range": raw_pdf(
        catalog(), PAGES, PAGE, b"<< /FT /Sig /T (s) /V 5 0 R >>",
        b"<< /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [0 99999999999999999999 -5 1] /Contents <30> >>"),
    "absurd object numbers and lengths": raw_pdf(
        catalog(), PAGES, PAGE, b"<< /FT /Sig /T (s) /V 99999999999 0 R >>",
        trailer=b"/Size 99999999999999 /Info 9999999999 0 R "),
    f"{MAX_SIGNATURES + 1} signature fields": raw_pdf(
        catalog(MAX_SIGNATURES + 1), PAGES, PAGE,
        *[b"<< /FT /Sig /T (s%d) /V << %s /Contents <3000> >> >>" % (i, SIGNATURE) for i in range(MAX_SIGNATURES + 1)]),
}
BEYOND_LIMITS = {"xref stream bomb", "object stream bomb", f"{MAX_SIGNATURES + 1} signature fields"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_files_built_to_break_a_reader_are_answered(app, name):
    answer = check(HOSTILE[name])
    if name in BEYOND_LIMITS:
        assert isinstance(answer, TooComplex), answer
    else:
        assert isinstance(answer, NotAPdf) or not answer.ok, answer


def test_too_many_revisions_are_not_read(app, sealed, monkeypatch):
    """The limit lowered for the test to a few revisions past the agreement's own: appending the
    platform's 200 one by one with pyHanko reads the growing file again each time (12 s); the check
    is the same at any limit."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from odr.documents import verify as verifier

    own = PdfFileReader(io.BytesIO(sealed), strict=False).xrefs.total_revisions
    monkeypatch.setattr(verifier, "MAX_REVISIONS", own + 4)
    at_the_limit = check(many_updates(sealed, 4))
    assert not isinstance(at_the_limit, Exception) and not at_the_limit.ok  # read, and the changes found
    answer = check(many_updates(sealed, 5))
    assert isinstance(answer, TooComplex) and f"(at most {own + 4} are checked)" in str(answer), answer


def test_the_page_and_the_command_answer_every_damaged_file(app, client, runner, tmp_path, sealed):
    client.post("/lang", data={"lang": "en"})
    app.config["VERIFY_RATE_LIMIT"] = "100 per minute"
    files = [copy for _, copy in damaged_copies(sealed, 12, seed=5)] + list(HOSTILE.values())
    for i, pdf in enumerate(files):
        resp = upload(client, pdf)
        text = resp.get_data(as_text=True)
        assert (resp.status_code, "did not pass the check" in text) == (200, True) or resp.status_code in (415, 422), i
        path = tmp_path / f"{i}.pdf"
        path.write_bytes(pdf)
        result = runner.invoke(args=["verify", str(path)])
        assert result.exit_code in (1, 2) and not isinstance(result.exception, Exception) or \
            isinstance(result.exception, SystemExit), (i, result.output, result.exception)
        assert ("RESULT: FAILED" in result.output) == (result.exit_code == 1), (i, result.output)
    too_complex = upload(client, HOSTILE["object stream bomb"])
    assert too_complex.status_code == 422 and "more signatures, revisions or compressed data" in too_complex.get_data(as_text=True)
    path = tmp_path / "bomb.pdf"
    path.write_bytes(HOSTILE["xref stream bomb"])
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 2 and "beyond what can be checked" in result.output
