"""One webhook request, sent safely. Plain functions over the standard library
(``socket``, ``ssl``, ``http.client``); no ORM.

Server-side request forgery is refused: the host is resolved and *every* address it
resolves to must be public (not private, loopback, link-local, shared, reserved,
multicast or unspecified, IPv4-mapped and 6to4/Teredo forms included), unless
``allow_private`` (the ``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`` setting, for tests and
on-premises ERPs). The connection then goes to the address that was checked (pinned:
a second DNS answer cannot swap in an internal one), with the original host name for
TLS verification (SNI) and the ``Host`` header. Plain ``http://`` only under the same
setting; redirects are never followed; 5 seconds at most per request.

Signature: ``X-Signature: sha256=<hex>`` where ``<hex>`` is
HMAC-SHA256(secret, ``"<timestamp>." + body``), ``<timestamp>`` being the Unix time
sent in ``X-Webhook-Timestamp``. Receivers recompute it over the raw body, compare in
constant time and refuse timestamps more than 5 minutes old.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from invoiceportal.common.errors import ApplicationError

TIMEOUT_SECONDS = 5.0
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_RESPONSE_BYTES = 2048
SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
EVENT_ID_HEADER = "X-Webhook-Id"
EVENT_TYPE_HEADER = "X-Webhook-Event"
USER_AGENT = "InvoicePortal-Webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ApplicationError):
    """The URL may not be called (scheme, host or an address it resolves to)."""

    default_code = "address_refused"


class Unresolvable(AddressRefused):
    default_code = "unresolvable"


# ------------------------------------------------------------------ signatures


def webhook_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_signature_valid(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    expected = webhook_signature(secret, sent, body)
    return hmac.compare_digest(expected, signature or "")


# ------------------------------------------------------------------ addresses


def _kind_of(address: IPAddress) -> str | None:
    """Why ``address`` is not public (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None:
            inner = _kind_of(embedded)
            if inner:
                return inner
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "private"
    return None


def _kind_label(kind: str) -> str:
    labels = {
        "loopback": _("a loopback address"),
        "link-local": _("a link-local address"),
        "unspecified": _("an unspecified address"),
        "multicast": _("a multicast address"),
        "private": _("a private address"),
        "reserved": _("a reserved address"),
    }
    return labels[kind]


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why ``address`` (an IP literal) may not be called, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    kind = _kind_of(ip)
    if kind is None:
        return None
    if allow_private and kind not in ("unspecified", "multicast"):
        return None
    return _kind_label(kind)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...] = field(default=())


def parse_webhook_url(url: str, *, allow_private: bool) -> Target:
    """Check the URL's form (scheme, host, port, no credentials); no DNS here."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise AddressRefused(_("The address is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise AddressRefused(_("Use an https:// address."))
    if scheme == "http" and not allow_private:
        raise AddressRefused(
            _(
                "Plain http:// is not allowed: use an https:// address (http is "
                "accepted only where WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is on)."
            )
        )
    if parts.username is not None or parts.password is not None:
        raise AddressRefused(_("The address may not contain a user name or password."))
    host = parts.hostname or ""
    if not host:
        raise AddressRefused(_("The address has no host name."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = 443 if scheme == "https" else 80
    return Target(scheme=scheme, host=host, port=port or default_port, path=path)


def resolve_webhook_target(target: Target, *, allow_private: bool) -> Target:
    """Resolve the host and check every address; the target pinned to them."""
    try:
        infos = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError, OSError):
        raise Unresolvable(
            _("%(host)s could not be resolved: check the address.")
            % {"host": target.host}
        ) from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolvable(
            _("%(host)s could not be resolved: check the address.")
            % {"host": target.host}
        )
    for address in addresses:
        reason = address_refusal(address, allow_private=allow_private)
        if reason is None:
            continue
        if address == target.host:
            message = _(
                "%(address)s is %(reason)s: webhooks are sent only to public addresses."
            ) % {"address": address, "reason": reason}
        else:
            message = _(
                "%(host)s resolves to %(address)s, %(reason)s: webhooks are sent "
                "only to public addresses."
            ) % {"host": target.host, "address": address, "reason": reason}
        raise AddressRefused(message, details={"address": address})
    return Target(
        scheme=target.scheme,
        host=target.host,
        port=target.port,
        path=target.path,
        addresses=tuple(addresses),
    )


def check_webhook_url(url: str, *, allow_private: bool) -> Target:
    """The URL's form and every address it resolves to (for registration)."""
    target = parse_webhook_url(url, allow_private=allow_private)
    return resolve_webhook_target(target, allow_private=allow_private)


# ------------------------------------------------------------------ sending


def _open_socket(address: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to an IP literal, without asking any resolver again."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address, whatever the DNS says now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _open_socket(self._address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified for the host name."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: str,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = _open_socket(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class SendResult:
    status: int | None
    error_code: str  # an ErrorCode value, "" when delivered
    error: str  # technical detail for the log
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return not self.error_code


def _connection(target: Target, address: str, timeout: float) -> Any:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(
            target.host,
            target.port,
            address=address,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    return _PinnedHTTPConnection(
        target.host, target.port, address=address, timeout=timeout
    )


def webhook_post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    timeout: float = TIMEOUT_SECONDS,
) -> SendResult:
    """POST ``body`` once. Never raises for a network problem: the result says
    what happened (an address refusal included, without any request sent)."""
    started = time.monotonic()

    def result(status: int | None, code: str, error: str) -> SendResult:
        elapsed = int((time.monotonic() - started) * 1000)
        return SendResult(status, code, error[:2000], elapsed)

    try:
        target = check_webhook_url(url, allow_private=allow_private)
    except Unresolvable as exc:
        return result(None, "unresolvable", str(exc.message))
    except AddressRefused as exc:
        return result(None, "address_refused", str(exc.message))

    deadline = started + timeout
    last: SendResult | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn = _connection(target, address, remaining)
        try:
            conn.connect()
            conn.request(
                "POST",
                target.path,
                body=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": USER_AGENT,
                    **headers,
                },
            )
            conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
            response = conn.getresponse()
            excerpt = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
            status = response.status
        except TimeoutError as exc:
            return result(None, "timeout", f"{type(exc).__name__}: {exc}")
        except ssl.SSLError as exc:
            return result(None, "tls", f"{type(exc).__name__}: {exc}")
        except (OSError, http.client.HTTPException) as exc:
            # Refused or unreachable: the next checked address may answer.
            last = result(None, "connection", f"{type(exc).__name__}: {exc}")
            continue
        finally:
            conn.close()
        if 200 <= status < 300:
            return result(status, "", "")
        if 300 <= status < 400:
            location = response.getheader("Location", "")
            return result(status, "redirect", f"HTTP {status} -> {location}")
        return result(status, "http_status", f"HTTP {status}: {excerpt[:500]}")
    if last is not None:
        return last
    return result(None, "timeout", f"no answer within {timeout:g} s")
