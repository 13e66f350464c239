"""Video rooms of a case, used by mediation sessions and arbitration hearings."""

from odr.cases.models import Stage
from odr.cases.stages import stage_blueprint

bp = stage_blueprint("video", Stage.mediation, "/video")
