"""Measure how fast listdock serves an embedded grid widget over Chinook's InvoiceLine table.

The script sets listdock up like bench/data_api.py (`listdock init`, `listdock connector add
sqlite`, an administrator token), starts `listdock serve`, and creates through the REST API
a grid widget over InvoiceLine with 50 rows per page (PageSize), a widget token for the
administrator and an embed session. It then loads three targets in turn:

    bare         bench/bare_app.py's GET /invoice-lines: 100 rows as JSON, no authentication
    embed-page   GET /embed/{EmbedId}?token=<widget token>: the full HTML page a host
                 application frames, opened with the long-lived widget token
    embed-view   GET /embed/{EmbedId}/view?skip=0&sort=&desc=&field=&q= with
                 `Authorization: Bearer lde_...`: the HTML fragment the page fetches for
                 each page, sort and search, with the embed session from
                 POST /api/v2/widget/{WidgetId}/embed

The widget is created with PageSize 50 (a grid's default is 25), so both embed targets
carry 50 rows against bare's 100.

An embed session (``lde_...``) is a signed value that expires at most 15 minutes after it
was issued. Each use returns a renewed value in the X-Embed-Session header, but the value
used stays valid until its own expiry, so one value serves the whole load. The script checks
this before loading, checks that the session outlives the warm-up and the load, and checks
once more after the load that the value still works.

Before loading, each target must return 200, and each embed target must show the rows with
InvoiceLineId 1 to 50. A target whose load has any failed request (a non-2xx or non-3xx
status, or a socket error) stops the script with an error. No embed route redirects, so a
3xx would be a listdock fault too. Every server runs on 127.0.0.1 in its own process group,
and every server the script started is stopped when it exits, also on an error, Ctrl-C or
SIGTERM.

    .venv/bin/python bench/embed.py --duration 10 --connections 8
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from data_api import (
    ENTITY_PAGE,
    LISTDOCK_SETTINGS,
    RunOptions,
    Target,
    load_argument_parser,
    load_target,
    measure,
    read_expected_ids,
    run_options,
    serve_bare,
    start_run,
)
from load import LoadResult
from servers import (
    ADMIN_EMAIL,
    HOST,
    BenchmarkError,
    ListdockInstance,
    ListdockUnavailableError,
    ServerProcess,
    free_port,
    get_json,
    send_json,
    set_up_listdock,
)

GRID_PAGE_SIZE = 50
VIEW_QUERY = "skip=0&sort=&desc=&field=&q="
SESSION_HEADER = "X-Embed-Session"
SESSION_PREFIX = "lde_"
# Seconds an embed session must still have left after the warm-up and the load.
SESSION_MARGIN_SECONDS = 60
# Each grid row carries its primary key as JSON, for example data-key='{"InvoiceLineId": 1}'.
ROW_KEY = re.compile(r"data-key='([^']*)'")
GOAL_VIEW_RATIO = 0.5


@dataclass(frozen=True)
class EmbedTargets:
    """The two embed targets and the embed session the view target presents."""

    page: Target
    view: Target
    session_expires_at: datetime


def main(argv: list[str] | None = None) -> int:
    args = load_argument_parser(__doc__).parse_args(argv)
    if not start_run(args):
        return 2

    try:
        results = run_all(args.chinook, run_options(args))
    except (BenchmarkError, ListdockUnavailableError) as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted. Every server this run started has been stopped.", file=sys.stderr)
        return 130

    print_summary(results)
    return 0


def run_all(chinook: Path, options: RunOptions) -> dict[str, LoadResult]:
    """Measure bare, then the two embed targets; each server runs only during its targets."""
    with tempfile.TemporaryDirectory(prefix="listdock-bench-embed-") as temporary:
        work_dir = Path(temporary)
        database = work_dir / "Chinook_Sqlite.sqlite"
        shutil.copyfile(chinook, database)
        expected = read_expected_ids(database)[ENTITY_PAGE]

        results: dict[str, LoadResult] = {}
        with serve_bare(work_dir, database, options, frozenset({ENTITY_PAGE})) as served:
            results["bare"] = measure("bare", served.targets[ENTITY_PAGE], expected, options)

        instance = set_up_listdock(
            work_dir / "listdock-data", database, "Chinook", LISTDOCK_SETTINGS
        )
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        admin_headers = {"Authorization": f"Bearer {instance.token}"}
        command = instance.serve_command(port, options.workers)
        log_path = work_dir / "listdock.log"
        with ServerProcess("listdock", command, env=instance.env, log_path=log_path) as server:
            server.wait_until_ready(f"{base_url}/api/v2/entity", admin_headers)
            targets = set_up_widget(instance, base_url)
            require_session_lifetime(targets.session_expires_at, options)
            check_embed_html("embed-page", targets.page, expected[:GRID_PAGE_SIZE])
            check_embed_html("embed-view", targets.view, expected[:GRID_PAGE_SIZE])
            check_session_reuse(targets.view)

            results["embed-page"] = load_target("embed-page", targets.page, options)
            results["embed-view"] = load_target("embed-view", targets.view, options)
            # The load sent one value throughout, so it must still work afterwards too.
            check_embed_html("embed-view", targets.view, expected[:GRID_PAGE_SIZE])
        return results


def set_up_widget(instance: ListdockInstance, base_url: str) -> EmbedTargets:
    """Create the grid widget, a widget token and an embed session; return the targets."""
    api = f"{base_url}/api/v2"
    admin_headers = {"Authorization": f"Bearer {instance.token}"}
    entity_id = instance.find_entity_id(base_url, "InvoiceLine")
    widget = send_json(
        "POST",
        f"{api}/widget",
        admin_headers,
        {
            "Name": "Invoice lines",
            "Type": "grid",
            "EntityId": entity_id,
            "PageSize": GRID_PAGE_SIZE,
        },
        expected=201,
    )
    widget_id, embed_id = str(widget["WidgetId"]), str(widget["EmbedId"])

    admin_id = find_admin_id(api, admin_headers)
    created = send_json(
        "POST",
        f"{api}/widget/{widget_id}/token",
        admin_headers,
        {"UserId": admin_id, "Name": "bench embed"},
        expected=201,
    )
    widget_token = str(created["Token"]["Value"])

    embed = send_json(
        "POST",
        f"{api}/widget/{widget_id}/embed",
        {"Authorization": f"Bearer {widget_token}"},
        {},
        expected=200,
    )
    session_values = parse_qs(urlsplit(str(embed["Url"])).query).get("token", [])
    if len(session_values) != 1 or not session_values[0].startswith(SESSION_PREFIX):
        raise BenchmarkError(
            f"POST /api/v2/widget/{widget_id}/embed returned a Url without one "
            f"token={SESSION_PREFIX}... parameter."
        )
    expires_at = datetime.fromisoformat(str(embed["ExpiresAt"]).replace("Z", "+00:00"))
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)

    embed_url = f"{base_url}/embed/{embed_id}"
    return EmbedTargets(
        page=Target(f"{embed_url}?token={widget_token}", {}),
        view=Target(
            f"{embed_url}/view?{VIEW_QUERY}",
            {"Authorization": f"Bearer {session_values[0]}"},
        ),
        session_expires_at=expires_at,
    )


def find_admin_id(api: str, admin_headers: Mapping[str, str]) -> str:
    """Return the UserId of the administrator that set_up_listdock created."""
    users = get_json(f"{api}/user", admin_headers)
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict) and user.get("Email") == ADMIN_EMAIL:
            return str(user["UserId"])
    raise BenchmarkError(f"No user with Email {ADMIN_EMAIL} in GET /api/v2/user.")


def require_session_lifetime(expires_at: datetime, options: RunOptions) -> None:
    """Raise BenchmarkError when the embed session could expire before the load ends."""
    left = (expires_at - datetime.now(UTC)).total_seconds()
    needed = options.warmup + 2 * options.duration + SESSION_MARGIN_SECONDS
    if left < needed:
        raise BenchmarkError(
            f"The embed session expires in {left:.0f} s, but the embed targets need about "
            f"{needed} s. An embed session lasts at most 15 minutes, so pass a shorter "
            "--duration or --warmup."
        )


def get_with_headers(target: Target) -> tuple[int, Mapping[str, str], str]:
    """Send one GET and return the status, the response headers and the body as text."""
    request = urllib.request.Request(target.url, headers=dict(target.headers))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30.0) as response:  # noqa: S310
            return int(response.status), response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


def check_embed_html(name: str, target: Target, expected_ids: list[int]) -> None:
    """Raise BenchmarkError unless the target returns 200 with exactly these grid rows."""
    status, _headers, body = get_with_headers(target)
    if status != 200:
        raise BenchmarkError(f"{name} returned {status} at {target.url}: {body[:300]!r}")
    ids = [json.loads(key).get("InvoiceLineId") for key in ROW_KEY.findall(body)]
    if ids != expected_ids:
        raise BenchmarkError(
            f"{name} showed rows with InvoiceLineIds {ids[:5]}... ({len(ids)} rows); expected "
            f"{expected_ids[0]} to {expected_ids[-1]} ({len(expected_ids)} rows)."
        )


def check_session_reuse(view: Target) -> None:
    """Raise BenchmarkError unless an embed session works again after it was renewed.

    wrk sends the same Authorization header on every request, so the load is valid only
    when a used value keeps working until its expiry.
    """
    status, headers, body = get_with_headers(view)
    renewed = headers.get(SESSION_HEADER, "")
    if status != 200 or not renewed.startswith(SESSION_PREFIX):
        raise BenchmarkError(
            f"The first embed-view request returned {status} with no renewed "
            f"{SESSION_HEADER} header: {body[:300]!r}"
        )
    status, _headers, body = get_with_headers(view)
    if status != 200:
        raise BenchmarkError(
            f"The embed session stopped working after it was renewed once ({status}: "
            f"{body[:300]!r}), so a load that repeats one value would measure errors."
        )
    renewed_view = Target(view.url, {"Authorization": f"Bearer {renewed}"})
    status, _headers, body = get_with_headers(renewed_view)
    if status != 200:
        raise BenchmarkError(f"The renewed embed session returned {status}: {body[:300]!r}")


def print_summary(results: Mapping[str, LoadResult]) -> None:
    print()
    print(f"{'target':<12} {'requests/s':>11} {'median ms':>10} {'requests':>9}  client")
    for name, result in results.items():
        print(
            f"{name:<12} {result.requests_per_second:>11.1f} {result.median_ms:>10.2f} "
            f"{result.requests:>9}  {result.client}"
        )
    bare = results["bare"].requests_per_second
    view_ratio = results["embed-view"].requests_per_second / bare
    page_ratio = results["embed-page"].requests_per_second / bare
    verdict = "met" if view_ratio >= GOAL_VIEW_RATIO else "missed"
    print()
    print(
        f"in-page/bare (embed-view/bare)  {view_ratio:.2f} (goal >= {GOAL_VIEW_RATIO}, {verdict})"
    )
    print(f"page/bare (embed-page/bare)     {page_ratio:.2f} (no goal)")


if __name__ == "__main__":
    sys.exit(main())
