"""What an ``odr`` command loads: a command that does not serve the site (``odr export``) leaves out
python-socketio — whose package imports its clients and every message-queue backend installed —
and Alembic, which only the commands that migrate need; ``odr run`` gets the Socket.IO server.

A fresh interpreter, since this test process has long imported all of them.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
import click
from flask.cli import ScriptInfo
from odr.cli import _create_app, main

try:
    main(["export", "ODR-1999-000000", "-o", sys.argv[1]], standalone_mode=False)
except click.ClickException as exc:
    print(exc.message)
heavy = ("flask_socketio", "socketio", "engineio", "redis", "aiohttp", "requests", "alembic", "flask_migrate",
         "pyhanko", "qrcode", "icalendar", "markdown")
print("loaded:", " ".join(m for m in heavy if m in sys.modules) or "nothing heavy")
with click.Context(main, obj=ScriptInfo(create_app=_create_app)) as ctx:
    ctx.obj.data["command"] = "run"
    print("run has Socket.IO:", "socketio" in _create_app().extensions)
"""


def test_export_leaves_out_socketio_and_alembic_and_run_has_socketio(app, database_url, tmp_path):
    env = dict(os.environ, ODR_DATABASE_URL=database_url, ODR_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "bundle.zip")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == ["No case ODR-1999-000000", "loaded: nothing heavy",
                                          "run has Socket.IO: True"], result.stdout + result.stderr[-3000:]
