"""The mediation stage of a case: one blueprint, its routes in a module per part.

``assignment_views`` (directory, roster, offers, change requests), ``session_views``
(slots, invitations, attendance), ``room_views`` (messages, evidence) and
``outcome_views`` (proposals, agreement, record of undisputed facts) add their routes to
``bp`` when imported below.
"""

from odr.cases.models import Stage
from odr.cases.stages import stage_blueprint

bp = stage_blueprint("mediate", Stage.mediation, "/mediate")

from odr.mediate import assignment_views, outcome_views, room_views, session_views  # noqa: E402,F401
