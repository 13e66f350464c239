"""``odr verify-bundle`` on ZIPs that are damaged or made to hurt: every problem is a PROBLEM
line and exit status 1, never a traceback; a ZIP bomb or a member lying about its size is
refused from the central directory before anything is decompressed."""

from __future__ import annotations

import hashlib
import json
import random
import struct
import zipfile
import zlib

import pytest

from odr.court.bundle import MANIFEST, SIGNATURE
from odr.court.verify_bundle import MAX_MANIFEST_BYTES, verify_bundle
from odr.documents.ca import platform_ca
from tests.court.bundles import check, rewrite


def member_data(path, name) -> tuple[int, int]:
    """Where a member's (compressed) bytes lie in the ZIP file."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    raw = path.read_bytes()
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    return start, start + info.compress_size


def changed_copy(path, out, positions, rng):
    data = bytearray(path.read_bytes())
    for at in positions:
        data[at] ^= 1 << rng.randrange(8)
    out.write_bytes(bytes(data))
    return out


@pytest.fixture
def bundle(bundle_file):
    """These tests change the file and read it back only: a copy of the bundle kept per process."""
    return bundle_file


def assert_named(code, output):
    assert code == 1 and "PROBLEM" in output and "RESULT: FAILED" in output, output
    assert "Traceback" not in output


@pytest.mark.parametrize("victim", [SIGNATURE, MANIFEST, "audit.jsonl", "case.json"])
def test_a_damaged_member_is_named(app, bundle, runner, tmp_path, victim):
    start, end = member_data(bundle, victim)
    rng = random.Random(victim)
    # Flips all through the member's bytes: CRC errors, deflate data that cannot be inflated
    # ("invalid distance too far back", "invalid block type" …), streams ending early.
    for i in range(12):
        copy = changed_copy(bundle, tmp_path / f"{i}.zip", [rng.randrange(start, end) for _ in range(1 + i % 3)], rng)
        code, output = check(runner, copy)
        assert_named(code, output)
        assert f"{victim}:" in output, output


def test_random_damage_anywhere_is_named(app, bundle, runner, tmp_path):
    rng = random.Random(1206)
    size = bundle.stat().st_size
    for i in range(25):
        copy = changed_copy(bundle, tmp_path / f"{i}.zip", [rng.randrange(size) for _ in range(1 + i % 4)], rng)
        assert_named(*check(runner, copy))
    cut = tmp_path / "cut.zip"
    cut.write_bytes(bundle.read_bytes()[: size // 2])
    assert_named(*check(runner, cut))


def set_declared_size(path, name, size: int):
    """Make the central directory declare ``size`` uncompressed bytes for ``name`` (ZIP64 not used)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")  # the first central directory entry
    while data[at + 46:at + 46 + struct.unpack("<H", data[at + 28:at + 30])[0]] != name.encode():
        at = data.index(b"PK\x01\x02", at + 4)
    data[at + 24:at + 28] = struct.pack("<I", size)
    path.write_bytes(bytes(data))
    return path


