"""``python -m odr …``: the ``odr`` command (how the server starts its jobs and media bridge)."""

from odr.cli import main

main()
