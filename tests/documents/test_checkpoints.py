"""Signed checkpoints of the audit chains: made periodically, checked by ``odr audit verify``.

Whoever holds the database can cut off a chain's end, or change an entry and compute every later
hash again — the chain alone verifies either way. Against a checkpoint signed before, both are
named, whether the checkpoint is in the database or in a witness's file given on the command line
(also when the database's copies of the checkpoints are gone). A checkpoint whose signature is
not the platform seal's is refused: changed, made by a key the CA certified for one person's
signature, by another CA, or unreadable; so are stored leaves that no longer lead to the signed root.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from odr.cases import audit
from odr.cases.models import Event, Stage
from odr.documents import checkpoints
from odr.documents.ca import KeyPair, platform_ca
from odr.documents.models import AuditCheckpoint, CheckpointHead, CheckpointReason
from odr.extensions import db


def _sql(sql, **params):
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)
    db.session.expire_all()


def _verify(runner, *args):
    result = runner.invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


def _rewrite_from(case, seq, payload):
    """Change entry ``seq`` of the case's chain and compute its hash and every later one again, as
    someone holding the database could."""
    prev = None
    for ev in audit.case_events(case):
        if ev.seq < seq:
            prev = ev.hash
            continue
        copy = Event(**{c: getattr(ev, c) for c in ("chain", "seq", "case_id", "actor_id", "actor", "action",
                                                   "payload", "created_at", "hash_version")}, prev_hash=prev)
        if ev.seq == seq:
            copy.payload = payload
        prev = audit.compute_hash(copy)
        _sql("UPDATE event SET payload = :p, prev_hash = :prev, hash = :h WHERE id = :id",
             p=json.dumps(copy.payload), prev=copy.prev_hash, h=prev, id=ev.id)


@pytest.fixture
def case(make_case, clock):
    case = make_case(stages=(Stage.assessment, Stage.mediation))
    db.session.commit()
    return case


def _periodic(clock, minutes=2):
    clock.advance(minutes=minutes)
    heads = checkpoints.sign_periodic_checkpoints(clock.now)
    db.session.commit()
    return heads


# --- the Merkle tree ---------------------------------------------------------------------------

def test_the_tree_is_rfc_9162s():
    """The test vectors of RFC 6962's reference implementation (certificate-transparency)."""
    leaves = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
              b"\x50\x51\x52\x53\x54\x55\x56\x57", bytes(range(0x60, 0x70))]
    hashes = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    assert checkpoints.merkle_root(hashes).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert checkpoints.merkle_root(hashes[:3]).hex() == "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"


