"""The networks a webhook action may not post to.

A webhook action posts records to a URL that a Developer chose, from the server's own
network position. Some addresses are never a webhook receiver, but a post to them can reveal
secrets through the outcome shown to the user. They are the link-local range, where cloud
instance metadata services listen (169.254.169.254 and fd00:ec2::254), the unspecified and
"this host" addresses, and multicast. ``WebhookTargets`` rejects those by default. A deployment
can replace the list with ``LISTDOCK_WEBHOOK_BLOCKED_NETWORKS``, for example to add
loopback (127.0.0.0/8, ::1) or its private ranges.

Two checks use the list. ``check_definition`` rejects a URL whose host is a blocked IP
address when an action is saved. ``check_before_post`` resolves the host just before each
post and rejects the post when any of its addresses is blocked.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from listdock.errors import ConfigurationError, InvalidInputError, SourceConnectionError

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_BLOCKED_NETWORKS = (
    "169.254.0.0/16,fe80::/10,fd00:ec2::254/128,0.0.0.0/8,::/128,224.0.0.0/4,ff00::/8"
)

Resolver = Callable[[str, int], list[str]]


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """Return the networks of a comma-separated list such as ``169.254.0.0/16,fe80::/10``.

    Raises ConfigurationError naming the first entry that is not a network or an address.
    """
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"LISTDOCK_WEBHOOK_BLOCKED_NETWORKS contains {entry!r}, which is not a network. "
                "Use addresses or networks such as 127.0.0.0/8, separated by commas."
            ) from None
    return tuple(networks)


def system_resolver(host: str, port: int) -> list[str]:
    """Return the addresses ``host`` resolves to, as the HTTP client would connect to them."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class WebhookTargets:
    """Decides whether a webhook URL points into a blocked network."""

    def __init__(
        self,
        blocked: Sequence[IPNetwork] = parse_networks(DEFAULT_BLOCKED_NETWORKS),
        resolve: Resolver = system_resolver,
    ) -> None:
        self._blocked = tuple(blocked)
        self._resolve = resolve

    def __repr__(self) -> str:
        return f"WebhookTargets(blocked={len(self._blocked)} networks)"

    def is_blocked(self, address: IPAddress) -> bool:
        """Return whether ``address`` (an IPv4-mapped IPv6 one as its IPv4) is blocked."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._blocked)

    def check_definition(self, url: str) -> None:
        """Raise InvalidInputError when the URL's host is an address in a blocked network.

        A host name is not resolved here: it is checked before every post instead.
        """
        address = _literal_address(urlsplit(url).hostname or "")
        if address is not None and self.is_blocked(address):
            raise InvalidInputError("Url points to a blocked network", code="invalid_url")

    def check_before_post(self, url: str, action_id: str) -> None:
        """Raise SourceConnectionError when the URL's host resolves into a blocked network.

        A host that does not resolve is reported as unreachable, as the post would be.
        """
        # NOTE: the HTTP client resolves the host again when it connects, so a name server
        # that returns another address the second time is not caught.
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = _literal_address(host)
        try:
            addresses = [literal] if literal is not None else self._resolved(host, port)
        except OSError as error:
            logger.warning("Webhook of action %s failed: %s", action_id, type(error).__name__)
            raise SourceConnectionError(
                "The webhook could not be reached", code="webhook_unreachable"
            ) from None
        if any(self.is_blocked(address) for address in addresses):
            logger.warning("Webhook of action %s points to a blocked network", action_id)
            raise SourceConnectionError(
                "The webhook address is in a blocked network", code="webhook_blocked"
            )

    def _resolved(self, host: str, port: int) -> list[IPAddress]:
        # An IPv6 address may carry a zone (fe80::1%eth0), which does not change its network.
        return [ipaddress.ip_address(text.split("%")[0]) for text in self._resolve(host, port)]


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None
