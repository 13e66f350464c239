"""Documents waiting for a person's signature, on their to-do list (``odr.cases.todo``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from odr.cases.models import Case
from odr.cases.todo import Todo
from odr.documents.operations import ON_SITE_KINDS
from odr.documents.models import DocumentSigner, SignedDocument, SignerStatus, SigningStatus
from odr.extensions import db


def steps(case: Case, user) -> list[Todo]:
    """Each version of a document of ``case`` that ``user`` must sign and has not signed yet."""
    documents = db.session.scalars(
        sa.select(SignedDocument).join(DocumentSigner)
        .where(SignedDocument.case_id == case.id, SignedDocument.status == SigningStatus.signing,
               DocumentSigner.user_id == user.id, DocumentSigner.status != SignerStatus.signed,
               SignedDocument.kind.not_in(ON_SITE_KINDS or {""}))
        .order_by(SignedDocument.id))
    return [Todo("sign_document", str(_l("Sign: %(title)s", title=d.title)),
                 url_for("documents.view", doc_id=d.id), case=case, rank=15) for d in documents]