def _rfc_root(hashes):
    """MTH as RFC 9162 defines it: split at the largest power of two below the size."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _rfc_root(hashes[:k]) + _rfc_root(hashes[k:])).digest()


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 70), data=st.data())
def test_every_leaf_proves_its_place_and_no_other(size, data):
    hashes = [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(size)]
    root = checkpoints.merkle_root(hashes)
    assert root == _rfc_root(hashes)
    index = data.draw(st.integers(0, size - 1))
    path = checkpoints.inclusion_proof(hashes, index)
    assert checkpoints.root_from_proof(hashes[index], index, size, path) == root
    other = data.draw(st.integers(0, size - 1))
    if other != index:
        assert checkpoints.root_from_proof(hashes[index], other, size, path) != root
        assert checkpoints.root_from_proof(hashes[other], index, size, path) != root
    assert checkpoints.root_from_proof(hashes[index], size, size, path) is None


# --- when checkpoints are made -----------------------------------------------------------------

def test_the_first_periodic_checkpoint_signs_every_chain_then_only_those_that_moved(app, make_case, clock):
    first, second = make_case(), make_case(stages=(Stage.assessment,))
    db.session.commit()
    assert checkpoints.sign_periodic_checkpoints(clock.now) == 0  # too young: a transaction may still commit
    assert _periodic(clock) == 2
    checkpoint = db.session.scalar(sa.select(AuditCheckpoint))
    statement = json.loads(checkpoint.statement)
    assert statement == {"format": "odr-audit-checkpoint", "format_version": "1.0", "created_at": statement["created_at"],
                         "reason": "periodic", "heads": 2, "tree": "rfc9162-sha256", "root": checkpoint.root}
    assert checkpoint.sha256 == hashlib.sha256(checkpoint.statement.encode()).hexdigest()
    heads = {h.chain: h for h in db.session.scalars(sa.select(CheckpointHead))}
    assert heads[audit.chain_name(second)].seq == 2 and heads[audit.chain_name(second)].case_number == second.number
    assert heads[audit.chain_name(second)].head == audit.case_events(second)[-1].hash

    assert _periodic(clock) == 0  # nothing moved
    audit.record(first, None, "note", {"text": "moved"})
    db.session.commit()
    assert _periodic(clock, minutes=30) == 0  # not yet an interval since the last one
    assert _periodic(clock, minutes=31) == 1
    newest = db.session.scalars(sa.select(CheckpointHead).order_by(CheckpointHead.id.desc())).first()
    assert (newest.chain, newest.seq) == (audit.chain_name(first), 2)
    assert _periodic(clock, minutes=61) == 0


def test_a_backlog_is_signed_over_several_runs(app, make_case, clock):
    app.config.update(AUDIT_CHECKPOINT_MAX_HEADS=2, AUDIT_CHECKPOINT_MAX_PER_RUN=1)
    for _ in range(3):
        make_case()
    db.session.commit()
    assert _periodic(clock) == 2
    assert _periodic(clock) == 1  # left behind: taken up without waiting for the interval
    assert _periodic(clock) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditCheckpoint.id))) == 2


def test_the_command_signs_now(app, case, runner, clock):
    clock.advance(minutes=1)
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0 and "1 chain head(s) signed" in result.output
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0 and "No chain moved" in result.output


# --- verification --------------------------------------------------------------------------------

def test_an_intact_trail_verifies_against_its_checkpoints(app, case, runner, clock):
    _periodic(clock)
    code, output = _verify(runner)
    assert code == 0 and "1 chain(s) checked against 1 checkpoint(s), 0 broken" in output, output


def test_a_tail_cut_off_after_a_checkpoint_is_named(app, case, runner, clock):
    _periodic(clock)
    assert _verify(runner)[0] == 0
    _sql("DELETE FROM event WHERE chain = :chain AND seq > 1", chain=audit.chain_name(case))
    assert audit.verify_chain(audit.chain_name(case)) is None  # what the chain alone cannot tell
    code, output = _verify(runner, case.number)
    assert code == 1, output
    assert f"BROKEN {case.number} entry 2: is missing: the checkpoint " in output
    assert "counted 3 entries, the chain has 1 (its end was cut off)" in output


def test_a_chain_changed_and_hashed_again_after_a_checkpoint_is_named(app, case, runner, clock):
    _periodic(clock)
    _rewrite_from(case, 2, {"from": "consultation", "to": "arbitration"})
    assert audit.verify_chain(audit.chain_name(case)) is None  # what the chain alone cannot tell
    code, output = _verify(runner)
    assert code == 1 and f"BROKEN {case.number} entry 3: its hash is not the one the checkpoint " in output, output
    assert "changed up to here and its hashes computed again" in output


def test_a_witness_file_names_what_the_database_no_longer_shows(app, case, client, login, runner, clock, tmp_path):
    _periodic(clock)
    login(client, case.claimant.user)
    mine = tmp_path / "case-checkpoint.json"
    mine.write_bytes(client.get(f"/cases/{case.number}/checkpoint").data)
    public = tmp_path / "public.json"
    public.write_bytes(client.get(f"/checkpoints/{db.session.scalar(sa.select(AuditCheckpoint.id))}").data)
    # Whoever holds the database cuts the chain, and removes the checkpoints it kept.
    _sql("DELETE FROM event WHERE chain = :chain AND seq > 2", chain=audit.chain_name(case))
    _sql("DELETE FROM audit_checkpoint_head")
    _sql("DELETE FROM audit_checkpoint")
    assert _verify(runner)[0] == 0  # nothing left in the database to compare with
    code, output = _verify(runner, "--checkpoint", str(mine))
    assert code == 1 and f"BROKEN {case.number} entry 3: is missing: the checkpoint " in output, output
    assert "(case-checkpoint.json) counted 3 entries" in output
    code, output = _verify(runner, case.number, "--checkpoint", str(public))
    assert code == 1 and "(public.json) is not in the database: it was removed" in output, output


def test_a_public_checkpoint_given_vouches_for_the_databases_heads(app, case, client, runner, clock, tmp_path):
    _periodic(clock)
    public = tmp_path / "public.json"
    public.write_bytes(client.get(f"/checkpoints/{db.session.scalar(sa.select(AuditCheckpoint.sha256))}").data)
    code, output = _verify(runner, "--checkpoint", str(public))
    assert code == 0 and "against 2 checkpoint(s)" in output, output
    _rewrite_from(case, 3, {"from": "assessment", "to": "arbitration"})
    # ... and someone makes the stored head agree with the rewritten chain.
    _sql("UPDATE audit_checkpoint_head SET head = :h", h=audit.case_events(case)[-1].hash)
    code, output = _verify(runner, "--checkpoint", str(public))
    assert code == 1 and "the database's copy has chain heads that do not lead to its signed root" in output, output
    assert "in the database: has chain heads that do not lead to its signed root" in output


def _document(client, login, case):
    login(client, case.claimant.user)
    return client.get(f"/cases/{case.number}/checkpoint").get_json()


def _forged(document, statement=None, signature: bytes | None = None):
    forged = dict(document)
    if statement is not None:
        forged["checkpoint"] = statement
    if signature is not None:
        forged["signature"] = base64.b64encode(signature).decode()
    return forged


_sign_detached = checkpoints.cms.sign_detached


def _signed_by(pair: KeyPair, data: bytes) -> bytes:
    """A detached signature made like the seal's, by another key and certificate."""
    ca = platform_ca()
    seal, ca.seal = ca.seal, pair
    try:
        return _sign_detached(data)
    finally:
        ca.seal = seal



