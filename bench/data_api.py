"""Measure how fast three servers return the same 100-row page of Chinook's InvoiceLine table.

The page is the first 100 rows ordered by InvoiceLineId, as a JSON array of objects:

    bare       bench/bare_app.py: Starlette, the standard sqlite3 module, no authentication
    datasette  Datasette's table JSON with _shape=array
    listdock   GET /api/v2/entity/{EntityId}/data with a bearer token

Each target runs in its own server process group with the same uvicorn worker count, on
127.0.0.1 only, and is loaded by a separate client process: wrk when it is installed, else
bench/load_client.py. Targets run one after another, so they never compete for the CPU.
Before loading a target the script checks once that it returns 200 and rows 1 to 100, and
stops with an error otherwise. Every server it started is stopped when it exits, also on an
error, Ctrl-C or SIGTERM.

    .venv/bin/python bench/data_api.py --duration 10 --workers 1 --connections 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

from load import LoadResult, choose_client, run_load
from servers import (
    DEFAULT_CHINOOK_PATH,
    HOST,
    BenchmarkError,
    ListdockUnavailableError,
    ServerProcess,
    free_port,
    get_json,
    set_up_listdock,
    uvicorn_command,
)

PAGE_SIZE = 100
EXPECTED_IDS = list(range(1, PAGE_SIZE + 1))
DATASETTE_PATH = (
    f"/Chinook_Sqlite/InvoiceLine.json?_size={PAGE_SIZE}&_sort=InvoiceLineId&_shape=array"
)
LISTDOCK_PATH = "/api/v2/entity/{entity_id}/data?MaxRecords={size}&orderby=InvoiceLineId"
# listdock allows 6000 requests per token per minute by default, and a load run sends more.
LISTDOCK_SETTINGS = {"LISTDOCK_TOKEN_REQUEST_LIMIT": "100000000/minute"}
GOALS = {"bare": 0.5, "datasette": 1.0}


@dataclass(frozen=True)
class RunOptions:
    workers: int
    duration: int
    warmup: int
    connections: int
    client: str


@dataclass(frozen=True)
class Target:
    """A running server under test: the page URL and the headers the page needs."""

    url: str
    headers: Mapping[str, str]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    # A shell starts background jobs with SIGINT ignored, so restore Ctrl-C explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not args.chinook.is_file():
        print(
            f"Chinook database not found at {args.chinook}. Pass --chinook PATH.", file=sys.stderr
        )
        return 2

    try:
        options = RunOptions(
            workers=args.workers,
            duration=args.duration,
            warmup=args.warmup,
            connections=args.connections,
            client=choose_client(args.client),
        )
        results = run_all(args.chinook, options)
    except BenchmarkError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted. Every server this run started has been stopped.", file=sys.stderr)
        return 130

    print_summary(results)
    if args.output:
        summary = {name: asdict(result) if result else None for name, result in results.items()}
        args.output.write_text(
            json.dumps({"options": asdict(options), "results": summary}, indent=2)
        )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--chinook",
        type=Path,
        default=DEFAULT_CHINOOK_PATH,
        help=f"Chinook SQLite file (default {DEFAULT_CHINOOK_PATH})",
    )
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (1)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target (10)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of unmeasured load first (2)"
    )
    parser.add_argument("--connections", type=int, default=8, help="client connections (8)")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load client: wrk when installed, else the Python client (auto)",
    )
    parser.add_argument("--output", type=Path, help="also write the results to this JSON file")
    return parser.parse_args(argv)


def exit_on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    """Turn SIGTERM into SystemExit so that the servers' context managers stop them."""
    raise SystemExit(128 + signum)


def run_all(chinook: Path, options: RunOptions) -> dict[str, LoadResult | None]:
    """Run every target in turn; a None result means listdock was not available."""
    with tempfile.TemporaryDirectory(prefix="listdock-bench-") as temporary:
        work_dir = Path(temporary)
        # Each run reads its own copy, so no server can change or lock the sample file.
        database = work_dir / "Chinook_Sqlite.sqlite"
        shutil.copyfile(chinook, database)

        servers: dict[str, Callable[[Path, Path, RunOptions], AbstractContextManager[Target]]] = {
            "bare": serve_bare,
            "datasette": serve_datasette,
            "listdock": serve_listdock,
        }
        results: dict[str, LoadResult | None] = {}
        for name, serve in servers.items():
            try:
                with serve(work_dir, database, options) as target:
                    results[name] = measure(name, target, options)
            except ListdockUnavailableError as error:
                print(f"{name:<10} listdock not available: {error}", flush=True)
                results[name] = None
        return results


