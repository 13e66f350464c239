"""The assessment stage of a case."""

from odr.cases.models import Stage
from odr.cases.stages import stage_blueprint

bp = stage_blueprint("assess", Stage.assessment, "/assess")
