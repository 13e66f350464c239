"""The court bundle: written by ``odr export``, checked by ``odr verify-bundle``.

A settled case with a signed agreement and evidence (one item shared, one for the mediator
only), and a signed checkpoint of its audit trail, is exported; the bundle verifies; then each
way of breaking it is tried on a copy and must be named: a byte changed in any file, a file
removed, a file added, an audit line removed or two swapped, the manifest edited, a checkpoint
forged. A chain cut off or rewritten in the database after its checkpoint is exported as it is
now, and the bundle names it. The schemas in docs/ describe manifest.json, case.json and
audit-checkpoints.json.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest

from odr.cases import audit
from odr.court.bundle import CHECKPOINTS, MANIFEST, SIGNATURE
from odr.extensions import db
from odr.mediate.room import operations as room
from odr.cases.evidence import Visibility
from tests.court.bundles import JPEG, check, rewrite

DOCS = Path(__file__).parents[2] / "docs"


def test_the_bundle_holds_the_case_and_verifies(app, bundle, runner, mediation):
    code, output = check(runner, bundle)
    assert code == 0 and "RESULT: the bundle is intact" in output, output
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read(MANIFEST))
        case = json.loads(zf.read("case.json"))
    assert {MANIFEST, SIGNATURE, "case.json", "index.pdf", "audit.jsonl", CHECKPOINTS,
            "documents/mediation_agreement-v1.pdf"} <= names
    assert [n for n in names if n.startswith("evidence/")] == [next(
        f["name"] for f in manifest["files"] if f["name"].startswith("evidence/"))]
    assert "private.jpg" not in " ".join(names) and case["evidence_withheld"] == 1
    assert case["outcome"] == "settled" and case["documents"][0]["signers"][0]["role"] == "claimant"
    jsonschema.validate(manifest, json.loads((DOCS / "court-bundle-manifest.schema.json").read_text()))
    jsonschema.validate(case, json.loads((DOCS / "court-bundle-case.schema.json").read_text()))
    with zipfile.ZipFile(bundle) as zf:
        signed = json.loads(zf.read(CHECKPOINTS))
    jsonschema.validate(signed, json.loads((DOCS / "court-bundle-checkpoints.schema.json").read_text()))
    assert manifest["format_version"] == "1.1" and len(signed["checkpoints"]) == 1
    verbose = runner.invoke(args=["verify-bundle", "-v", str(bundle)]).output
    assert "documents/mediation_agreement-v1.pdf: 4 signatures intact and trusted" in verbose
    assert "audit.jsonl:" in verbose and "chain intact and as its 1 checkpoints state" in verbose
    assert f"{CHECKPOINTS}: 1 of 1 checkpoints signed by the platform seal" in verbose


@pytest.mark.parametrize("victim", ["documents/mediation_agreement-v1.pdf", "case.json", "index.pdf",
                                    "audit.jsonl", "evidence"])
def test_a_changed_byte_in_any_file_is_named(app, bundle_file, runner, tmp_path, victim):
    def change(name, data):
        if name == victim or (victim == "evidence" and name.startswith("evidence/")):
            data = bytearray(data)
            data[len(data) // 2] ^= 0x01
            return bytes(data)
        return data
    code, output = check(runner, rewrite(bundle_file, tmp_path / "changed.zip", change))
    assert code == 1 and "content does not match the manifest" in output, output
    assert (victim if victim != "evidence" else "evidence/") in output


def test_a_removed_or_added_file_is_named(app, bundle_file, runner, tmp_path):
    code, output = check(runner, rewrite(bundle_file, tmp_path / "less.zip",
                                         lambda n, d: None if n == "index.pdf" else d))
    assert code == 1 and "index.pdf: listed in the manifest but missing" in output
    added = rewrite(bundle_file, tmp_path / "more.zip", lambda n, d: d)
    with zipfile.ZipFile(added, "a") as zf:
        zf.writestr("evidence/extra.jpg", JPEG)
    code, output = check(runner, added)
    assert code == 1 and "evidence/extra.jpg: in the bundle but not in the manifest" in output


def _edit_audit(bundle, tmp_path, edit, name):
    """Change audit.jsonl and update the manifest's hash of it too — as a forger would — so only
    the chain (and the manifest's signature) can tell."""
    import hashlib
    with zipfile.ZipFile(bundle) as zf:
        lines = zf.read("audit.jsonl").splitlines(keepends=True)
        manifest = json.loads(zf.read(MANIFEST))
    new_audit = b"".join(edit(lines))
    for f in manifest["files"]:
        if f["name"] == "audit.jsonl":
            f["sha256"], f["size"] = hashlib.sha256(new_audit).hexdigest(), len(new_audit)
    new_manifest = json.dumps(manifest).encode()
    return rewrite(bundle, tmp_path / name, lambda n, d: new_audit if n == "audit.jsonl"
                   else new_manifest if n == MANIFEST else d)


def test_a_removed_or_reordered_audit_line_is_named(app, bundle_file, runner, tmp_path):
    code, output = check(runner, _edit_audit(bundle_file, tmp_path, lambda lines: lines[:3] + lines[4:], "removed.zip"))
    assert code == 1 and "audit.jsonl: case:" in output and "entry 4 is missing" in output, output
    assert "the manifest was changed after it was signed" in output
    swapped = lambda lines: lines[:2] + [lines[3], lines[2]] + lines[4:]  # noqa: E731
    code, output = check(runner, _edit_audit(bundle_file, tmp_path, swapped, "swapped.zip"))
    assert code == 1 and "entry 3 is missing (found 4)" in output, output


def test_an_edited_manifest_breaks_its_signature(app, bundle_file, runner, tmp_path):
    def change(name, data):
        if name == MANIFEST:
            return data.replace(b'"settled"', b'"withdrawn"')
        return data
    code, output = check(runner, rewrite(bundle_file, tmp_path / "manifest.zip", change))
    assert code == 1 and "manifest.json.p7s: the manifest was changed after it was signed" in output


def test_not_a_bundle(app, runner, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    code, output = check(runner, junk)
    assert code == 1 and "not a readable ZIP file" in output
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    code, output = check(runner, empty)
    assert code == 1 and "manifest.json or manifest.json.p7s is missing" in output


def test_export_refuses_a_file_changed_on_disk(app, client, login, mediation, runner, tmp_path):
    from odr import uploads
    m = mediation
    evidence = room.add_evidence(m.case, m.claimant, io.BytesIO(JPEG + b"own bytes"), "ceiling.jpg", Visibility.all)
    db.session.commit()
    uploads.path_for(evidence.sha256).write_bytes(JPEG + b"tampered")
    out = tmp_path / "bundle.zip"
    result = runner.invoke(args=["export", m.case.number, "-o", str(out)])
    assert result.exit_code != 0 and "changed on disk" in result.output
    assert not out.exists() and not (tmp_path / "bundle.zip.part").exists()
    assert runner.invoke(args=["export", "ODR-1999-000000", "-o", str(out)]).exit_code != 0


def test_the_manifest_signature_is_what_pyhanko_would_make(app):
    """The export builds the manifest's CMS itself (pyHanko's signers are too heavy to load for one
    signature): apart from the signature value, it is byte for byte what pyHanko's generic signer
    makes with the seal, and the signature value is the seal's over the signed attributes."""
    from asn1crypto import cms
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from odr.court.bundle import sign_manifest
    from odr.documents.ca import check_signature, platform_ca
    from odr.documents.pades import run_sync

    manifest = b'{\n  "format": "odr-court-bundle"\n}\n'
    ca = platform_ca()
    ours = cms.ContentInfo.load(sign_manifest(manifest))
    pyhanko_signer = signers.SimpleSigner(signing_cert=ca.seal.asn1_cert, signing_key=ca.seal.asn1_key,
                                          cert_registry=SimpleCertificateStore.from_certs([ca.ca.asn1_cert]))
    theirs = run_sync(pyhanko_signer.async_sign_general_data(io.BytesIO(manifest), "sha256", detached=True))
    ours_signer = ours["content"]["signer_infos"][0]
    check_signature(ca.seal.cert, ours_signer["signature"].native, ours_signer["signed_attrs"].untag().dump(force=True))
    theirs["content"]["signer_infos"][0]["signature"] = ours_signer["signature"].native
    assert ours.dump() == theirs.dump(force=True)


def _tamper(sql, **params):
    import sqlalchemy as sa

    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)
    db.session.expire_all()


@pytest.mark.parametrize("tampering", ["cut", "rewritten"])
def test_a_chain_cut_or_rewritten_after_its_checkpoint_is_named(app, bundle, runner, mediation, tmp_path, tampering):
    """Whoever holds the database changes the chain so that it verifies by itself; the next bundle
    carries the chain as it is now and the checkpoints signed before, and names what happened."""
    from tests.documents.test_checkpoints import _rewrite_from

    case = mediation.case
    count = len(audit.case_events(case))
    if tampering == "cut":
        _tamper("DELETE FROM event WHERE chain = :chain AND seq > 3", chain=audit.chain_name(case))
    else:
        _rewrite_from(case, 3, {"forged": "a different entry"})
    assert audit.verify_chain(audit.chain_name(case)) is None
    path = tmp_path / "again.zip"
    assert runner.invoke(args=["export", case.number, "-o", str(path)]).exit_code == 0
    code, output = check(runner, path)
    assert code == 1, output
    assert "manifest.json.p7s" not in output  # the platform signed this bundle: only the chain tells
    if tampering == "cut":
        assert f"audit.jsonl: case:{case.id} entry 4: is missing: the checkpoint " in output
        assert f"counted {count} entries, the chain has 3 (its end was cut off)" in output
    else:
        assert f"audit.jsonl: case:{case.id} entry {count}: its hash is not the one the checkpoint " in output


def _replace(bundle, tmp_path, name, data, out):
    """Put ``data`` in the bundle as ``name`` and the manifest's hash of it too — as a forger would."""
    import hashlib
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    for f in manifest["files"]:
        if f["name"] == name:
            f["sha256"], f["size"] = hashlib.sha256(data).hexdigest(), len(data)
    new_manifest = json.dumps(manifest).encode()
    return rewrite(bundle, tmp_path / out, lambda n, d: data if n == name else new_manifest if n == MANIFEST else d)


def test_a_forged_or_missing_checkpoint_is_named(app, bundle_file, runner, tmp_path):
    with zipfile.ZipFile(bundle_file) as zf:
        signed = json.loads(zf.read(CHECKPOINTS))
    statement = signed["checkpoints"][0]["checkpoint"]
    statement["heads"] += 1  # a forger's statement, with the platform's signature of another one
    code, output = check(runner, _replace(bundle_file, tmp_path, CHECKPOINTS, json.dumps(signed).encode(), "forged.zip"))
    assert code == 1 and f"{CHECKPOINTS}: checkpoint 1: its signature does not match it" in output, output
    code, output = check(runner, rewrite(bundle_file, tmp_path / "none.zip", lambda n, d: None if n == CHECKPOINTS else d))
    assert code == 1 and f"{CHECKPOINTS}: listed in the manifest but missing" in output, output


def test_a_manifest_signed_with_a_signers_key_is_refused(app, bundle_file, runner, tmp_path):
    """Every person who signs a document holds, for minutes, a key the platform CA certified: such a
    key must not vouch for a bundle_file's manifest, only the platform seal may (found by review: the
    check asked only that the CA certified the signer)."""
    from tests.documents.test_checkpoints import _signed_by, _signer_pair

    with zipfile.ZipFile(bundle_file) as zf:
        manifest = zf.read(MANIFEST).replace(b'"settled"', b'"withdrawn"')
    forged = _signed_by(_signer_pair(), manifest)

    def change(name, data):
        return {MANIFEST: manifest, SIGNATURE: forged}.get(name, data)

    code, output = check(runner, rewrite(bundle_file, tmp_path / "forged.zip", change))
    assert code == 1
    assert "manifest.json.p7s: the manifest's signer is not the platform seal certified by the platform CA" in output
