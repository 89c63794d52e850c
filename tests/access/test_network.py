"""The client address comes from REMOTE_ADDR, or behind our own proxy from the entry it wrote."""

from __future__ import annotations

from django.test import RequestFactory

from access.network import client_ip


def test_without_a_proxy_forwarded_headers_are_ignored(settings) -> None:
    settings.BEHIND_PROXY = False
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "10.0.0.5"


def test_behind_the_proxy_only_the_right_most_entry_counts(settings) -> None:
    settings.BEHIND_PROXY = True
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10")
    assert client_ip(request) == "192.0.2.10"
    bare = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
    assert client_ip(bare) == "127.0.0.1"
