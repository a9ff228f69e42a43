"""Measure how fast three servers return the same 100-row pages of Chinook's InvoiceLine table.

Each server returns two pages, as JSON arrays of objects ordered by InvoiceLineId. The
entity page is the first 100 rows. The filtered page is the first 100 rows with
InvoiceLineId >= 1000, passed as a request parameter. The seven targets are:

    bare                bench/bare_app.py: Starlette, the standard sqlite3 module, no
                        authentication; GET /invoice-lines
    bare-filtered       the same app; GET /invoice-lines-from?from=1000
    datasette           Datasette's table JSON with _shape=array
    datasette-filtered  the same with InvoiceLineId__gte=1000
    listdock            GET /api/v2/entity/{EntityId}/data with a bearer token
    listdock-endpoint   GET /api/v2/favorite/InvoiceLinesFrom?from=1000, a named endpoint
                        created with `listdock endpoint create`, with the same token
    listdock-apiuser    the listdock entity page with the token of an API user whose
                        rights come through two teams: one holds a custom system role
                        with api.read, the other a User grant on the connector

Each server runs in its own process group with the same uvicorn worker count, on 127.0.0.1
only, and is loaded by a separate client process: wrk when it is installed, else
bench/load_client.py. Targets run one after another, so they never compete for the CPU.
Before loading a target the script checks once that it returns 200 and the same InvoiceLineId
list as a direct query of the database, and stops with an error otherwise. The API user's
page must also equal the administrator's page exactly. Every server it
started is stopped when it exits, also on an error, Ctrl-C or SIGTERM.

    .venv/bin/python bench/data_api.py --duration 10 --workers 1 --connections 8
    .venv/bin/python bench/data_api.py --targets bare-filtered listdock-endpoint
    .venv/bin/python bench/data_api.py --targets listdock listdock-apiuser
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import NoReturn

from load import LoadResult, choose_client, run_load
from servers import (
    DEFAULT_CHINOOK_PATH,
    HOST,
    BenchmarkError,
    ListdockInstance,
    ListdockUnavailableError,
    ServerProcess,
    free_port,
    get_json,
    run_cli,
    send_json,
    set_up_listdock,
    uvicorn_command,
)

PAGE_SIZE = 100
# The filtered page starts at this InvoiceLineId. Chinook has 2240 invoice lines, so the
# filter keeps more than PAGE_SIZE rows, and none of them is on the entity page.
FIRST_FILTERED_ID = 1000

ENTITY_PAGE = "entity"
FILTERED_PAGE = "filtered"
# The entity page requested with the API user's token instead of the administrator's.
APIUSER_PAGE = "entity-apiuser"
# The reference InvoiceLineId list of each page, read straight from the database file.
EXPECTED_ID_QUERIES = {
    ENTITY_PAGE: ("SELECT InvoiceLineId FROM InvoiceLine ORDER BY InvoiceLineId LIMIT ?", ()),
    FILTERED_PAGE: (
        "SELECT InvoiceLineId FROM InvoiceLine WHERE InvoiceLineId >= ? "
        "ORDER BY InvoiceLineId LIMIT ?",
        (FIRST_FILTERED_ID,),
    ),
}

BARE_PATHS = {
    ENTITY_PAGE: "/invoice-lines",
    FILTERED_PAGE: f"/invoice-lines-from?from={FIRST_FILTERED_ID}",
}
DATASETTE_TABLE = "/Chinook_Sqlite/InvoiceLine.json"
DATASETTE_PATHS = {
    ENTITY_PAGE: f"{DATASETTE_TABLE}?_size={PAGE_SIZE}&_sort=InvoiceLineId&_shape=array",
    FILTERED_PAGE: (
        f"{DATASETTE_TABLE}?InvoiceLineId__gte={FIRST_FILTERED_ID}"
        f"&_size={PAGE_SIZE}&_sort=InvoiceLineId&_shape=array"
    ),
}
LISTDOCK_PATH = "/api/v2/entity/{entity_id}/data?MaxRecords={size}&orderby=InvoiceLineId"
ENDPOINT_NAME = "InvoiceLinesFrom"
ENDPOINT_PARAMETER = "from:InvoiceLineId:ge:required"
ENDPOINT_PATH = (
    f"/api/v2/favorite/{ENDPOINT_NAME}?from={FIRST_FILTERED_ID}"
    f"&MaxRecords={PAGE_SIZE}&orderby=InvoiceLineId"
)
# listdock allows 6000 requests per token per minute by default, and a load run sends more.
LISTDOCK_SETTINGS = {"LISTDOCK_TOKEN_REQUEST_LIMIT": "100000000/minute"}
# The custom system role that team A gives the API user, and the grant that team B gives it.
APIUSER_ROLE = {"Name": "Data reader", "Scope": "system", "Permissions": ["api.read"]}
APIUSER_GRANT = {
    "Roles": ["User"],
    "Companies": "all",
    "Lists": "all",
    "Details": [],
    "Actions": [],
}


@dataclass(frozen=True)
class TargetSpec:
    """The server a target loads and the page it requests."""

    server: str
    page: str


# Measured in this order, so each server starts once for both of its pages.
TARGETS = {
    "bare": TargetSpec("bare", ENTITY_PAGE),
    "bare-filtered": TargetSpec("bare", FILTERED_PAGE),
    "datasette": TargetSpec("datasette", ENTITY_PAGE),
    "datasette-filtered": TargetSpec("datasette", FILTERED_PAGE),
    "listdock": TargetSpec("listdock", ENTITY_PAGE),
    "listdock-endpoint": TargetSpec("listdock", FILTERED_PAGE),
    "listdock-apiuser": TargetSpec("listdock", APIUSER_PAGE),
}


@dataclass(frozen=True)
class Ratio:
    """A listdock target's requests per second divided by a baseline's, and its goal."""

    label: str
    listdock: str
    baseline: str
    goal: float


RATIOS = (
    Ratio("entity/bare", "listdock", "bare", 0.5),
    Ratio("entity/datasette", "listdock", "datasette", 1.0),
    Ratio("endpoint/bare", "listdock-endpoint", "bare-filtered", 0.5),
    Ratio("endpoint/datasette", "listdock-endpoint", "datasette-filtered", 1.0),
    Ratio("apiuser/admin", "listdock-apiuser", "listdock", 0.9),
)


@dataclass(frozen=True)
class RunOptions:
    workers: int
    duration: int
    warmup: int
    connections: int
    client: str


@dataclass(frozen=True)
class Target:
    """A page on a running server: its URL and the headers the request needs."""

    url: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Served:
    """The pages a running server offers, keyed by page, and why any other page is missing."""

    targets: dict[str, Target]
    unavailable: dict[str, str] = field(default_factory=dict)


ServeFunction = Callable[[Path, Path, RunOptions, frozenset[str]], AbstractContextManager[Served]]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not start_run(args):
        return 2

    try:
        options = run_options(args)
        results = run_all(args.chinook, options, args.targets)
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
            json.dumps(
                {"options": asdict(options), "results": summary, "ratios": ratios(results)},
                indent=2,
            )
        )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = load_argument_parser(__doc__)
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=list(TARGETS),
        default=list(TARGETS),
        metavar="TARGET",
        help=f"targets to measure, from: {', '.join(TARGETS)} (all)",
    )
    parser.add_argument("--output", type=Path, help="also write the results to this JSON file")
    return parser.parse_args(argv)


def load_argument_parser(doc: str | None) -> argparse.ArgumentParser:
    """Return a parser with the options of every load benchmark, described by ``doc``'s first line.

    The options: --chinook, --workers, --duration, --warmup, --connections and --client.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
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
    return parser


