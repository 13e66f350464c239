"""Court bundles for the tests: a settled case exported with its evidence, agreement and signed
checkpoint (the ``bundle`` fixture, in ``conftest.py``), and the tools to check and damage one."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from odr.cases.evidence import Visibility
from odr.documents import checkpoints
from odr.extensions import db
from odr.mediate.room import operations as room
from tests.documents.signing import approved_agreement, sign_all

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


def export_settled_case(app, client, login, mediation, runner, tmp_path):
    m = mediation
    room.add_evidence(m.case, m.claimant, io.BytesIO(JPEG), "ceiling.jpg", Visibility.all, "The leaking ceiling")
    room.add_evidence(m.case, m.respondent, io.BytesIO(JPEG + b"x"), "private.jpg", Visibility.mediator, "For the mediator")
    db.session.commit()
    sign_all(client, login, m, approved_agreement(m))
    sign_checkpoint()
    path = tmp_path / "bundle.zip"
    result = runner.invoke(args=["export", m.case.number, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def sign_checkpoint():
    from datetime import timedelta

    from odr.timeutil import utcnow

    checkpoints.checkpoint_moved_chains(utcnow() + timedelta(minutes=1), force=True)
    db.session.commit()


def check(runner, path):
    result = runner.invoke(args=["verify-bundle", str(path)])
    return result.exit_code, result.output


def rewrite(src: Path, dst: Path, change):
    """Copy the ZIP entry by entry; ``change(name, data)`` returns new data, or None to drop the entry."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
    return dst
