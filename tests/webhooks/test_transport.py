"""Sending one webhook: SSRF refusals, the pinned connection, signatures, no
redirects, the timeout. No database: plain functions over the standard library."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from webhooks.transport import (
    TIMEOUT_SECONDS,
    AddressRefused,
    check_webhook_url,
    webhook_post,
    webhook_signature,
    webhook_signature_valid,
)

from .receiver import Receiver


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://127.8.9.10:8443/hook", "127.8.9.10 is a loopback address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://172.16.0.5/hook", "172.16.0.5 is a private address"),
        ("https://192.168.1.20/hook", "192.168.1.20 is a private address"),
        ("https://169.254.169.254/latest/meta-data", "a link-local address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://[fe80::1]/hook", "fe80::1 is a link-local address"),
        ("https://[fd00::7]/hook", "fd00::7 is a private address"),
        ("https://[::ffff:127.0.0.1]/hook", "a loopback address"),
        ("https://100.64.0.1/hook", "100.64.0.1 is a private address"),
        ("https://0.0.0.0/hook", "0.0.0.0 is an unspecified address"),
        ("https://2130706433/hook", "resolves to 127.0.0.1, a loopback address"),
        ("https://localhost/hook", "localhost resolves to"),
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url, expected):
    with pytest.raises(AddressRefused) as refused:
        check_webhook_url(url, allow_private=False)
    message = str(refused.value.message)
    assert expected in message
    assert "webhooks are sent only to public addresses" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://93.184.215.14/hook", "Plain http:// is not allowed"),
        ("ftp://93.184.215.14/hook", "Use an https:// address."),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
        ("https:///hook", "The address has no host name."),
        ("https://93.184.215.14:99999/hook", "not a valid URL"),
        ("not a url", "Use an https:// address."),
    ],
)
def test_malformed_or_plain_http_urls_are_refused_with_a_reason(url, expected):
    with pytest.raises(AddressRefused) as refused:
        check_webhook_url(url, allow_private=False)
    assert expected in str(refused.value.message)


def test_a_public_address_is_accepted_and_pinned():
    target = check_webhook_url("https://93.184.215.14/erp?x=1", allow_private=False)
    assert target.addresses == ("93.184.215.14",)
    assert (target.port, target.path) == (443, "/erp?x=1")


def test_the_setting_allows_private_addresses_and_plain_http():
    target = check_webhook_url("http://127.0.0.1:8080/hook", allow_private=True)
    assert target.addresses == ("127.0.0.1",)
    assert check_webhook_url("https://localhost/x", allow_private=True).addresses
    # Never a multicast or unspecified address, even on premises.
    with pytest.raises(AddressRefused, match="multicast"):
        check_webhook_url("http://224.0.0.1/x", allow_private=True)


def _fake_dns(monkeypatch, answers):
    """DNS is outside our walls: each lookup returns the next answer."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        addresses = answers[min(len(calls), len(answers)) - 1]
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_every_resolved_address_is_checked(monkeypatch):
    _fake_dns(monkeypatch, [["93.184.215.14", "10.0.0.8"]])
    with pytest.raises(AddressRefused) as refused:
        check_webhook_url("https://erp.example.com/hook", allow_private=False)
    assert "erp.example.com resolves to 10.0.0.8, a private address" in str(
        refused.value.message
    )


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(
    monkeypatch, receiver
):
    """DNS rebinding: a second answer (the metadata service) is never asked for or
    used; the request goes to the address that was checked."""
    calls = _fake_dns(monkeypatch, [["127.0.0.1"], ["169.254.169.254"]])
    url = f"http://erp.example.com:{receiver.port}/hook"
    result = webhook_post(url, b"{}", {}, allow_private=True)
    assert result.delivered, result
    assert calls == ["erp.example.com"]
    [request] = receiver.received()
    assert request.headers["Host"] == f"erp.example.com:{receiver.port}"


def test_a_refused_address_gets_no_request(receiver):
    result = webhook_post(receiver.url, b"{}", {}, allow_private=False)
    assert result.error_code == "address_refused"
    assert "Plain http:// is not allowed" in result.error
    https_local = f"https://127.0.0.1:{receiver.port}/hook"
    result = webhook_post(https_local, b"{}", {}, allow_private=False)
    assert result.error_code == "address_refused"
    assert "127.0.0.1 is a loopback address" in result.error
    assert receiver.received() == []


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac

    body = b'{"id":"e1","type":"invoice.decided"}'
    signature = webhook_signature("whsec_k", 1767225600, body)
    expected = hmac.new(b"whsec_k", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    now = 1767225600 + 10
    assert webhook_signature_valid("whsec_k", "1767225600", body, signature, now=now)
    assert not webhook_signature_valid(
        "whsec_k", "1767225600", body + b" ", signature, now=now
    )
    assert not webhook_signature_valid("other", "1767225600", body, signature, now=now)
    assert not webhook_signature_valid(
        "whsec_k", "1767225600", body, signature, now=now + 3600
    )
    assert not webhook_signature_valid("whsec_k", "soon", body, signature, now=now)


def test_redirects_are_not_followed():
    target = Receiver().start()
    redirecting = Receiver(status=302)
    redirecting.headers_out["Location"] = target.url
    redirecting.start()
    try:
        result = webhook_post(redirecting.url, b"{}", {}, allow_private=True)
    finally:
        redirecting.stop()
        target.stop()
    assert result.error_code == "redirect"
    assert result.status == 302
    assert len(redirecting.received()) == 1
    assert target.received() == []


def test_an_error_status_is_a_failure():
    failing = Receiver(status=503).start()
    try:
        result = webhook_post(failing.url, b"{}", {}, allow_private=True)
    finally:
        failing.stop()
    assert (result.status, result.error_code) == (503, "http_status")


def test_a_silent_receiver_times_out():
    assert TIMEOUT_SECONDS == 5.0
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    threading.Thread(
        target=lambda: accepted.append(server.accept()), daemon=True
    ).start()
    port = server.getsockname()[1]
    started = time.monotonic()
    try:
        result = webhook_post(
            f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True, timeout=0.5
        )
    finally:
        server.close()
    assert result.error_code == "timeout"
    assert time.monotonic() - started < 2


def test_a_closed_port_is_a_connection_failure():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = webhook_post(f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True)
    assert result.error_code == "connection"