def start_run(args: argparse.Namespace) -> bool:
    """Make SIGTERM and Ctrl-C stop the run cleanly; return False when Chinook is missing."""
    signal.signal(signal.SIGTERM, exit_on_signal)
    # A shell starts background jobs with SIGINT ignored, so restore Ctrl-C explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not args.chinook.is_file():
        print(
            f"Chinook database not found at {args.chinook}. Pass --chinook PATH.", file=sys.stderr
        )
        return False
    return True


def run_options(args: argparse.Namespace) -> RunOptions:
    """Return the load options that ``load_argument_parser``'s arguments set."""
    return RunOptions(
        workers=args.workers,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        client=choose_client(args.client),
    )


def exit_on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    """Turn SIGTERM into SystemExit so that the servers' context managers stop them."""
    raise SystemExit(128 + signum)


def run_all(
    chinook: Path, options: RunOptions, target_names: list[str]
) -> dict[str, LoadResult | None]:
    """Run the chosen targets in turn; a None result means listdock was not available."""
    with tempfile.TemporaryDirectory(prefix="listdock-bench-") as temporary:
        work_dir = Path(temporary)
        # Each run reads its own copy, so no server can change or lock the sample file.
        database = work_dir / "Chinook_Sqlite.sqlite"
        shutil.copyfile(chinook, database)
        expected = read_expected_ids(database)

        servers: dict[str, ServeFunction] = {
            "bare": serve_bare,
            "datasette": serve_datasette,
            "listdock": serve_listdock,
        }
        results: dict[str, LoadResult | None] = {}
        for server_name, serve in servers.items():
            # Page to target name, for the chosen targets on this server, in TARGETS order.
            pages = {
                spec.page: name
                for name, spec in TARGETS.items()
                if spec.server == server_name and name in target_names
            }
            if not pages:
                continue
            try:
                with serve(work_dir, database, options, frozenset(pages)) as served:
                    for page, name in pages.items():
                        if page in served.unavailable:
                            report_unavailable(name, served.unavailable[page])
                            results[name] = None
                            continue
                        results[name] = measure(name, served.targets[page], expected[page], options)
            except ListdockUnavailableError as error:
                for name in pages.values():
                    report_unavailable(name, str(error))
                    results[name] = None
        return results


