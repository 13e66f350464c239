"""The mediation stage's blueprint. Each part adds its routes in its own ``views`` module
(``assignment``: directory, roster, offers, change requests; ``sessions``: times, invitations,
attendance, the video room; ``room``: messages, evidence; ``outcomes``: proposals, the agreement or
record of undisputed facts), all plugged in by :func:`odr.mediate.init_app`.
"""

from odr.cases.models import Stage
from odr.cases.stages import stage_blueprint

bp = stage_blueprint("mediate", Stage.mediation, "/mediate")
