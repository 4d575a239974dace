"""Each platform's message format, length limit and signature (no database, no Django
models): a ``Message`` in, the HTTP request out.

What each platform documents, and what is used here:

- 企业微信 group robot: POST ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY``,
  ``{"msgtype": "markdown", "markdown": {"content": …}}``; the content is at most 4,096
  bytes (UTF-8). No signature (the key is the secret). Answer ``{"errcode": 0}``.
- 钉钉 custom robot: POST ``https://oapi.dingtalk.com/robot/send?access_token=TOKEN``
  ``&timestamp=MS&sign=SIGN``; with 加签, SIGN = URL-encoded Base64 of HMAC-SHA256 keyed
  by the secret over ``"{MS}\\n{secret}"`` (MS: milliseconds, within an hour of
  DingTalk's clock). ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; the
  request body is kept under 20,000 bytes. Answer ``{"errcode": 0}``.
- 飞书 custom bot: POST ``https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN``, an
  interactive card ``{"msg_type": "interactive", "card": {header, elements}}`` with
  markdown elements; with signature checking, the body carries ``timestamp`` (seconds)
  and ``sign`` = Base64 of HMAC-SHA256 keyed by ``"{timestamp}\\n{secret}"`` over an
  empty message. The request body is at most 20 KB. Answer ``{"code": 0}``.
- generic webhook: POST JSON to the URL, headers ``X-Loudou-Timestamp`` (seconds) and
  ``X-Loudou-Signature: sha256=HEX``, HMAC-SHA256 keyed by the secret over
  ``"{timestamp}.{body}"`` (the body's bytes); any 2xx answer is a success. Body at most
  256 KB.

A message too long for its platform loses its last lines, section by section, each
shortened section ending with "…and N more".
"""

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={}"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token={}"
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/{}"

# Byte limits: what is measured is said beside each.
WECOM_CONTENT_BYTES = 4096  # markdown.content, UTF-8
DINGTALK_BODY_BYTES = 20_000  # the JSON body
FEISHU_BODY_BYTES = 20_000  # the JSON body ("20K")
WEBHOOK_BODY_BYTES = 256 * 1024

TOKEN = re.compile(r"^[A-Za-z0-9_\-]{8,200}$")


@dataclass
class Section:
    """A heading and its lines (markdown inline: bold, links)."""

    heading: str
    lines: list[str] = field(default_factory=list)
    hidden: int = 0  # lines dropped to fit the platform's limit (or the builder's bound)


@dataclass
class Message:
    """A message before it takes a platform's shape."""

    kind: str
    title: str
    lead: str = ""
    sections: list[Section] = field(default_factory=list)
    link: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # the generic webhook's extra fields


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def to_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# -- signatures ------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: Base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp: int) -> str:
    """飞书: Base64(HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing)."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_sign(secret: str, timestamp: int, body: bytes) -> str:
    """The generic webhook's header value: sha256=HEX of HMAC-SHA256 over
    "timestamp." followed by the body."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# -- text ------------------------------------------------------------------------------


def _more(count: int) -> str:
    return _("…and %(count)s more") % {"count": count}


def markdown(message: Message, heading: str = "#") -> str:
    """The message as markdown: a title, the lead, bold section headings, bulleted lines."""
    parts = [f"{heading} {message.title}"]
    if message.lead:
        parts.append(message.lead)
    for section in message.sections:
        block = [f"**{section.heading}**"] if section.heading else []
        block += [f"- {line}" for line in section.lines]
        if section.hidden:
            block.append(f"- {_more(section.hidden)}")
        parts.append("\n".join(block))
    if message.link:
        parts.append(f"[{_('Open Loudou')}]({message.link})")
    return "\n\n".join(parts)


def fit(message: Message, size: Callable[[Message], int], limit: int) -> Message:
    """``message`` with lines dropped from its longest sections until ``size`` is within
    ``limit`` (each shortened section then ends with "…and N more")."""
    while size(message) > limit:
        longest = max(message.sections, key=lambda s: len(s.lines), default=None)
        if longest is None or not longest.lines:
            # Nothing left to drop: cut the lead; the title alone always fits.
            if message.lead:
                message.lead = ""
                continue
            break
        longest.lines.pop()
        longest.hidden += 1
    return message


# -- platforms -------------------------------------------------------------------------


def _url(address: str, template: str) -> str:
    """A full URL as given, else the platform's URL around the key or token."""
    address = address.strip()
    if address.startswith(("https://", "http://")):
        return address
    return template.format(urllib.parse.quote(address, safe=""))


