"""Where a scan's webhook may be sent: public addresses only.

A webhook URL is chosen by whoever makes a scan, and the registry's workers then POST to it from
inside the deployment's network. Left unchecked that is a server-side request forgery: a URL
naming 127.0.0.1, a database on 10.0.0.5 or a cloud metadata service on 169.254.169.254 would make
the registry send requests, and report their status codes, where no outsider can reach. So:

1. **When the scan is made** (the form and the API), `check_url` refuses what the URL itself
   shows: a scheme other than http/https, credentials, no host, a literal IP address that is not
   public, and names that always mean this machine or its private network (``localhost``,
   ``*.localhost``, ``*.internal``, ``*.local``). No DNS lookup happens in the request: a name
   can resolve differently later anyway.
2. **When the webhook is delivered**, the connection is checked *after* it is made: the address
   the socket actually reached must be public (`opener`). That one check covers names that
   resolve to private addresses and names whose DNS answer changes between the check and the
   request (DNS rebinding). Redirects are not followed: a receiver answers 2xx or the delivery
   is retried, so a 3xx cannot send the request on to an internal address.

`REGISTRY["WEBHOOK_ALLOW_PRIVATE"]` (environment `REGISTRY_WEBHOOK_ALLOW_PRIVATE=1`) lifts both
checks for a deployment whose receivers live on its own private network, and for tests that run
a receiver on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import ipaddress
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

# Names that resolve to this machine or a private network by convention (RFC 6761, RFC 6762,
# and the ".internal" names cloud providers give their private hosts).
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")
_PRIVATE_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
HOW_TO_ALLOW = "set REGISTRY_WEBHOOK_ALLOW_PRIVATE=1 if this deployment's receivers are on its own network"


class BlockedAddress(OSError):
    """The webhook's connection reached an address that is not public (raised before sending)."""


def private_allowed() -> bool:
    return bool(settings.REGISTRY.get("WEBHOOK_ALLOW_PRIVATE", False))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; False for loopback, private, link-local,
    shared (CGNAT), multicast, reserved and unspecified ones, and for IPv6 forms that embed such
    an IPv4 address (``::ffff:127.0.0.1``)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Refuse a webhook URL that is not http(s) or that plainly names a non-public host.

    Raises:
        ValidationError: with a sentence saying what is wrong.
    """
    if not url:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValidationError(f"The webhook URL is not valid: {exc}.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("The webhook URL must be http:// or https://.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "The webhook URL must not hold a user name or password: check the signature header instead."
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ValidationError("The webhook URL has no host name.")
    if private_allowed():
        return
    try:
        public = is_public_address(host)
    except ValueError:  # a name, not an address
        if host in _PRIVATE_NAMES or host.endswith(_PRIVATE_SUFFIXES):
            raise ValidationError(
                f"The webhook URL names a host on this machine or a private network ({host}); "
                f"webhooks go to public addresses only ({HOW_TO_ALLOW})."
            ) from None
        return
    if not public:
        raise ValidationError(
            f"The webhook URL's address {host} is not a public address; webhooks go to public "
            f"addresses only ({HOW_TO_ALLOW})."
        )


def _check_peer(connection: http.client.HTTPConnection) -> None:
    """Close the connection unless the address it reached is public."""
    if private_allowed():
        return
    peer = connection.sock.getpeername()[0]
    if not is_public_address(peer):
        connection.close()
        raise BlockedAddress(
            f"{connection.host} is at {peer}, which is not a public address ({HOW_TO_ALLOW})"
        )


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        _check_peer(self)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self):
        # HTTPSConnection.connect opens the TCP connection, then wraps it in TLS: the peer is
        # checked after the handshake, still before a byte of the request is sent.
        super().connect()
        _check_peer(self)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx comes back as an HTTPError: not delivered, retried later


def opener() -> urllib.request.OpenerDirector:
    """A urllib opener that connects to public addresses only and never follows a redirect."""
    # No proxy from the environment either: the check must see the receiver's address, not a proxy's.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _HTTPHandler, _HTTPSHandler, _NoRedirects
    )
