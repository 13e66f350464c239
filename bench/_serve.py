"""Serve the odr app plus a hello-world route, for bench/http_load.py.

Usage: python bench/_serve.py PORT [WORKERS]

The app is built by ``odr.create_app()`` exactly as ``odr run`` builds it (gevent patches this
process first, as ``odr run``'s server process does), and is served by the same function
``odr run`` uses (``odr.serve.run_gunicorn``: gunicorn, gevent workers). The only difference is one extra route, ``GET /bench/hello``,
registered here so the app's own code is untouched (plus ``GET /bench/me``, used
only by ``bench/http_load.py --floor``). Everything the app does for
every request (before_request hooks, session loading, context processors that
are not template-related …) still runs for it.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402

# This file lives next to bench/http_load.py. Running ``python bench/_serve.py`` puts
# bench/ first on sys.path, where ``http.py`` would shadow the standard
# library's ``http`` package for Werkzeug and gunicorn. Drop that entry first.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]


def main() -> None:
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1

    from odr import create_app
    from odr.serve import run_gunicorn

    app = create_app()

    @app.get("/bench/hello")
    def _bench_hello():
        return "hello"

    # Reference point for ``bench/http_load.py --floor``: the least a signed-in page
    # does (load the session's user from the database), without a template.
    @app.get("/bench/me")
    def _bench_me():
        from flask_login import current_user

        if not current_user.is_authenticated:
            return "not signed in", 401
        return f"hello {current_user.name}"

    run_gunicorn(app, "127.0.0.1", port, workers=workers)


if __name__ == "__main__":
    main()
