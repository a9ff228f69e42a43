"""Measure a 1,000,000-row CSV export through listdock's data route, and its memory.

The script builds a SQLite table in a temporary directory (integer id, text with commas and
quotes, a NUMERIC(10,2) amount and a date), then exports every row two ways:

    sqlite3 + csv  a plain loop in this process that writes the CSV file (the baseline)
    listdock       GET /api/v2/entity/{EntityId}/data?format=csv&MaxRecords=ROWS&orderby=Id,
                   streamed into a file by this process

While listdock exports, a thread samples the resident memory (RSS) of every process of the
server with psutil. The script prints rows per second for both and the server's peak RSS.
listdock runs on 127.0.0.1 with LISTDOCK_MAX_RECORDS_LIMIT set to the row count, because the
default limit is lower. Every server it started is stopped when it exits.

    .venv/bin/python bench/export_csv.py --rows 1000000
"""

from __future__ import annotations

import argparse
import csv
import datetime
import http.client
import random
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]
from servers import (
    HOST,
    BenchmarkError,
    ListdockUnavailableError,
    ServerProcess,
    free_port,
    http_get,
    set_up_listdock,
)

TABLE = "ExportRows"
CREATE_TABLE = f"""
CREATE TABLE {TABLE} (
    Id      INTEGER PRIMARY KEY,
    Name    TEXT NOT NULL,
    Amount  NUMERIC(10,2) NOT NULL,
    Created DATE NOT NULL
)
"""
COLUMNS = ("Id", "Name", "Amount", "Created")
# Some names need CSV quoting (a comma, double quotes) and some are not ASCII.
NAMES = ("Müller, Hans", 'Anna "Ann" Berg', "Łukasz Nowak", "João Silva", "Smith & Co", "Kim")
FIRST_DATE = datetime.date(2020, 1, 1).toordinal()
DATE_RANGE_DAYS = 1_826
LISTDOCK_PATH = "/api/v2/entity/{entity_id}/data?format=csv&MaxRecords={rows}&orderby=Id"
GOAL_ROWS_PER_SECOND = 200_000
GOAL_PEAK_MB = 150
MEBIBYTE = 1024 * 1024
READ_CHUNK_BYTES = 1 << 16
EXPORT_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class ExportResult:
    rows: int
    seconds: float
    peak_rss_mb: float | None = None
    idle_rss_mb: float | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table (1000000)")
    parser.add_argument("--workers", type=int, default=1, help="listdock worker processes (1)")
    parser.add_argument(
        "--sample-interval", type=float, default=0.05, help="seconds between RSS samples (0.05)"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    # A shell starts background jobs with SIGINT ignored, so restore Ctrl-C explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        with tempfile.TemporaryDirectory(prefix="listdock-bench-") as temporary:
            run(Path(temporary), args.rows, args.workers, args.sample_interval)
    except BenchmarkError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted. Every server this run started has been stopped.", file=sys.stderr)
        return 130
    return 0


def exit_on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    """Turn SIGTERM into SystemExit so that the server's context manager stops it."""
    raise SystemExit(128 + signum)


def run(work_dir: Path, rows: int, workers: int, sample_interval: float) -> None:
    database = work_dir / "export.sqlite"
    started = time.perf_counter()
    create_table(database, rows)
    print(f"Created {rows} rows in {time.perf_counter() - started:.1f} s", flush=True)

    baseline = export_with_sqlite(database, work_dir / "baseline.csv")
    print(f"sqlite3 + csv  {baseline.rows_per_second:>10,.0f} rows/s", flush=True)

    try:
        result = export_with_listdock(work_dir, database, rows, workers, sample_interval)
    except ListdockUnavailableError as error:
        print(f"listdock       listdock not available: {error}", flush=True)
        return

    print(
        f"listdock       {result.rows_per_second:>10,.0f} rows/s  "
        f"peak RSS {result.peak_rss_mb:.0f} MB (idle {result.idle_rss_mb:.0f} MB)",
        flush=True,
    )
    print(
        f"listdock/baseline {result.rows_per_second / baseline.rows_per_second:.2f}; "
        f"goals: >= {GOAL_ROWS_PER_SECOND:,} rows/s, peak < {GOAL_PEAK_MB} MB"
    )


def create_table(database: Path, rows: int) -> None:
    connection = sqlite3.connect(database)
    try:
        connection.execute(CREATE_TABLE)
        with connection:
            connection.executemany(
                f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608 (a constant name)
                generate_rows(rows),
            )
    finally:
        connection.close()


def generate_rows(count: int) -> Iterator[tuple[int, str, str, str]]:
    rng = random.Random(1)  # noqa: S311 (benchmark data, not secrets)
    for row_id in range(1, count + 1):
        cents = rng.randint(0, 10_000_000)
        amount = f"{cents // 100}.{cents % 100:02d}"
        created = datetime.date.fromordinal(FIRST_DATE + rng.randrange(DATE_RANGE_DAYS))
        yield row_id, f"{rng.choice(NAMES)} {row_id}", amount, created.isoformat()


def export_with_sqlite(database: Path, output: Path) -> ExportResult:
    """Export the table with the sqlite3 and csv modules, as listdock's CSV is laid out."""
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    try:
        with output.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            cursor = connection.execute(
                f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY Id"  # noqa: S608
            )
            rows = 0
            for row in cursor:
                writer.writerow(row)
                rows += 1
    finally:
        connection.close()
    return ExportResult(rows, time.perf_counter() - started)


def export_with_listdock(
    work_dir: Path, database: Path, rows: int, workers: int, sample_interval: float
) -> ExportResult:
    """Serve the table with listdock and export it as CSV while sampling the server's RSS.

    Raises ListdockUnavailableError when the CLI is missing or fails, and BenchmarkError
    when the server fails or the export lacks rows.
    """
    settings = {"LISTDOCK_MAX_RECORDS_LIMIT": str(rows)}
    instance = set_up_listdock(work_dir / "listdock-data", database, "Export", settings)
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    headers = {"Authorization": f"Bearer {instance.token}"}
    command = instance.serve_command(port, workers)
    log_path = work_dir / "listdock.log"

    with ServerProcess("listdock", command, env=instance.env, log_path=log_path) as server:
        server.wait_until_ready(f"{base_url}/api/v2/entity", headers)
        entity_id = instance.find_entity_id(base_url, TABLE)
        check_small_export(base_url, entity_id, headers)

        url = base_url + LISTDOCK_PATH.format(entity_id=entity_id, rows=rows)
        sampler = RssSampler(psutil.Process(server.pid), sample_interval)
        idle_rss = sampler.sample()
        with sampler:
            started = time.perf_counter()
            lines = download(url, headers, work_dir / "listdock.csv")
            seconds = time.perf_counter() - started

    # The export has a header line, and no generated value contains a line break.
    if lines - 1 != rows:
        raise BenchmarkError(f"listdock exported {lines - 1} rows, expected {rows}.")
    return ExportResult(rows, seconds, sampler.peak / MEBIBYTE, idle_rss / MEBIBYTE)


def check_small_export(base_url: str, entity_id: str, headers: Mapping[str, str]) -> None:
    """Raise BenchmarkError unless a 5-row CSV export returns 200 with a header and 5 rows."""
    url = base_url + LISTDOCK_PATH.format(entity_id=entity_id, rows=5)
    status, body = http_get(url, headers)
    if status != 200:
        raise BenchmarkError(f"GET {url} returned {status}: {body[:300]!r}")
    line_count = body.count(b"\n")
    if line_count != 6:
        raise BenchmarkError(f"A 5-row CSV export returned {line_count} lines: {body[:300]!r}")


def download(url: str, headers: Mapping[str, str], output: Path) -> int:
    """Stream ``url`` into ``output`` and return the number of lines, or raise BenchmarkError."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or HOST, parts.port, timeout=EXPORT_TIMEOUT_SECONDS
    )
    try:
        connection.request("GET", f"{parts.path}?{parts.query}", headers=dict(headers))
        response = connection.getresponse()
        if response.status != 200:
            raise BenchmarkError(f"GET {url} returned {response.status}: {response.read(300)!r}")
        lines = 0
        with output.open("wb") as handle:
            while chunk := response.read(READ_CHUNK_BYTES):
                handle.write(chunk)
                lines += chunk.count(b"\n")
        return lines
    finally:
        connection.close()


class RssSampler:
    """A thread that records the peak RSS of a process and of each of its children.

    ``peak`` is in bytes: the largest RSS that any single process of the tree reached. With
    one worker, uvicorn serves in the process it was started as, so that process is the one
    measured.
    """

    def __init__(self, process: psutil.Process, interval: float) -> None:
        self.process = process
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> int:
        """Record one sample and return the largest RSS of the tree in it, in bytes."""
        largest = 0
        try:
            processes = [self.process, *self.process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        for process in processes:
            try:
                largest = max(largest, process.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        self.peak = max(self.peak, largest)
        return largest

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


if __name__ == "__main__":
    sys.exit(main())
