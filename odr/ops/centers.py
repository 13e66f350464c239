"""Which center an organisation reports to (its managers then see the organisation's figures)."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from odr.cases import audit
from odr.cases.models import Organization, OrgType
from odr.refusal import Refused

logger = logging.getLogger(__name__)


class CenterError(Refused):
    """A center membership that cannot be: ``reason`` says why."""


def set_center(organization: Organization, center: Organization | None, actor=None) -> None:
    """Make ``organization`` report to ``center`` (``None``: to no center)."""
    if center is not None:
        if center.id == organization.id:
            raise CenterError(_l("An organisation cannot report to itself."))
        if center.center_id is not None:
            raise CenterError(_l("A center cannot itself report to another center."))
        if OrgType.court in (center.type, organization.type):
            raise CenterError(_l("Courts are not part of a center."))
    before = organization.center_id
    organization.center_id = center.id if center is not None else None
    audit.record(None, actor, "center_set", {"organization": organization.id, "from": before,
                                             "to": organization.center_id})
    logger.info("Organisation %s now reports to center %s", organization, center)