def _signer_pair(name="ODR Platform Seal"):
    """A key the platform CA certified for one person's signature (as every signer gets), named like the seal."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    cert = platform_ca().issue_signer(spki, name=name, user_ref="odr-user-1", case_number="ODR-2026-000001",
                                      minutes=30)
    return KeyPair(key, cert)


def _other_ca_pair():
    from odr.documents.ca import PlatformCA, _make_ca, _make_seal

    other = PlatformCA(_make_ca(), None)
    return _make_seal(other)


@pytest.mark.parametrize("forgery, problem", [
    ("statement", "its signature does not match it"),
    ("signer", "it is not signed by the platform seal certified by the platform CA"),
    ("other_ca", "it is not signed by the platform seal certified by the platform CA"),
    ("garbage", "its signature cannot be read"),
    ("proof", "its chain head is not in the signed statement"),
])
def test_a_forged_checkpoint_is_refused(app, case, client, login, runner, clock, tmp_path, forgery, problem):
    _periodic(clock)
    document = _document(client, login, case)
    # The forger's checkpoint vouches for a chain of 2 entries with another head.
    leaf = {**document["chain"], "seq": 2, "head": "ab" * 32}
    statement = {**document["checkpoint"], "root": checkpoints.leaf_hash(leaf).hex()}
    data = audit.canonical_json(statement)
    forged = {
        "statement": _forged(document, statement={**document["checkpoint"], "heads": 2}),
        "signer": _forged({**document, "chain": leaf}, statement, _signed_by(_signer_pair(), data)),
        "other_ca": _forged({**document, "chain": leaf}, statement, _signed_by(_other_ca_pair(), data)),
        "garbage": _forged(document, signature=b"\x30\x03\x02\x01\x01"),
        "proof": {**document, "chain": leaf},
    }[forgery]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    code, output = _verify(runner, "--checkpoint", str(path))
    assert code == 1 and f"BROKEN checkpoint in forged.json: {problem}" in output, output


def test_a_forged_checkpoint_in_the_database_is_refused(app, case, runner, clock, monkeypatch):
    """Someone rewrites the chain and signs a checkpoint of it with the key the CA certified for
    their signature of a document; the verification does not take it for the seal's."""
    _rewrite_from(case, 2, {"from": "consultation", "to": "arbitration"})
    clock.advance(minutes=2)
    pair = _signer_pair()
    monkeypatch.setattr(checkpoints.cms, "sign_detached", lambda data, timestamper=None: _signed_by(pair, data))
    checkpoints.sign_periodic_checkpoints(clock.now)
    monkeypatch.undo()
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1 and f"BROKEN {case.number}: the checkpoint " in output, output
    assert "in the database: it is not signed by the platform seal" in output
    _sql("UPDATE audit_checkpoint SET signature = :s", s=b"not a signature")
    assert "in the database: its signature cannot be read" in _verify(runner)[1]


