from tests.negotiate.conftest import login_en, parties  # noqa: F401  (fixtures)
