"""A closed-loop HTTP/1.1 load client, used by the benchmarks when wrk is not installed.

Each of ``--connections`` keep-alive connections sends a GET, reads the whole response and
sends the next one until ``--duration`` seconds have passed. The client prints one JSON object
with the request count, the failed request count, the elapsed seconds, requests per second
and the median and 99th percentile latency in milliseconds::

    python bench/load_client.py http://127.0.0.1:8001/invoice-lines --duration 5 \\
        --connections 8 --header "Authorization: Bearer ldk_..."

It only loads servers on the loopback interface, and it speaks plain HTTP only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
REQUEST_TIMEOUT_SECONDS = 30.0
STREAM_LIMIT_BYTES = 1 << 20


@dataclass
class ConnectionStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


class ResponseError(Exception):
    """A response that is not valid HTTP/1.1 as this client reads it."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response and return its status and whether the connection stays open.

    Raises ResponseError on a malformed status line, and asyncio.IncompleteReadError when
    the server closes the connection mid-response.
    """
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ResponseError(f"Invalid status line {status_line!r}")
    status = int(parts[1])

    headers: dict[bytes, bytes] = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    keep_alive = headers.get(b"connection") != b"close"

    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        await read_chunked_body(reader)
    else:
        await reader.read()
        keep_alive = False
    return status, keep_alive


async def read_chunked_body(reader: asyncio.StreamReader) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            # Skip the trailer section, which ends with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return
        await reader.readexactly(size + 2)


async def run_connection(
    host: str, port: int, request: bytes, deadline: float, stats: ConnectionStats
) -> None:
    """Send requests over one connection until ``deadline``, reconnecting after a failure."""
    loop = asyncio.get_running_loop()
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    try:
        while loop.time() < deadline:
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(
                        host, port, limit=STREAM_LIMIT_BYTES
                    )
                started = time.perf_counter()
                writer.write(request)
                status, keep_alive = await asyncio.wait_for(
                    read_response(reader), REQUEST_TIMEOUT_SECONDS
                )
                stats.latencies.append(time.perf_counter() - started)
                if not 200 <= status < 400:
                    stats.errors += 1
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ResponseError):
                stats.errors += 1
                keep_alive = False
                # Back off briefly so a server that is down does not spin the loop.
                await asyncio.sleep(0.01)
            if not keep_alive and writer is not None:
                writer.close()
                writer = reader = None
    finally:
        if writer is not None:
            writer.close()


async def run_load(
    url: str, headers: list[str], duration: float, connections: int
) -> dict[str, float]:
    """Load ``url`` and return the summary that the client prints."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise SystemExit(f"Only plain http:// URLs on the loopback interface are allowed: {url}")
    host = parts.hostname
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"

    request_lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]
    request = "\r\n".join(request_lines).encode("latin-1")

    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + duration
    all_stats = [ConnectionStats() for _ in range(connections)]
    await asyncio.gather(
        *(run_connection(host, port, request, deadline, stats) for stats in all_stats)
    )
    elapsed = loop.time() - started

    latencies = sorted(latency for stats in all_stats for latency in stats.latencies)
    if not latencies:
        raise SystemExit(f"No request to {url} completed in {duration} s.")
    return {
        "requests": len(latencies),
        "errors": sum(stats.errors for stats in all_stats),
        "seconds": elapsed,
        "requests_per_second": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url", help="http:// URL on 127.0.0.1 to request with GET")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to load (10)")
    parser.add_argument("--connections", type=int, default=8, help="open connections (8)")
    parser.add_argument(
        "--header", action="append", default=[], help="request header 'Name: value'; repeatable"
    )
    args = parser.parse_args(argv)

    try:
        import uvloop
    except ImportError:
        summary = asyncio.run(run_load(args.url, args.header, args.duration, args.connections))
    else:
        summary = uvloop.run(run_load(args.url, args.header, args.duration, args.connections))
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
