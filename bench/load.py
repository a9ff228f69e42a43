"""Run a timed HTTP load against one URL with wrk, or with bench/load_client.py without it.

Both clients run in a process of their own, keep ``connections`` connections open on
127.0.0.1 and send the next request as soon as a response arrives (a closed loop).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from servers import BENCH_DIR, BenchmarkError

# Extra seconds a load client may take beyond its duration before it counts as hung.
CLIENT_GRACE_SECONDS = 60
WRK_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class LoadResult:
    client: str
    requests: int
    errors: int
    seconds: float
    requests_per_second: float
    median_ms: float


def choose_client(requested: str) -> str:
    """Return "wrk" or "python" for ``requested`` ("auto", "wrk" or "python").

    Raises BenchmarkError when wrk is requested but not installed.
    """
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if requested == "wrk" and not shutil.which("wrk"):
        raise BenchmarkError("wrk is not installed; install it or pass --client python.")
    return requested


def run_load(
    client: str, url: str, headers: Mapping[str, str], *, duration: int, connections: int
) -> LoadResult:
    """Load ``url`` for ``duration`` seconds and return the client's figures."""
    if client == "wrk":
        return run_wrk(url, headers, duration=duration, connections=connections)
    return run_python_client(url, headers, duration=duration, connections=connections)


def run_wrk(url: str, headers: Mapping[str, str], *, duration: int, connections: int) -> LoadResult:
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{duration}s",
        "--timeout",
        "30s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command.append(url)
    return parse_wrk_output(run_client(command, duration))


def parse_wrk_output(output: str) -> LoadResult:
    """Read the request count, errors, duration and median latency from wrk's report.

    Raises BenchmarkError when the report lacks a figure.
    """
    totals = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output)
    median = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if totals is None or median is None:
        raise BenchmarkError(f"Unexpected wrk output:\n{output}")
    requests = int(totals.group(1))
    seconds = float(totals.group(2)) * WRK_TIME_UNITS[totals.group(3)]
    median_ms = float(median.group(1)) * WRK_TIME_UNITS[median.group(2)] * 1000

    errors = 0
    non_success = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_success:
        errors += int(non_success.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(count) for count in socket_errors.groups())
    return LoadResult("wrk", requests, errors, seconds, requests / seconds, median_ms)


def run_python_client(
    url: str, headers: Mapping[str, str], *, duration: int, connections: int
) -> LoadResult:
    command = [
        sys.executable,
        str(BENCH_DIR / "load_client.py"),
        url,
        "--duration",
        str(duration),
        "--connections",
        str(connections),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    summary = json.loads(run_client(command, duration))
    return LoadResult(
        "python",
        int(summary["requests"]),
        int(summary["errors"]),
        float(summary["seconds"]),
        float(summary["requests_per_second"]),
        float(summary["median_ms"]),
    )


def run_client(command: list[str], duration: int) -> str:
    """Run a load client and return its standard output, or raise BenchmarkError."""
    try:
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=duration + CLIENT_GRACE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchmarkError(f"The load client {command[0]} hung past its duration") from error
    if completed.returncode != 0:
        raise BenchmarkError(
            f"The load client {command[0]} failed with exit status {completed.returncode}:\n"
            f"{completed.stderr or completed.stdout}"
        )
    return completed.stdout
