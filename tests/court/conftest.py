"""Fixtures of the mediation and document tests, for the court tests."""

from tests.documents.conftest import mediation_zh  # noqa: F401
from tests.mediate.conftest import login_en, make_mediator, mediation  # noqa: F401