def measure(name: str, target: Target, options: RunOptions) -> LoadResult:
    """Check the target's page, warm the server up, then load it and return the figures.

    Raises BenchmarkError when the page is wrong or any measured request failed.
    """
    check_page(name, target.url, target.headers)
    if options.warmup > 0:
        run_load(
            options.client,
            target.url,
            target.headers,
            duration=options.warmup,
            connections=options.connections,
        )
    result = run_load(
        options.client,
        target.url,
        target.headers,
        duration=options.duration,
        connections=options.connections,
    )

    if result.errors:
        raise BenchmarkError(
            f"{result.errors} of {result.requests} requests to {name} failed "
            "(non-2xx responses or socket errors), so its figures are not valid."
        )
    print(
        f"{name:<10} {result.requests_per_second:>10.1f} requests/s  "
        f"median {result.median_ms:.2f} ms  ({result.requests} requests, {result.client})",
        flush=True,
    )
    return result


def check_page(name: str, url: str, headers: Mapping[str, str]) -> None:
    """Raise BenchmarkError unless ``url`` returns 200 with rows 1 to 100 of InvoiceLine."""
    rows = get_json(url, headers)
    if not isinstance(rows, list) or len(rows) != PAGE_SIZE:
        count = len(rows) if isinstance(rows, list) else type(rows).__name__
        raise BenchmarkError(f"{name} returned {count} rows at {url}; expected {PAGE_SIZE}.")
    ids = [row.get("InvoiceLineId") if isinstance(row, dict) else None for row in rows]
    if ids != EXPECTED_IDS:
        raise BenchmarkError(
            f"{name} returned other rows than InvoiceLineId 1 to {PAGE_SIZE}: first row {rows[0]}"
        )


@contextmanager
def serve_bare(work_dir: Path, database: Path, options: RunOptions) -> Iterator[Target]:
    port = free_port()
    url = f"http://{HOST}:{port}/invoice-lines"
    command = uvicorn_command("bare_app:create_app", port, options.workers)
    env = {**os.environ, "BENCH_DATABASE": str(database)}
    with ServerProcess("bare", command, env=env, log_path=work_dir / "bare.log") as server:
        server.wait_until_ready(url)
        yield Target(url, {})


@contextmanager
def serve_datasette(work_dir: Path, database: Path, options: RunOptions) -> Iterator[Target]:
    port = free_port()
    url = f"http://{HOST}:{port}{DATASETTE_PATH}"
    command = uvicorn_command("datasette_app:create_app", port, options.workers)
    env = {**os.environ, "BENCH_DATABASE": str(database)}
    with ServerProcess(
        "datasette", command, env=env, log_path=work_dir / "datasette.log"
    ) as server:
        server.wait_until_ready(url)
        yield Target(url, {})


@contextmanager
def serve_listdock(work_dir: Path, database: Path, options: RunOptions) -> Iterator[Target]:
    """Set listdock up with the CLI, serve it and find the InvoiceLine list.

    Raises ListdockUnavailableError when the CLI is missing or one of its commands fails,
    and BenchmarkError when the server runs but the list cannot be found.
    """
    instance = set_up_listdock(work_dir / "listdock-data", database, "Chinook", LISTDOCK_SETTINGS)
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    headers = {"Authorization": f"Bearer {instance.token}"}
    command = instance.serve_command(port, options.workers)
    log_path = work_dir / "listdock.log"
    with ServerProcess("listdock", command, env=instance.env, log_path=log_path) as server:
        server.wait_until_ready(f"{base_url}/api/v2/entity", headers)
        entity_id = instance.find_entity_id(base_url, "InvoiceLine")
        yield Target(base_url + LISTDOCK_PATH.format(entity_id=entity_id, size=PAGE_SIZE), headers)


def print_summary(results: Mapping[str, LoadResult | None]) -> None:
    print()
    print(f"{'target':<10} {'requests/s':>11} {'median ms':>10} {'requests':>9}  client")
    for name, result in results.items():
        if result is None:
            print(f"{name:<10} {'not measured':>11}")
            continue
        print(
            f"{name:<10} {result.requests_per_second:>11.1f} {result.median_ms:>10.2f} "
            f"{result.requests:>9}  {result.client}"
        )

    listdock = results.get("listdock")
    for baseline, goal in GOALS.items():
        other = results.get(baseline)
        label = f"listdock/{baseline}"
        if listdock is None or other is None:
            print(f"{label:<19} n/a (goal >= {goal})")
            continue
        ratio = listdock.requests_per_second / other.requests_per_second
        verdict = "met" if ratio >= goal else "missed"
        print(f"{label:<19} {ratio:.2f} (goal >= {goal}, {verdict})")


if __name__ == "__main__":
    sys.exit(main())
