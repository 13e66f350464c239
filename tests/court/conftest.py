import pytest

from tests.court.bundles import export_settled_case

#: One settled case's bundle per test process (its bytes), for the tests that only read the file.
_exported: dict[str, bytes] = {}


@pytest.fixture
def bundle(app, client, login, mediation, runner, tmp_path):
    """A settled case's court bundle, exported by ``odr export``."""
    return export_settled_case(app, client, login, mediation, runner, tmp_path)


@pytest.fixture
def bundle_file(request, app, tmp_path):
    """A copy of a settled case's court bundle, exported once per test process and database, for
    the tests that change the file and read it back: ``odr verify-bundle`` reads nothing but the
    file and the platform's root certificate (kept in the instance folder for the whole run), so
    a bundle exported by an earlier test is as good as a new one, and exporting one (a mediation,
    evidence, a signed agreement, a checkpoint) took about a second every time."""
    key = app.config["DATABASE_URL"]
    if key not in _exported:
        path = export_settled_case(app, *(request.getfixturevalue(name) for name in ("client", "login", "mediation", "runner")),
                                   tmp_path)
        _exported[key] = path.read_bytes()
        return path
    path = tmp_path / "bundle.zip"
    path.write_bytes(_exported[key])
    return path
