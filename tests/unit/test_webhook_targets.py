"""Webhook URLs into blocked networks are rejected when saved and before every post.

Nothing here connects anywhere: host names resolve through a fake resolver.
"""

from __future__ import annotations

import pytest

from listdock.errors import ConfigurationError, InvalidInputError, SourceConnectionError
from listdock.security.webhook_targets import WebhookTargets, parse_networks


def targets(answers: dict[str, list[str]], blocked: str | None = None) -> WebhookTargets:
    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    if blocked is None:
        return WebhookTargets(resolve=resolve)
    return WebhookTargets(parse_networks(blocked), resolve=resolve)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1%25eth0]:8080/",
        "http://0.0.0.0:9000/",
        "http://224.0.0.1/",
    ],
)
def test_blocked_address_rejected_when_saved(url: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        targets({}).check_definition(url)

    assert raised.value.message == "Url points to a blocked network"
    assert raised.value.code == "invalid_url"


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/x", "http://10.0.0.5/", "http://127.0.0.1:8080/"]
)
def test_other_addresses_saved(url: str) -> None:
    targets({}).check_definition(url)


def test_name_resolving_to_metadata_rejected_before_post() -> None:
    checker = targets({"metadata.example": ["10.0.0.1", "169.254.169.254"]})

    with pytest.raises(SourceConnectionError) as raised:
        checker.check_before_post("http://metadata.example/", "action-1")

    assert raised.value.code == "webhook_blocked"
    assert raised.value.message == "The webhook address is in a blocked network"


def test_name_resolving_elsewhere_passes() -> None:
    checker = targets({"hooks.example": ["203.0.113.7", "2001:db8::7"]})

    checker.check_before_post("https://hooks.example/path", "action-1")


def test_unknown_name_is_unreachable() -> None:
    with pytest.raises(SourceConnectionError) as raised:
        targets({}).check_before_post("http://nowhere.example/", "action-1")

    assert raised.value.code == "webhook_unreachable"


def test_deployment_can_block_loopback() -> None:
    checker = targets({"localhost": ["::1", "127.0.0.1"]}, blocked="127.0.0.0/8, ::1")

    with pytest.raises(SourceConnectionError):
        checker.check_before_post("http://localhost:8080/", "action-1")
    with pytest.raises(InvalidInputError):
        checker.check_definition("http://127.0.0.1/")


def test_empty_setting_blocks_nothing() -> None:
    checker = targets({"metadata.example": ["169.254.169.254"]}, blocked="")

    checker.check_before_post("http://metadata.example/", "action-1")


def test_invalid_network_setting_named() -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_networks("10.0.0.0/8, not-a-network")

    assert "'not-a-network'" in raised.value.message