def report_unavailable(name: str, reason: str) -> None:
    print(f"{name:<18} listdock not available: {reason}", flush=True)


def read_expected_ids(database: Path) -> dict[str, list[int]]:
    """Return the InvoiceLineId list of each page, read directly from the database file.

    Raises BenchmarkError when a page would have fewer than PAGE_SIZE rows, because then
    the targets would be compared on a short page.
    """
    expected: dict[str, list[int]] = {}
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        for page, (query, parameters) in EXPECTED_ID_QUERIES.items():
            rows = connection.execute(query, (*parameters, PAGE_SIZE)).fetchall()
            expected[page] = [row[0] for row in rows]
            if len(expected[page]) != PAGE_SIZE:
                raise BenchmarkError(
                    f"The {page} page of {database.name} has {len(expected[page])} rows; "
                    f"the benchmark needs {PAGE_SIZE}. Pass the Chinook sample with --chinook."
                )
    expected[APIUSER_PAGE] = expected[ENTITY_PAGE]
    return expected


def measure(name: str, target: Target, expected_ids: list[int], options: RunOptions) -> LoadResult:
    """Check the target's page, warm the server up, then load it and return the figures.

    Raises BenchmarkError when the page is wrong or any measured request failed.
    """
    check_page(name, target, expected_ids)
    return load_target(name, target, options)


def load_target(name: str, target: Target, options: RunOptions) -> LoadResult:
    """Load the target for the warm-up, then for the measured duration, and print the figures.

    Raises BenchmarkError when any measured request failed.
    """
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
        f"{name:<18} {result.requests_per_second:>10.1f} requests/s  "
        f"median {result.median_ms:.2f} ms  ({result.requests} requests, {result.client})",
        flush=True,
    )
    return result


def check_page(name: str, target: Target, expected_ids: list[int]) -> None:
    """Raise BenchmarkError unless the target returns 200 with exactly these InvoiceLineIds."""
    rows = get_json(target.url, target.headers)
    if not isinstance(rows, list) or len(rows) != len(expected_ids):
        count = len(rows) if isinstance(rows, list) else type(rows).__name__
        raise BenchmarkError(
            f"{name} returned {count} rows at {target.url}; expected {len(expected_ids)}."
        )
    ids = [row.get("InvoiceLineId") if isinstance(row, dict) else None for row in rows]
    if ids != expected_ids:
        raise BenchmarkError(
            f"{name} returned other rows than InvoiceLineId {expected_ids[0]} to "
            f"{expected_ids[-1]} in order: first row {rows[0]}, InvoiceLineIds {ids[:5]}..."
        )


