"""Server processes and listdock set-up shared by the benchmark scripts.

Every server runs in its own process group on 127.0.0.1, so ``ServerProcess.stop`` ends the
server together with any worker processes it forked. Two errors tell the scripts what to do:

    BenchmarkError            a result would be wrong; the script stops with a message
    ListdockUnavailableError  listdock cannot be set up or started; the script reports
                              "listdock not available: REASON" and goes on with the others
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DEFAULT_CHINOOK_PATH = PROJECT_ROOT.parent / "shared" / "data" / "chinook" / "Chinook_Sqlite.sqlite"
HOST = "127.0.0.1"
# The email of the administrator that set_up_listdock creates.
ADMIN_EMAIL = "bench@example.com"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
CLI_TIMEOUT_SECONDS = 120.0
# The line that ends a Python traceback, such as "sqlalchemy.exc.OperationalError: ...".
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b")


class BenchmarkError(Exception):
    """A benchmark step that failed in a way that would make its figures wrong."""


class ListdockUnavailableError(Exception):
    """listdock's CLI is missing, or one of its set-up commands failed."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(
    url: str, headers: Mapping[str, str] | None = None, *, timeout: float = 30.0
) -> tuple[int, bytes]:
    """Send one GET and return the status and body, for error statuses too.

    Raises OSError (urllib.error.URLError included) when no response arrives.
    """
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 (http only)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str, headers: Mapping[str, str] | None = None) -> Any:
    """Return the decoded JSON body of a GET, or raise BenchmarkError unless it is a 200."""
    status, body = http_get(url, headers)
    if status != 200:
        raise BenchmarkError(f"GET {url} returned {status}: {body[:300]!r}")
    try:
        return json.loads(body)
    except ValueError as error:
        raise BenchmarkError(f"GET {url} returned invalid JSON: {body[:300]!r}") from error


def send_json(
    method: str, url: str, headers: Mapping[str, str], body: Any, *, expected: int
) -> Any:
    """Send ``body`` as JSON and return the decoded response body.

    Raises BenchmarkError unless the status is ``expected`` and the body is JSON.
    """
    request = urllib.request.Request(  # noqa: S310 (http on 127.0.0.1 only)
        url,
        data=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30.0) as response:  # noqa: S310
            status, raw = int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    if status != expected:
        raise BenchmarkError(
            f"{method} {url} returned {status}, expected {expected}: {raw[:300]!r}"
        )
    try:
        return json.loads(raw)
    except ValueError as error:
        raise BenchmarkError(f"{method} {url} returned invalid JSON: {raw[:300]!r}") from error


