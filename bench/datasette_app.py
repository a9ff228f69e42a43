"""The "datasette" benchmark target: Datasette's ASGI app for one SQLite file.

``datasette serve FILE`` builds the same app and passes it to ``uvicorn.run``. Building it in
a factory lets the benchmark start it with the same uvicorn options (``--workers``) as the
other targets. ``BENCH_DATABASE`` names the SQLite file::

    BENCH_DATABASE=/path/to/Chinook_Sqlite.sqlite \\
        uvicorn --app-dir bench --factory datasette_app:create_app --host 127.0.0.1 --port 8002
"""

from __future__ import annotations

import os
from typing import Any

from datasette.app import Datasette  # type: ignore[import-untyped]


def create_app() -> Any:
    """Build Datasette's ASGI app for the file named by BENCH_DATABASE.

    The file is a mutable database, the default of ``datasette serve FILE``, so Datasette
    reads it with ``mode=ro`` and checks for schema changes. Raises KeyError when
    BENCH_DATABASE is unset. Datasette runs its startup hooks on the first request.
    """
    return Datasette([os.environ["BENCH_DATABASE"]]).app()
