"""Measure what checking a token and resolving its owner's rights costs, in one process.

Every REST request to listdock's data routes first authenticates its token
(``TokenService.authenticate``) and then loads the owner's effective rights
(``listdock.security.policy.load_access``) in a new store session. This script times that
pair with no HTTP server, for two principals in a temporary SQLite store:

    apiuser  an API user with no role or grant of its own. Team A has a custom system
             role "Data reader" (api.read), and team B has a User grant on a SQLite
             connector with every company and list. The API user is in both teams.
    admin    the administrator, whose Administrator role allows everything.

Each principal gets a warm-up of unmeasured iterations, then ``--iterations`` measured ones.
Each iteration's duration comes from ``time.perf_counter_ns``. The script prints the median,
p90 and p99 in milliseconds, and the median of the first and last tenth of the run, so that
a cost that grows during the run shows. The store and the connector's database are
temporary files, deleted when the script exits, also after an error, Ctrl-C or SIGTERM.

    .venv/bin/python bench/auth_cost.py
    .venv/bin/python bench/auth_cost.py --iterations 10000   # a quick check
"""

from __future__ import annotations

import argparse
import math
import secrets
import signal
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

from listdock.app import Services, build_services
from listdock.connectors.engines import ConnectionSettings
from listdock.security import roles
from listdock.security.policy import load_access
from listdock.services.connectors import CompanySpec, ConnectorSpec
from listdock.services.grants import GrantSpec
from listdock.settings import Settings

CLIENT_IP = "127.0.0.1"
# The default limit of 6000 requests per token per minute would reject most iterations.
TOKEN_REQUEST_LIMIT = "100000000/minute"
GOAL_MEDIAN_MS = 0.5
ROLE_NAME = "Data reader"


class SetUpError(Exception):
    """The principals were not set up with the rights the measurement assumes."""


@dataclass(frozen=True)
class Principal:
    """A principal to measure: its label, id and the value of one of its tokens."""

    label: str
    principal_id: str
    token_value: str


@dataclass(frozen=True)
class Summary:
    """Statistics of one principal's iteration durations, in milliseconds."""

    iterations: int
    median_ms: float
    p90_ms: float
    p99_ms: float
    first_tenth_median_ms: float
    last_tenth_median_ms: float


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.iterations < 10:
        print("--iterations must be at least 10.", file=sys.stderr)
        return 2

    try:
        summaries = run(args.iterations, args.warmup_iterations)
    except SetUpError as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted. The temporary store has been deleted.", file=sys.stderr)
        return 130

    print()
    print(
        f"{'principal':<9} {'iterations':>10} {'median ms':>10} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'first 10% median':>17} {'last 10% median':>16}"
    )
    for label, summary in summaries.items():
        print(
            f"{label:<9} {summary.iterations:>10} {summary.median_ms:>10.3f} "
            f"{summary.p90_ms:>8.3f} {summary.p99_ms:>8.3f} "
            f"{summary.first_tenth_median_ms:>17.3f} {summary.last_tenth_median_ms:>16.3f}"
        )
    median = summaries["apiuser"].median_ms
    verdict = "met" if median < GOAL_MEDIAN_MS else "missed"
    print(f"\napiuser median {median:.3f} ms (goal < {GOAL_MEDIAN_MS} ms, {verdict})")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--iterations",
        type=int,
        default=100_000,
        help="measured iterations per principal (100000)",
    )
    parser.add_argument(
        "--warmup-iterations",
        type=int,
        default=1_000,
        help="unmeasured iterations per principal before the measured ones (1000)",
    )
    return parser.parse_args(argv)


def exit_on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    """Turn SIGTERM into SystemExit so that the temporary directory is deleted."""
    raise SystemExit(128 + signum)


def run(iterations: int, warmup_iterations: int) -> dict[str, Summary]:
    """Set up a temporary store, then time both principals in turn."""
    with tempfile.TemporaryDirectory(prefix="listdock-auth-cost-") as temporary:
        work_dir = Path(temporary)
        settings = Settings(
            data_dir=work_dir,
            database_url=f"sqlite:///{work_dir / 'listdock.db'}",
            secret_key=secrets.token_urlsafe(48),
            redis_url=None,
            token_request_limit=TOKEN_REQUEST_LIMIT,
        )
        services = build_services(settings)
        try:
            principals = set_up(services, create_source_database(work_dir / "source.sqlite"))
            summaries: dict[str, Summary] = {}
            for principal in principals:
                time_iterations(services, principal, warmup_iterations)
                durations = time_iterations(services, principal, iterations)
                summaries[principal.label] = summarize(durations)
                print(
                    f"{principal.label:<9} median {summaries[principal.label].median_ms:.3f} ms",
                    flush=True,
                )
            return summaries
        finally:
            services.close()


