"""The address a request came from, for rate limits (django-axes).

Behind a reverse proxy every request arrives from the proxy's address, so keying lockouts on
``REMOTE_ADDR`` would let ten wrong passwords from anyone lock everyone out. With
``FRAMING_TRUSTED_PROXIES = n`` (the number of proxies in front of the app, each appending
the address it received from to ``X-Forwarded-For``), the client is the n-th address from
the right. Without it the header is ignored: a client could otherwise write any address.
"""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.FRAMING_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote  # not sent through the configured proxies
    return forwarded[-proxies]
