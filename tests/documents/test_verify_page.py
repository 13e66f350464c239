"""The public /verify page, the CA certificate page, and ``odr verify`` on files that are not
signed PDFs. What was tried: no file, a text file renamed .pdf, a truncated PDF, an encrypted
PDF, a file over the size limit, an unsigned PDF, a signed one, and the signed one with a byte
changed."""

from __future__ import annotations

import io

from cryptography import x509

from odr.documents.ca import fingerprint, platform_ca
from odr.documents.render import render_pdf


def upload(client, data: bytes, name="doc.pdf"):
    return client.post("/verify", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def encrypted_pdf() -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.writer import copy_into_new_writer
    from pyhanko.pdf_utils.reader import PdfFileReader
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(render_pdf("<p>secret</p>"))))
    writer.encrypt("owner", "user")
    out = io.BytesIO()
    writer.write(out)
    assert IncrementalPdfFileWriter  # imported to keep the writer API in one place
    return out.getvalue()


def test_the_page_answers_bad_files_with_a_reason(app, client):
    client.post("/lang", data={"lang": "en"})
    assert client.get("/verify").status_code == 200
    cases = [
        (client.post("/verify", data={}), 400, "Choose a PDF file to check."),
        (upload(client, b"hello, I am text", "x.pdf"), 415, "This is not a PDF file."),
        (upload(client, render_pdf("<p>x</p>")[:400]), 422, "damaged or incomplete"),
        (upload(client, encrypted_pdf()), 422, "The PDF is encrypted"),
    ]
    for resp, status, message in cases:
        assert resp.status_code == status and message in resp.get_data(as_text=True), (status, message)
    app.config["VERIFY_MAX_BYTES"] = 50_000
    resp = upload(client, b"%PDF-1.7\n" + b"0" * 60_000)
    assert resp.status_code == 413 and "larger than" in resp.get_data(as_text=True)


def test_an_unsigned_pdf_is_not_passed(app, client):
    client.post("/lang", data={"lang": "en"})
    page = upload(client, render_pdf("<p>x</p>"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "did not pass the check" in text and "The document has no signatures." in text


def test_signed_and_tampered_files(app, client, signed):
    client.post("/lang", data={"lang": "en"})
    text = upload(client, signed, "agreement.pdf").get_data(as_text=True)
    assert "Every signature is intact and trusted" in text
    assert text.count('class="ok"') == 4 and "Zhang San" in text and "Platform seal" in text and "ODR Platform Seal" not in text
    tampered = bytearray(signed)
    tampered[signed.index(b"stream", 2000) + 20] ^= 1
    text = upload(client, bytes(tampered), "agreement.pdf").get_data(as_text=True)
    assert "did not pass the check" in text and "The signed content was changed after signing." in text


def test_the_ca_certificate_is_public(app, client):
    ca = platform_ca()
    page = client.get("/documents/ca").get_data(as_text=True)
    assert fingerprint(ca.cert) in page
    pem = client.get("/documents/ca.pem")
    assert pem.status_code == 200 and x509.load_pem_x509_certificate(pem.data) == ca.cert
    assert x509.load_der_x509_certificate(client.get("/documents/ca.cer").data) == ca.cert


def test_odr_verify_on_files_that_are_not_signed_pdfs(app, runner, tmp_path):
    text = tmp_path / "notes.pdf"
    text.write_text("not a pdf")
    result = runner.invoke(args=["verify", str(text)])
    assert result.exit_code == 2 and "not a readable PDF" in result.output
    result = runner.invoke(args=["verify", str(tmp_path / "missing.pdf")])
    assert result.exit_code == 2
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(render_pdf("<p>x</p>"))
    result = runner.invoke(args=["verify", str(unsigned)])
    assert result.exit_code == 1 and "The document has no signatures." in result.output


def test_the_page_has_words_for_every_problem():
    from odr.documents.verify import PROBLEMS
    from odr.documents.views import PROBLEM_LABELS
    assert set(PROBLEM_LABELS) == set(PROBLEMS)
