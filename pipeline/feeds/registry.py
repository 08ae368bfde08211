"""The feed registry: a YAML or OPML file listing the feeds to pull.

YAML: ``feeds: [{url: ..., name: ..., language: ...}]`` (only ``url`` required; a bare
string entry is taken as a URL).  OPML: every ``<outline>`` with an ``xmlUrl``, at any
depth (folders are flattened).  Errors name the file, line and entry number, because
people edit these files by hand.  URLs are validated (absolute http/https) and
duplicates are dropped, first one wins (compared case-insensitively on scheme and host,
ignoring a default port and any fragment).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import yaml

from pipeline.models import FeedSpec

from .xmlsafe import declares_entities, has_doctype

log = logging.getLogger(__name__)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_KEYS = {"url", "name", "language"}


class RegistryError(ValueError):
    """The registry file is unusable; the message says where and why."""


def _check_url(url: object, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise RegistryError(f"{where}: 'url' is required and must be a string")
    url = url.strip()
    if any(c.isspace() for c in url):
        raise RegistryError(f"{where}: url {url!r} contains whitespace")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise RegistryError(f"{where}: url {url!r} is malformed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"{where}: url {url!r} must be an absolute http(s) URL")
    return url


def _check_lang(language: object, where: str) -> str | None:
    if language is None or language == "":
        return None
    if not isinstance(language, str) or not _LANG.match(language.strip()):
        raise RegistryError(
            f"{where}: language {language!r} is not a language tag like 'ar' or 'en-GB'"
        )
    return language.strip()


def _dedup_key(url: str) -> str:
    p = urlsplit(url)
    scheme, host = p.scheme.lower(), (p.hostname or "").lower()
    port = p.port
    netloc = host if port in (None, {"http": 80, "https": 443}[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{p.path or '/'}{'?' + p.query if p.query else ''}"


def _dedup(feeds: list[tuple[FeedSpec, str]]) -> list[FeedSpec]:
    seen: dict[str, str] = {}
    out = []
    for spec, where in feeds:
        key = _dedup_key(spec.url)
        if key in seen:
            log.warning("%s: duplicate of %s (%s), ignored", where, seen[key], spec.url)
            continue
        seen[key] = where
        out.append(spec)
    return out


def load_feeds(path: str | Path) -> list[FeedSpec]:
    """Read a YAML or OPML registry (by extension, else by content)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"cannot read feed registry {path}: {exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 ({exc})") from None
    ext = path.suffix.lower()
    if ext in (".opml", ".xml") or (ext not in (".yaml", ".yml") and text.lstrip().startswith("<")):
        return _load_opml(text, str(path))
    return _load_yaml(text, str(path))


def _load_yaml(text: str, name: str) -> list[FeedSpec]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{name}: invalid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("feeds"), list):
        raise RegistryError(f"{name}: expected a mapping with a 'feeds:' list")
    seq = next(v for k, v in root.value if k.value == "feeds")
    feeds = []
    for i, (item, node) in enumerate(zip(data["feeds"], seq.value, strict=True), start=1):
        where = f"{name}:{node.start_mark.line + 1}: entry {i}"
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            raise RegistryError(f"{where}: expected a mapping with 'url' (or a URL string)")
        unknown = set(item) - _KEYS
        if unknown:
            raise RegistryError(
                f"{where}: unknown key(s) {sorted(map(str, unknown))}; allowed: url, name, language"
            )
        feed_name = item.get("name")
        if feed_name is not None and not isinstance(feed_name, str):
            feed_name = str(feed_name)
        spec = FeedSpec(
            url=_check_url(item.get("url"), where),
            name=(feed_name or "").strip() or None,
            language=_check_lang(item.get("language"), where),
        )
        feeds.append((spec, where))
    return _dedup(feeds)


def _load_opml(text: str, name: str) -> list[FeedSpec]:
    if has_doctype(text) or declares_entities(text):
        raise RegistryError(f"{name}: OPML with a DOCTYPE/ENTITY declaration is refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise RegistryError(f"{name}: invalid OPML/XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise RegistryError(f"{name}: root element is <{root.tag}>, expected <opml>")
    body = next((c for c in root if c.tag.lower() == "body"), None)
    if body is None:
        raise RegistryError(f"{name}: OPML has no <body>")
    feeds = []
    for i, outline in enumerate(body.iter("outline"), start=1):
        attrs = {k.lower(): v for k, v in outline.attrib.items()}
        if "xmlurl" not in attrs:
            continue  # a folder, or a plain link outline
        where = (
            f"{name}: outline {i} ({attrs.get('text') or attrs.get('title') or attrs['xmlurl']!r})"
        )
        url = _check_url(attrs["xmlurl"], where)
        label = (attrs.get("title") or attrs.get("text") or "").strip()
        spec = FeedSpec(
            url=url,
            name=label if label and label != url else None,  # dump_opml puts the URL in text
            language=_check_lang(attrs.get("language"), where),
        )
        feeds.append((spec, where))
    return _dedup(feeds)


def dump_yaml(feeds: list[FeedSpec]) -> str:
    """The YAML registry form (only set fields are written)."""
    items = []
    for f in feeds:
        item = {"url": f.url}
        if f.name:
            item["name"] = f.name
        if f.language:
            item["language"] = f.language
        items.append(item)
    return yaml.safe_dump({"feeds": items}, allow_unicode=True, sort_keys=False)


def dump_opml(feeds: list[FeedSpec], title: str = "newsflow feeds") -> str:
    """An OPML 2.0 document with one ``type="rss"`` outline per feed."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for f in feeds:
        attrs = {"type": "rss", "text": f.name or f.url, "xmlUrl": f.url}
        if f.name:
            attrs["title"] = f.name
        if f.language:
            attrs["language"] = f.language
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def is_opml_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".opml", ".xml")


def save_feeds(path: str | Path, feeds: list[FeedSpec]) -> None:
    """Write a registry file, OPML or YAML by extension, atomically (temp file + rename)."""
    path = Path(path)
    text = dump_opml(feeds) if is_opml_path(path) else dump_yaml(feeds)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def merge_feeds(existing: list[FeedSpec], new: list[FeedSpec]) -> tuple[list[FeedSpec], list[FeedSpec]]:
    """``existing`` plus the feeds of ``new`` it does not have yet: (merged, added)."""
    seen = {_dedup_key(f.url) for f in existing}
    added = []
    for f in new:
        key = _dedup_key(f.url)
        if key not in seen:
            seen.add(key)
            added.append(f)
    return existing + added, added


def check_feed(url: str, name: str | None = None, language: str | None = None) -> FeedSpec:
    """A FeedSpec from command-line values, validated like a registry entry."""
    where = "command line"
    return FeedSpec(_check_url(url, where), (name or "").strip() or None, _check_lang(language, where))