@contextmanager
def serve_bare(
    work_dir: Path, database: Path, options: RunOptions, pages: frozenset[str]
) -> Iterator[Served]:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    command = uvicorn_command("bare_app:create_app", port, options.workers)
    env = {**os.environ, "BENCH_DATABASE": str(database)}
    with ServerProcess("bare", command, env=env, log_path=work_dir / "bare.log") as server:
        server.wait_until_ready(base_url + BARE_PATHS[ENTITY_PAGE])
        yield Served({page: Target(base_url + BARE_PATHS[page], {}) for page in pages})


@contextmanager
def serve_datasette(
    work_dir: Path, database: Path, options: RunOptions, pages: frozenset[str]
) -> Iterator[Served]:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    command = uvicorn_command("datasette_app:create_app", port, options.workers)
    env = {**os.environ, "BENCH_DATABASE": str(database)}
    with ServerProcess(
        "datasette", command, env=env, log_path=work_dir / "datasette.log"
    ) as server:
        server.wait_until_ready(base_url + DATASETTE_PATHS[ENTITY_PAGE])
        yield Served({page: Target(base_url + DATASETTE_PATHS[page], {}) for page in pages})


@contextmanager
def serve_listdock(
    work_dir: Path, database: Path, options: RunOptions, pages: frozenset[str]
) -> Iterator[Served]:
    """Set listdock up with the CLI, create the named endpoint if needed, and serve it.

    Raises ListdockUnavailableError when the CLI is missing or one of its set-up commands
    fails, and BenchmarkError when the server runs but the list cannot be found. When only
    `listdock endpoint create` fails, the endpoint page is reported unavailable and the
    entity page is still measured.
    """
    instance = set_up_listdock(work_dir / "listdock-data", database, "Chinook", LISTDOCK_SETTINGS)
    unavailable: dict[str, str] = {}
    if FILTERED_PAGE in pages:
        try:
            create_endpoint(instance.command, instance.env, database)
        except ListdockUnavailableError as error:
            unavailable[FILTERED_PAGE] = str(error)
    if pages <= unavailable.keys():
        yield Served({}, unavailable)
        return

    port = free_port()
    base_url = f"http://{HOST}:{port}"
    headers = {"Authorization": f"Bearer {instance.token}"}
    command = instance.serve_command(port, options.workers)
    log_path = work_dir / "listdock.log"
    with ServerProcess("listdock", command, env=instance.env, log_path=log_path) as server:
        server.wait_until_ready(f"{base_url}/api/v2/entity", headers)
        targets: dict[str, Target] = {}
        if ENTITY_PAGE in pages:
            entity_id = instance.find_entity_id(base_url, "InvoiceLine")
            path = LISTDOCK_PATH.format(entity_id=entity_id, size=PAGE_SIZE)
            targets[ENTITY_PAGE] = Target(base_url + path, headers)
        if FILTERED_PAGE in pages and FILTERED_PAGE not in unavailable:
            targets[FILTERED_PAGE] = Target(base_url + ENDPOINT_PATH, headers)
        if APIUSER_PAGE in pages:
            targets[APIUSER_PAGE] = api_user_target(instance, base_url)
        yield Served(targets, unavailable)


def api_user_target(instance: ListdockInstance, base_url: str) -> Target:
    """Set up the API user through the REST API and return its entity page target.

    Raises BenchmarkError when a set-up request fails or the API user's page differs from
    the administrator's.
    """
    admin_headers = {"Authorization": f"Bearer {instance.token}"}
    entity_id = instance.find_entity_id(base_url, "InvoiceLine")
    entity = get_json(f"{base_url}/api/v2/entity/{entity_id}", admin_headers)
    token = create_api_user(base_url, admin_headers, str(entity["ConnectorId"]))

    url = base_url + LISTDOCK_PATH.format(entity_id=entity_id, size=PAGE_SIZE)
    api_user_headers = {"Authorization": f"Bearer {token}"}
    admin_rows = get_json(url, admin_headers)
    api_user_rows = get_json(url, api_user_headers)
    if api_user_rows != admin_rows:
        raise BenchmarkError(
            f"The API user's entity page differs from the administrator's at {url}: "
            f"{len(api_user_rows)} rows against {len(admin_rows)}, first row "
            f"{api_user_rows[:1]} against {admin_rows[:1]}."
        )
    return Target(url, api_user_headers)