def test_who_gets_a_case_checkpoint_and_what_anyone_gets(app, case, make_case, client, login, make_user, clock):
    from pathlib import Path

    import jsonschema
    import yaml

    login(client, case.claimant.user)
    resp = client.get(f"/cases/{case.number}/checkpoint")
    assert resp.status_code == 404 and resp.content_type == "application/problem+json"
    assert "No checkpoint of this case's audit trail has been signed yet" in resp.get_json()["detail"]
    app.config["AUDIT_CHECKPOINT_PAGE"] = 1
    make_case()
    db.session.commit()
    _periodic(clock)
    audit.record(case, None, "note", {})
    db.session.commit()
    _periodic(clock, minutes=61)
    page = client.get(f"/cases/{case.number}")
    assert "下载已签名的检查点" in page.get_data(as_text=True)  # the page in the default language
    mine = client.get(f"/cases/{case.number}/checkpoint")
    assert mine.status_code == 200 and "attachment" in mine.headers["Content-Disposition"]
    document = mine.get_json()
    assert document["chain"] == {"chain": audit.chain_name(case), "case": case.number, "seq": 4,
                                 "head": audit.case_events(case)[-1].hash}
    assert checkpoints.check_chain_document(document, [platform_ca().ca.asn1_cert])[1].seq == 4
    login(client, make_user())
    assert client.get(f"/cases/{case.number}/checkpoint").status_code == 404  # not even that it exists

    spec = yaml.safe_load((Path(__file__).parents[2] / "docs" / "openapi.yaml").read_text())
    first = client.get("/checkpoints").get_json()
    assert len(first["items"]) == 1 and first["next"].endswith(f"/checkpoints?after={first['items'][0]['id']}")
    second = client.get(first["next"]).get_json()
    assert second["next"] is None and second["items"][0]["id"] > first["items"][0]["id"]
    public = second["items"][0]
    assert "chain" not in public and public["checkpoint"]["heads"] == 1  # names no case
    jsonschema.validate(public, {**spec, "$ref": "#/components/schemas/SignedCheckpoint"})
    assert client.get(f"/checkpoints/{public['sha256']}").get_json() == public
    assert client.get(f"/checkpoints/{public['id']}").get_json() == public
    for bad in ("/checkpoints/99999", "/checkpoints/" + "0" * 64, "/checkpoints/nonsense"):
        resp = client.get(bad)
        assert resp.status_code == 404 and resp.get_json()["status"] == 404
    resp = client.get("/checkpoints?after=-1")
    assert resp.status_code == 422 and "after must be a checkpoint id" in resp.get_json()["detail"]


def test_a_file_that_is_no_checkpoint_is_named_not_raised(app, case, runner, clock, tmp_path):
    _periodic(clock)
    code, output = _verify(runner, "--checkpoint", str(tmp_path / "missing.json"))
    assert code == 1 and "Cannot read" in output and "missing.json" in output
    (tmp_path / "junk.json").write_text("{not json")
    code, output = _verify(runner, "--checkpoint", str(tmp_path / "junk.json"))
    assert code == 1 and "junk.json: not JSON" in output
    for name, data in [("number.json", 5), ("list.json", [{"chain": 1}]), ("leafless.json", {"signature": 5}),
                       ("bad-leaf.json", {"checkpoint": {}, "chain": {"seq": True}, "signature": "AA=="})]:
        (tmp_path / name).write_text(json.dumps(data))
        code, output = _verify(runner, "--checkpoint", str(tmp_path / name))
        assert code == 1 and f"BROKEN checkpoint in {name}: " in output and "Traceback" not in output, output


def test_a_checkpoint_is_timestamped_when_an_authority_is_configured(app, make_case, runner, tsa_url):
    """(On the real clock: the timestamp is checked at the time it states.)"""
    from odr.documents.cms import check_detached
    from odr.timeutil import utcnow

    make_case()
    db.session.commit()
    assert checkpoints.checkpoint_moved_chains(utcnow() + timedelta(minutes=1)) == 1
    db.session.commit()
    checkpoint = db.session.scalar(sa.select(AuditCheckpoint))
    assert checkpoint.timestamped_at is not None
    checked = check_detached(checkpoint.statement.encode(), checkpoint.signature, [platform_ca().ca.asn1_cert])
    assert checked.problem is None and abs(checked.timestamp - checkpoint.timestamped_at) < timedelta(seconds=1)
    assert _verify(runner)[0] == 0


def test_an_unreachable_authority_makes_no_checkpoint(app, case, runner, clock):
    from tests.documents.test_timestamps import _closed_port

    app.config["SIGNING_TSA_URL"] = f"http://127.0.0.1:{_closed_port()}/tsa"
    try:
        clock.advance(minutes=2)
        result = runner.invoke(args=["audit", "checkpoint"])
    finally:
        app.config["SIGNING_TSA_URL"] = None
    assert result.exit_code == 1 and "The timestamp service did not answer" in result.output, result.output
    assert db.session.scalar(sa.select(sa.func.count(AuditCheckpoint.id))) == 0


def test_checkpoints_are_never_changed_through_the_orm(app, case, clock):
    _periodic(clock)
    checkpoint = db.session.scalar(sa.select(AuditCheckpoint))
    checkpoint.root = "0" * 64
    with pytest.raises(audit.AuditTamperingError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(sa.select(CheckpointHead)))
    with pytest.raises(audit.AuditTamperingError):
        db.session.flush()
    db.session.rollback()
    assert checkpoint.reason is CheckpointReason.periodic
