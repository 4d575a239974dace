"""The signature a receiver checks: ``X-Loudou-Signature: t=<unix time>,v1=<hex>``, where
hex is HMAC-SHA256 with the subscription's secret over ``"<t>.<body>"``. Receivers
recompute it, compare in constant time, and refuse old timestamps (replays)."""

import hashlib
import hmac
import time

HEADER = "X-Loudou-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within the tolerance (for
    receivers written in Python, and the tests)."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