def wecom_payload(message: Message) -> dict[str, Any]:
    fitted = fit(message, lambda m: len(markdown(m).encode()), WECOM_CONTENT_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": markdown(fitted)}}


def dingtalk_payload(message: Message) -> dict[str, Any]:
    def body(m: Message) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"title": m.title, "text": markdown(m, "###")}}

    # Leave room for the signature-free body's growth: none (DingTalk signs in the URL).
    return body(fit(message, lambda m: len(to_json(body(m))), DINGTALK_BODY_BYTES))


def feishu_card(message: Message) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    if message.lead:
        elements.append({"tag": "markdown", "content": message.lead})
    for section in message.sections:
        lines = [f"- {line}" for line in section.lines]
        if section.hidden:
            lines.append(f"- {_more(section.hidden)}")
        text = "\n".join(([f"**{section.heading}**"] if section.heading else []) + lines)
        elements += [{"tag": "hr"}, {"tag": "markdown", "content": text}]
    if message.link:
        elements.append(
            {
                "tag": "action",
                "actions": [
                    {
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": _("Open Loudou")},
                        "type": "primary",
                        "url": message.link,
                    }
                ],
            }
        )
    color = {"won": "green", "approval": "orange", "weekly": "purple"}.get(message.kind, "blue")
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": message.title}, "template": color},
            "elements": elements,
        },
    }


def feishu_payload(message: Message) -> dict[str, Any]:
    # 64 bytes of room for the timestamp and signature added when sending.
    fitted = fit(message, lambda m: len(to_json(feishu_card(m))), FEISHU_BODY_BYTES - 64)
    return feishu_card(fitted)


def webhook_payload(message: Message) -> dict[str, Any]:
    def body(m: Message) -> dict[str, Any]:
        return {
            "kind": m.kind,
            "title": m.title,
            "text": markdown(m),
            "sections": [
                {"heading": s.heading, "lines": s.lines, "more": s.hidden} for s in m.sections
            ],
            "link": m.link or None,
            **m.data,
        }

    return body(fit(message, lambda m: len(to_json(body(m))), WEBHOOK_BODY_BYTES))


PAYLOADS: dict[str, Callable[[Message], dict[str, Any]]] = {
    "wecom": wecom_payload,
    "dingtalk": dingtalk_payload,
    "feishu": feishu_payload,
    "webhook": webhook_payload,
}


def payload(kind: str, message: Message) -> dict[str, Any]:
    """The platform's JSON for ``message`` (unsigned: signatures carry the send time)."""
    return PAYLOADS[kind](message)


def request(
    *,
    kind: str,
    address: str,
    secret: str,
    payload: dict[str, Any],
    now: float,
    event: str = "",
) -> Request:
    """The signed HTTP request carrying ``payload``, signed for the instant ``now``
    (seconds since the epoch)."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Loudou"}
    if kind == "wecom":
        return Request(_url(address, WECOM_URL), to_json(payload), headers)
    if kind == "dingtalk":
        url = _url(address, DINGTALK_URL)
        if secret:
            ms = int(now * 1000)
            url += f"&timestamp={ms}&sign={dingtalk_sign(secret, ms)}"
        return Request(url, to_json(payload), headers)
    if kind == "feishu":
        body = dict(payload)
        if secret:
            seconds = int(now)
            body["timestamp"] = str(seconds)
            body["sign"] = feishu_sign(secret, seconds)
        return Request(_url(address, FEISHU_URL), to_json(body), headers)
    if kind == "webhook":
        body = to_json(payload)
        seconds = int(now)
        headers["X-Loudou-Timestamp"] = str(seconds)
        if event:
            headers["X-Loudou-Event"] = event
        if secret:
            headers["X-Loudou-Signature"] = webhook_sign(secret, seconds, body)
        return Request(_url(address, "{}"), body, headers)
    raise ValueError(f"unknown channel kind {kind!r}")


def answer_error(kind: str, status: int, body: bytes) -> str:
    """Why an answer is a failure, or "" for a success: the chat platforms answer 200
    with an error code in the JSON when they refuse a message (bad signature, limit)."""
    if not 200 <= status < 300:
        return f"HTTP {status}: {body[:300].decode(errors='replace')}"
    if kind == "webhook":
        return ""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return f"not JSON: {body[:300].decode(errors='replace')}"
    if not isinstance(answer, dict):
        return "unexpected answer"
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code not in (0, "0", None):
        message = answer.get("errmsg") or answer.get("msg") or ""
        return f"error {code}: {message}"[:500]
    return ""


def valid_address(kind: str, address: str) -> bool:
    """A key or token of the platform, or an http(s) URL."""
    address = address.strip()
    if address.startswith(("https://", "http://")):
        parsed = urllib.parse.urlsplit(address)
        return bool(parsed.netloc) and " " not in address and len(address) <= 500
    return kind != "webhook" and bool(TOKEN.match(address))


def mask(value: str) -> str:
    """A secret, key or URL as it may be shown back: its last four characters."""
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) > 8 else "••••"