def zip_of(path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_sizes_no_member_can_hold_are_refused_unread(app, bundle, runner, tmp_path):
    lying = rewrite(bundle, tmp_path / "lying.zip", lambda n, d: d)
    set_declared_size(lying, "audit.jsonl", 4_000_000_000)
    code, output = check(runner, lying)
    assert_named(code, output)
    assert "audit.jsonl: declares 4000000000 bytes, more than its" in output
    assert "SHA-256" not in output and "p7s" not in output  # nothing was read
    stored = rewrite(bundle, tmp_path / "stored.zip", lambda n, d: d)
    set_declared_size(stored, "index.pdf", 10)
    assert "index.pdf: declares 10 bytes but holds" in check(runner, stored)[1]


def test_zip_bombs_are_refused_before_anything_is_decompressed(app, tmp_path):
    roots = [platform_ca().ca.asn1_cert]
    zeros = b"\0" * (50 * 1024 * 1024)  # deflates about 1,000:1, as much as deflate can
    bomb = zip_of(tmp_path / "bomb.zip", {MANIFEST: b"{}", SIGNATURE: b"", **{f"z{i}": zeros for i in range(4)}})
    report = verify_bundle(bomb, roots, max_total_bytes=100 * 1024 * 1024)
    assert report.problems == [f"the ZIP declares {4 * len(zeros) + 2} bytes in all (a bundle holds at most 104857600)"]
    many = zip_of(tmp_path / "many.zip", {f"f{i}": b"x" for i in range(30)})
    assert verify_bundle(many, roots, max_members=20).problems == ["the ZIP has 30 members (a bundle has at most 20)"]
    bz = zip_of(tmp_path / "bzip2.zip", {MANIFEST: b"{}", SIGNATURE: b""}, method=zipfile.ZIP_BZIP2)
    assert verify_bundle(bz, roots).problems == [
        f"{MANIFEST}: compressed by a method bundles do not use (12)", f"{SIGNATURE}: compressed by a method bundles do not use (12)"]


def forged(bundle, tmp_path, name, **members: bytes):
    """The bundle with members replaced and a manifest listing their new hashes (a forger's
    manifest: its signature no longer matches, and everything else is still checked)."""
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    for f in manifest["files"]:
        if f["name"] in members:
            f["sha256"], f["size"] = hashlib.sha256(members[f["name"]]).hexdigest(), len(members[f["name"]])
    new_manifest = json.dumps(manifest).encode()
    return rewrite(bundle, tmp_path / name, lambda n, d: members.get(n, new_manifest if n == MANIFEST else d))


@pytest.mark.parametrize("audit, problem", [
    (b"\xff\xfe not utf-8\n", "audit.jsonl line 1: not an audit entry"),
    (b"[" * 5000 + b"]" * 5000 + b"\n", "audit.jsonl line 1: not an audit entry (nested more than 32 levels deep)"),
    (b'{"chain": "x", "seq": NaN}\n', "audit.jsonl: "),
    (b"x" * (1024**2 + 10), "audit.jsonl line 1: not an audit entry (longer than"),
])
def test_a_forged_audit_trail_is_named(app, bundle, runner, tmp_path, audit, problem):
    code, output = check(runner, forged(bundle, tmp_path, "audit.zip", **{"audit.jsonl": audit}))
    assert_named(code, output)
    assert problem in output and "the manifest was changed after it was signed" in output, output


@pytest.mark.parametrize("manifest, problem", [
    (b"[" * 5000 + b"]" * 5000, "manifest.json: not a bundle manifest (nested more than 32 levels deep)"),
    (b'{"format": "odr-court-bundle", "files": [{"name": ["x"]}, 7]}', "manifest.json: not a bundle manifest"),
    (b'{"format": "odr-court-bundle", "files": [{"name": 7, "sha256": 1}]}', "7: listed in the manifest but missing"),
    (b"\xff\xfe", "manifest.json: not a bundle manifest"),
    (b" " * (MAX_MANIFEST_BYTES + 1), f"manifest.json: {MAX_MANIFEST_BYTES + 1} bytes (at most {MAX_MANIFEST_BYTES})"),
])
def test_a_forged_manifest_is_named(app, bundle, runner, tmp_path, manifest, problem):
    copy = rewrite(bundle, tmp_path / "manifest.zip", lambda n, d: manifest if n == MANIFEST else d)
    code, output = check(runner, copy)
    assert_named(code, output)
    assert problem in output, output


def test_a_signature_that_is_not_cms_is_named(app, bundle, runner, tmp_path):
    for i, junk in enumerate([b"", b"\x30\x80" + b"\x30" * 5000, zlib.compress(b"x" * 100), b"\x30\x82\xff\xff"]):
        copy = rewrite(bundle, tmp_path / f"p7s{i}.zip", lambda n, d, j=junk: j if n == SIGNATURE else d)
        code, output = check(runner, copy)
        assert_named(code, output)
        assert "manifest.json.p7s: not a readable CMS signature" in output, output