def create_source_database(path: Path) -> Path:
    """Create the small SQLite file the connector reads; its content does not matter here."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE Item (ItemId INTEGER PRIMARY KEY, Name TEXT NOT NULL)")
        connection.execute("INSERT INTO Item (Name) VALUES ('first'), ('second')")
        connection.commit()
    return path


def set_up(services: Services, source: Path) -> list[Principal]:
    """Create the administrator, the connector and the API user; return both principals.

    Raises SetUpError when the API user's loaded rights are not the ones described in the
    module docstring.
    """
    with services.sessions.begin() as session:
        admin = services.principals.create_user(
            session,
            name="Administrator",
            email="bench@example.com",
            password=secrets.token_urlsafe(24),
            actor_id=None,
        )
        services.principals.assign_system_roles(session, admin, ["Administrator"], actor_id=None)
        admin_token = services.tokens.create(session, admin, "bench", created_by=None)

        connector = services.connectors.create(
            session,
            ConnectorSpec(
                name="Source",
                type="sqlite",
                settings=ConnectionSettings(),
                companies=(CompanySpec(name=source.stem, database_name=str(source)),),
            ),
            actor_id=admin.id,
        )
        services.roles.create(
            session,
            name=ROLE_NAME,
            scope="system",
            permissions=[roles.READ_API],
            description="",
            actor_id=admin.id,
        )
        api_user = services.principals.create_api_user(session, name="bench app", actor_id=admin.id)
        api_user_token = services.tokens.create(session, api_user, "bench", created_by=admin.id)

        role_team = services.teams.create(
            session, name="Bench readers", description="", actor_id=admin.id
        )
        grant_team = services.teams.create(
            session, name="Bench data", description="", actor_id=admin.id
        )
        for team in (role_team, grant_team):
            services.teams.add_member(session, team, api_user, actor_id=admin.id)
        services.teams.assign_system_roles(session, role_team, [ROLE_NAME], actor_id=admin.id)
        services.grants.put(
            session,
            connector.id,
            GrantSpec(roles=["User"], companies="all", lists="all", details=[], actions=[]),
            team_id=grant_team.id,
            actor_id=admin.id,
        )
        connector_id = connector.id
        principals = [
            Principal("apiuser", api_user.id, api_user_token.value),
            Principal("admin", admin.id, admin_token.value),
        ]

    check_api_user_rights(services, principals[0].principal_id, connector_id)
    return principals


def check_api_user_rights(services: Services, principal_id: str, connector_id: str) -> None:
    """Raise SetUpError unless every right of the API user comes through its two teams."""
    with services.sessions() as session:
        access = load_access(session, principal_id)
    grant = access.connector(connector_id)
    problems = []
    if len(access.team_ids) != 2:
        problems.append(f"member of {len(access.team_ids)} teams, expected 2")
    if access.system_roles != {ROLE_NAME} or access.is_administrator:
        problems.append(f"system roles {sorted(access.system_roles)}, expected [{ROLE_NAME!r}]")
    if not access.has(roles.READ_API):
        problems.append(f"missing the {roles.READ_API} permission")
    if grant is None or roles.CONNECTOR_VIEW_DATA not in grant.permissions:
        problems.append("no grant to view the connector's data")
    if problems:
        raise SetUpError("The API user was set up wrongly: " + "; ".join(problems) + ".")


def time_iterations(services: Services, principal: Principal, iterations: int) -> list[int]:
    """Authenticate and load the rights ``iterations`` times; return each duration in ns.

    Each iteration does what a REST data request does before its query: check the token,
    then load the owner's rights in a new store session.
    """
    durations = [0] * iterations
    for index in range(iterations):
        start = time.perf_counter_ns()
        token = services.tokens.authenticate(principal.token_value, surface="api", ip=CLIENT_IP)
        with services.sessions() as session:
            load_access(session, token.principal_id)
        durations[index] = time.perf_counter_ns() - start
    return durations


def summarize(durations: list[int]) -> Summary:
    """Return nearest-rank percentiles of ``durations`` (in ns) in milliseconds."""
    tenth = max(1, len(durations) // 10)
    ordered = sorted(durations)
    return Summary(
        iterations=len(durations),
        median_ms=percentile(ordered, 0.5),
        p90_ms=percentile(ordered, 0.9),
        p99_ms=percentile(ordered, 0.99),
        first_tenth_median_ms=percentile(sorted(durations[:tenth]), 0.5),
        last_tenth_median_ms=percentile(sorted(durations[-tenth:]), 0.5),
    )


def percentile(ordered: list[int], fraction: float) -> float:
    """Return the nearest-rank percentile of sorted nanosecond values, in milliseconds."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1] / 1_000_000


if __name__ == "__main__":
    sys.exit(main())
