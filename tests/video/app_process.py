"""App processes of a scaled-out deployment, for the tests: ``python -m tests.video.app_process
CONFIG_JSON N`` serves N processes, each ``create_app`` with that configuration on Werkzeug
(threaded, WebSocket) on a free port of 127.0.0.1, and prints each port on a line of its own.

The platform is loaded once (an app made without the message queue imports every module)
and the processes are forked from it, before any thread exists: starting two costs little more
than starting one. Stopping this process (SIGTERM) stops them all.
"""

import json
import os
import signal
import sys

from werkzeug.serving import make_server

from odr import create_app


def serve(config: dict) -> None:
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # One write of the whole line: the processes share the pipe, and print() may write the port and
    # its newline separately, interleaving with the other process's line.
    os.write(1, f"{server.server_port}\n".encode())
    server.serve_forever()


def main() -> None:
    config, count = json.loads(sys.argv[1]), int(sys.argv[2])
    children = []

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    create_app({**config, "SOCKETIO_MESSAGE_QUEUE": None})
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            serve(config)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
