import pytest

from tests.court.bundles import export_settled_case


@pytest.fixture
def bundle(app, client, login, mediation, runner, tmp_path):
    """A settled case's court bundle, exported by ``odr export``."""
    return export_settled_case(app, client, login, mediation, runner, tmp_path)
