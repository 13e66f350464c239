"""Routes of the mediation stage: see odr/mediate/views.py."""

from odr.mediate.views import bp  # noqa: F401