def create_api_user(base_url: str, admin_headers: Mapping[str, str], connector_id: str) -> str:
    """Create the API user, its two teams, the custom role and the grant; return its token.

    Team A has the custom role APIUSER_ROLE and team B the connector grant APIUSER_GRANT.
    The API user has no role or grant of its own, so every right comes through a team.
    """
    api = f"{base_url}/api/v2"
    send_json("POST", f"{api}/role", admin_headers, APIUSER_ROLE, expected=201)
    user = send_json(
        "POST",
        f"{api}/user",
        admin_headers,
        {"Name": "bench app", "Kind": "api", "TokenName": "bench"},
        expected=201,
    )
    team_ids = []
    for name in ("Bench readers", "Bench data"):
        team = send_json(
            "POST",
            f"{api}/team",
            admin_headers,
            {"Name": name, "Description": "Created by bench/data_api.py"},
            expected=201,
        )
        team_ids.append(str(team["TeamId"]))
        send_json(
            "POST",
            f"{api}/team/{team['TeamId']}/member",
            admin_headers,
            {"UserId": user["UserId"]},
            expected=201,
        )
    role_team, grant_team = team_ids
    send_json(
        "PUT",
        f"{api}/team/{role_team}/role",
        admin_headers,
        {"Roles": [APIUSER_ROLE["Name"]]},
        expected=200,
    )
    send_json(
        "PUT",
        f"{api}/team/{grant_team}/connector/{connector_id}",
        admin_headers,
        APIUSER_GRANT,
        expected=200,
    )
    return str(user["Token"]["Value"])


def create_endpoint(command: tuple[str, ...], env: Mapping[str, str], database: Path) -> None:
    """Create the InvoiceLinesFrom endpoint with `listdock endpoint create`.

    `listdock connector add sqlite FILE` names the connector's only company after the file
    name without its suffix, so the company is ``database.stem``.
    """
    run_cli(
        command,
        env,
        [
            "endpoint",
            "create",
            ENDPOINT_NAME,
            "--list",
            "InvoiceLine",
            "--company",
            database.stem,
            "--param",
            ENDPOINT_PARAMETER,
            "--max-records",
            str(PAGE_SIZE),
        ],
        label="endpoint create",
    )


def print_summary(results: Mapping[str, LoadResult | None]) -> None:
    print()
    print(f"{'target':<18} {'requests/s':>11} {'median ms':>10} {'requests':>9}  client")
    for name, result in results.items():
        if result is None:
            print(f"{name:<18} {'not measured':>11}")
            continue
        print(
            f"{name:<18} {result.requests_per_second:>11.1f} {result.median_ms:>10.2f} "
            f"{result.requests:>9}  {result.client}"
        )

    print()
    computed = ratios(results)
    for ratio in RATIOS:
        # Print only the ratios whose two targets were chosen with --targets.
        if ratio.listdock not in results or ratio.baseline not in results:
            continue
        label = f"{ratio.label} ({ratio.listdock}/{ratio.baseline})"
        value = computed.get(ratio.label)
        if value is None:
            print(f"{label:<57} n/a (goal >= {ratio.goal})")
            continue
        verdict = "met" if value >= ratio.goal else "missed"
        print(f"{label:<57} {value:.2f} (goal >= {ratio.goal}, {verdict})")


def ratios(results: Mapping[str, LoadResult | None]) -> dict[str, float | None]:
    """Return each ratio of RATIOS by label, or None when either target was not measured."""
    computed: dict[str, float | None] = {}
    for ratio in RATIOS:
        listdock = results.get(ratio.listdock)
        baseline = results.get(ratio.baseline)
        if listdock is None or baseline is None:
            computed[ratio.label] = None
            continue
        computed[ratio.label] = listdock.requests_per_second / baseline.requests_per_second
    return computed


if __name__ == "__main__":
    sys.exit(main())
