"""WebSub (W3C Recommendation, 2018) subscriber: the protocol, without a server.

Push instead of a schedule: a feed that advertises a hub is subscribed, and the hub POSTs
each new version of the feed to our callback within seconds.  This module holds the
subscriber's side of the spec, section by section, as plain functions over a
``Subscription`` record (``pipeline.feeds.push`` is the HTTP front door):

* discovery (section 4): ``rel="hub"`` and ``rel="self"`` from the HTTP ``Link`` header,
  else from the feed's own ``<link>`` elements;
* subscribing and unsubscribing (5.1): the form we POST to the hub, with a callback URL
  unique to the subscription (an unguessable id) and a per-subscription secret;
* verification of intent (5.3): echo ``hub.challenge`` only for a subscription we asked
  for and are waiting on, with the matching mode and topic; record the granted lease;
* content distribution (7): ``X-Hub-Signature: <algo>=<hex HMAC of the body>`` for every
  algorithm a hub may choose (sha1, sha256, sha384, sha512), compared in constant time;
  a bad or missing signature makes the body invalid;
* lease renewal: a subscription is renewed when less than ``RENEW_MARGIN`` of its lease is
  left (or a day, whichever is less);
* the safety net: a pushed feed is still polled, rarely (``push_poll_interval``), and
  entries that polling finds but the hub never pushed are counted (``note_missed``): a
  hub gone silent is noticed and reported.

Records live in the lake next to the feeds' polling state (``state/websub/``); the secret
never appears in a log line or a repr.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urljoin

from pipeline.lake.store import ObjectStore

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
DEFAULT_LEASE = 10 * 86400  # asked for; the hub decides
RENEW_MARGIN = 0.2  # renew with a fifth of the lease left
PREFIX = "state/websub/"

_LINK_HEADER = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r"""rel\s*=\s*"?([^";,]+)"?""", re.IGNORECASE)
_LINK_TAG = re.compile(r"<(?:atom:|atom10:)?link\b([^>]*)/?>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


# ----------------------------------------------------------------------------- discovery


def _links_from_header(value: str) -> list[tuple[str, set[str]]]:
    out = []
    for m in _LINK_HEADER.finditer(value or ""):
        rels = set()
        for r in _REL.findall(m.group(2) or ""):
            rels.update(r.lower().split())
        out.append((m.group(1).strip(), rels))
    return out


def _links_from_feed(body: bytes) -> list[tuple[str, set[str]]]:
    head = body[:65536].decode("utf-8", "replace")  # hub links sit in the feed's header
    out = []
    for m in _LINK_TAG.finditer(head):
        attrs = {k.lower(): (a if a is not None and a != "" else b) for k, a, b in _ATTR.findall(m.group(1))}
        if attrs.get("href") and attrs.get("rel"):
            out.append((attrs["href"].strip(), set(attrs["rel"].lower().split())))
    return out


def discover(topic_url: str, headers: dict[str, str], body: bytes) -> tuple[str, str] | None:
    """(hub URL, self URL) a feed advertises, or None.  The HTTP ``Link`` header wins over
    the document (spec 4); the topic is the advertised self URL, else the fetched URL."""
    header = next((v for k, v in headers.items() if k.lower() == "link"), "")
    for links in (_links_from_header(header), _links_from_feed(body)):
        hubs = [urljoin(topic_url, u) for u, rels in links if "hub" in rels]
        if hubs:
            selfs = [urljoin(topic_url, u) for u, rels in links if "self" in rels]
            return hubs[0], (selfs[0] if selfs else topic_url)
    return None


# ----------------------------------------------------------------------------- records


@dataclass
class Subscription:
    """One topic at one hub.  ``state``: ``subscribing`` (asked, not verified),
    ``active``, ``unsubscribing``, ``unsubscribed``, ``denied``."""

    sub_id: str
    topic: str
    hub: str
    feed_url: str  # the registry URL this subscription serves
    secret: str = field(repr=False)
    state: str = "subscribing"
    lease_seconds: int | None = None
    verified_at: str | None = None
    expires_at: str | None = None
    requested_at: str | None = None
    last_push_at: str | None = None
    pushes: int = 0
    rejected: int = 0
    missed: int = 0  # entries polling found that the hub never pushed
    reason: str | None = None

    def callback(self, base: str) -> str:
        return base.rstrip("/") + "/websub/" + self.sub_id


def new_subscription(feed_url: str, topic: str, hub: str, at: datetime) -> Subscription:
    return Subscription(sub_id=secrets.token_urlsafe(18), topic=topic, hub=hub, feed_url=feed_url,
                        secret=secrets.token_urlsafe(32), requested_at=at.isoformat())


def _key(feed_url: str) -> str:
    return PREFIX + hashlib.sha256(feed_url.encode()).hexdigest()[:24] + ".json"


def save(store: ObjectStore, sub: Subscription) -> None:
    store.put(_key(sub.feed_url), json.dumps(asdict(sub), sort_keys=True).encode())


def load_all(store: ObjectStore) -> list[Subscription]:
    return [Subscription(**json.loads(store.get(k))) for k in store.list(PREFIX) if k.endswith(".json")]


def by_id(store: ObjectStore) -> dict[str, Subscription]:
    return {s.sub_id: s for s in load_all(store)}


# ----------------------------------------------------------------------------- requests


def subscribe_form(sub: Subscription, callback_base: str, lease: int = DEFAULT_LEASE) -> dict[str, str]:
    """The body we POST (form-encoded) to ``sub.hub`` to subscribe (spec 5.1)."""
    return {"hub.mode": "subscribe", "hub.topic": sub.topic, "hub.callback": sub.callback(callback_base),
            "hub.lease_seconds": str(lease), "hub.secret": sub.secret}


def unsubscribe_form(sub: Subscription, callback_base: str) -> dict[str, str]:
    return {"hub.mode": "unsubscribe", "hub.topic": sub.topic, "hub.callback": sub.callback(callback_base)}


def verify_intent(sub: Subscription | None, params: dict[str, str], now: datetime) -> tuple[int, str]:
    """Answer a hub's verification GET (spec 5.3): (status, body).  The challenge is echoed
    only for a subscription we asked for, in the mode we asked, for its topic."""
    mode, topic = params.get("hub.mode", ""), params.get("hub.topic", "")
    if sub is None or topic != sub.topic:
        return 404, "unknown subscription"
    if mode == "denied":  # spec 5.2: the hub refused; keep polling
        sub.state, sub.reason = "denied", params.get("hub.reason", "")[:200]
        return 200, ""
    wanted = {"subscribe": "subscribing", "unsubscribe": "unsubscribing"}.get(mode)
    # a renewal re-verifies an active subscription: "subscribe" is fine while active
    if wanted is None or (sub.state != wanted and not (mode == "subscribe" and sub.state == "active")):
        return 404, "not expecting this verification"
    challenge = params.get("hub.challenge", "")
    if not challenge:
        return 400, "missing hub.challenge"
    if mode == "subscribe":
        try:
            lease = int(params.get("hub.lease_seconds", "") or DEFAULT_LEASE)
        except ValueError:
            return 400, "bad hub.lease_seconds"
        sub.state, sub.lease_seconds = "active", lease
        sub.verified_at = now.isoformat()
        sub.expires_at = (now + timedelta(seconds=lease)).isoformat()
    else:
        sub.state = "unsubscribed"
    return 200, challenge


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature: method=signature`` (spec 7): True only for a known method and
    the HMAC of the whole body under the subscription's secret."""
    if not header or "=" not in header:
        return False
    method, _, given = header.strip().partition("=")
    algo = ALGORITHMS.get(method.lower())
    if algo is None:
        return False
    expected = hmac.new(secret.encode(), body, algo).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def renewal_due(sub: Subscription, now: datetime) -> bool:
    """An active subscription with little of its lease left (or already expired)."""
    if sub.state != "active" or not sub.expires_at or not sub.lease_seconds:
        return False
    left = datetime.fromisoformat(sub.expires_at) - now
    return left <= timedelta(seconds=min(RENEW_MARGIN * sub.lease_seconds, 86400))


def load(store: ObjectStore, feed_url: str) -> Subscription | None:
    key = _key(feed_url)
    return Subscription(**json.loads(store.get(key))) if store.exists(key) else None


def pushed(store: ObjectStore, feed_url: str) -> Subscription | None:
    """The feed's subscription when push is live for it (polling then only backs it up)."""
    sub = load(store, feed_url)
    return sub if sub is not None and sub.state == "active" else None


def note_missed(store: ObjectStore, sub: Subscription, new_entries: int, at: datetime) -> None:
    """Polling found entries the hub never pushed: the hub has gone silent or lossy.
    Counted on the subscription (``newsflow push status``) and logged; polling carries on."""
    sub.missed += new_entries
    sub.reason = f"polling at {at.isoformat()} found {new_entries} entries the hub did not push"
    save(store, sub)
