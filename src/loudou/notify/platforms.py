"""How each chat platform wants a message: its richest format, its length limit, its
signature. A message is a title and a markdown text; ``request`` wraps it for the channel.

- 企业微信 group robot: ``{"msgtype": "markdown", "markdown": {"content"}}``, content at
  most 4096 bytes of UTF-8; the key is in the URL, no signature.
- 钉钉 custom robot: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with 加签
  the URL gets ``timestamp`` (ms) and ``sign`` = URL-encoded Base64 of HMAC-SHA256 keyed by
  the secret over ``"<timestamp>\\n<secret>"``.
- 飞书 custom bot: an interactive card (header and a markdown element); with 签名校验 the
  body carries ``timestamp`` (s) and ``sign`` = Base64 of HMAC-SHA256 keyed by
  ``"<timestamp>\\n<secret>"`` over an empty message; the body stays under 20 KB.
- generic webhook: ``{"kind", "team", "lang", "title", "text"}``, signed like Loudou's
  webhooks (``X-Loudou-Signature``) when a secret is set.

A platform's answer is checked too: they say 200 with an error code in the body."""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from loudou.webhooks.signing import HEADER, sign

from .models import Platform

# Bytes of UTF-8 each platform accepts for the text (with room for the envelope).
LIMITS = {
    Platform.WECOM: 4096,
    Platform.DINGTALK: 18_000,
    Platform.FEISHU: 18_000,
    Platform.WEBHOOK: 60_000,
}
ELLIPSIS = "\n…"


@dataclass(frozen=True)
class Message:
    """What is sent: the same words on every platform."""

    kind: str
    team: str
    lang: str
    title: str
    text: str

    def markdown(self) -> str:
        """The message as one markdown text (what `loudou notify preview` prints)."""
        return f"## {self.title}\n\n{self.text}"


def truncate(text: str, limit: int) -> str:
    """``text`` cut at a line (or character) so that its UTF-8 fits in ``limit`` bytes."""
    if len(text.encode()) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    cut = text.encode()[:room].decode("utf-8", errors="ignore")
    if "\n" in cut:
        cut = cut.rsplit("\n", 1)[0]
    return cut + ELLIPSIS


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def request(
    platform: str, url: str, secret: str, message: Message, now: float | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers that send ``message`` to a channel."""
    now = time.time() if now is None else now
    text = truncate(message.markdown(), LIMITS[platform])
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Loudou-Notify/1"}
    body: dict[str, Any]
    if platform == Platform.WECOM:
        body = {"msgtype": "markdown", "markdown": {"content": text}}
    elif platform == Platform.DINGTALK:
        body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": text}}
        if secret:
            stamp = int(now * 1000)
            query = urllib.parse.urlencode(
                {"timestamp": stamp, "sign": dingtalk_sign(secret, stamp)}
            )
            url = f"{url}{'&' if '?' in url else '?'}{query}"
    elif platform == Platform.FEISHU:
        body = {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": message.title},
                    "template": "blue",
                },
                "elements": [
                    {"tag": "markdown", "content": truncate(message.text, LIMITS[platform])}
                ],
            },
        }
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
    else:
        body = {
            "kind": message.kind,
            "team": message.team,
            "lang": message.lang,
            "title": message.title,
            "text": truncate(message.text, LIMITS[platform]),
        }
    data = json.dumps(body, ensure_ascii=False).encode()
    if platform == Platform.WEBHOOK and secret:
        headers[HEADER] = sign(secret, data, int(now))
    return url, data, headers


def accepted(platform: str, status: int, answer: bytes) -> str | None:
    """None if the platform took the message, else why not."""
    if not 200 <= status < 300:
        return f"HTTP {status}"
    if platform == Platform.WEBHOOK:
        return None
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return "not a JSON answer"
    code = data.get("errcode", data.get("code", data.get("StatusCode", 0)))
    if code not in (0, None):
        return f"{code}: {data.get('errmsg') or data.get('msg') or ''}"[:500]
    return None