class ServerProcess:
    """A server started in its own process group, with its output kept in a log file.

    Use it as a context manager: entering starts the process, leaving stops it, also when
    the block raises or the user presses Ctrl-C.
    """

    def __init__(
        self, name: str, command: list[str], *, env: Mapping[str, str], log_path: Path
    ) -> None:
        self.name = name
        self.command = command
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"The {self.name} server has not been started.")
        return self.process.pid

    def wait_until_ready(self, url: str, headers: Mapping[str, str] | None = None) -> None:
        """Poll ``url`` until the server returns any HTTP response.

        Raises BenchmarkError when the process exits first or READY_TIMEOUT_SECONDS pass.
        """
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchmarkError(
                    f"The {self.name} server exited with status {self.process.returncode} "
                    f"before it was ready. Its output ends with:\n{self.log_tail()}"
                )
            try:
                http_get(url, headers, timeout=5.0)
            except OSError:
                time.sleep(0.2)
            else:
                return
        raise BenchmarkError(
            f"The {self.name} server did not respond at {url} within "
            f"{READY_TIMEOUT_SECONDS:.0f} s. Its output ends with:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Send SIGTERM to the server's process group, then SIGKILL if it does not exit."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def uvicorn_command(app_factory: str, port: int, workers: int) -> list[str]:
    """Return the command that serves ``module:factory`` from bench/ with uvicorn."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(BENCH_DIR),
        "--factory",
        app_factory,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


@dataclass(frozen=True)
class ListdockInstance:
    """A listdock data directory made by the CLI, with an Administrator's token."""

    command: tuple[str, ...]
    env: Mapping[str, str]
    token: str

    def serve_command(self, port: int, workers: int) -> list[str]:
        return [
            *self.command,
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]

    def find_entity_id(self, base_url: str, name: str) -> str:
        """Return the EntityId of the list called ``name``, or raise BenchmarkError."""
        entities = get_json(f"{base_url}/api/v2/entity", {"Authorization": f"Bearer {self.token}"})
        if not isinstance(entities, list):
            raise BenchmarkError(
                f"GET /api/v2/entity returned {type(entities).__name__}, not a list"
            )
        for entity in entities:
            if isinstance(entity, dict) and entity.get("Name") == name:
                return str(entity["EntityId"])
        names = sorted(str(entity.get("Name")) for entity in entities if isinstance(entity, dict))
        raise BenchmarkError(f"No list named {name!r} in GET /api/v2/entity; found {names}")


def find_listdock_command() -> tuple[str, ...]:
    """Return the command that runs listdock's CLI with this interpreter's packages.

    Raises ListdockUnavailableError when the listdock.cli module does not exist yet.
    """
    try:
        import listdock.cli  # noqa: F401
    except ImportError as error:
        raise ListdockUnavailableError(f"cannot import listdock.cli ({error})") from error

    beside_interpreter = Path(sys.executable).with_name("listdock")
    if beside_interpreter.exists():
        return (str(beside_interpreter),)
    on_path = shutil.which("listdock")
    if on_path:
        return (on_path,)
    return (sys.executable, "-c", "import sys; from listdock.cli import main; sys.exit(main())")


def set_up_listdock(
    data_dir: Path, database: Path, connector_name: str, settings: Mapping[str, str]
) -> ListdockInstance:
    """Create a listdock data directory with one SQLite connector and return its token.

    ``settings`` are extra ``LISTDOCK_*`` variables for every CLI command and the server.
    Raises ListdockUnavailableError when the CLI is missing or a command fails.
    """
    command = find_listdock_command()
    env = {**os.environ, **settings, "LISTDOCK_DATA_DIR": str(data_dir)}
    admin_email = ADMIN_EMAIL
    admin_password = secrets.token_urlsafe(24)

    run_cli(
        command,
        env,
        ["init", "--admin-email", admin_email, "--admin-password", admin_password],
        label="init",
    )
    run_cli(
        command,
        env,
        ["connector", "add", "sqlite", str(database), "--name", connector_name],
        label="connector add",
    )
    token = run_cli(
        command,
        env,
        ["token", "create", "--user", admin_email, "--name", "bench"],
        label="token create",
    ).strip()
    if not token or any(char.isspace() for char in token):
        raise ListdockUnavailableError(
            "`listdock token create` printed something other than one token value"
        )
    return ListdockInstance(command, env, token)


def run_cli(
    command: tuple[str, ...], env: Mapping[str, str], args: list[str], *, label: str
) -> str:
    """Run one listdock CLI command and return its standard output.

    ``label`` names the command in errors, so the admin password never appears in one.
    """
    try:
        completed = subprocess.run(
            [*command, *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ListdockUnavailableError(
            f"`listdock {label}` did not finish within {CLI_TIMEOUT_SECONDS:.0f} s"
        ) from error
    if completed.returncode != 0:
        summary = summarize_failure(completed.stderr or completed.stdout)
        raise ListdockUnavailableError(
            f"`listdock {label}` failed with exit status {completed.returncode}: {summary}"
        )
    return completed.stdout


def summarize_failure(output: str) -> str:
    """Return the last exception line of a traceback in ``output``, else its last line."""
    lines = output.strip().splitlines()
    exception_lines = [line for line in lines if EXCEPTION_LINE.match(line)]
    if exception_lines:
        return exception_lines[-1][:300]
    return lines[-1][:300] if lines else "no output"
