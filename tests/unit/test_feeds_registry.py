"""Feed registry: YAML and OPML in, validation with locations, dedup, round trips."""

from __future__ import annotations

import pytest

from pipeline.feeds.registry import RegistryError, dump_opml, dump_yaml, load_feeds
from pipeline.models import FeedSpec

YAML = """\
# hand-edited
feeds:
  - url: https://akhbar.example/rss.xml
    name: صحيفة المثال
    language: ar
  - https://news.example/feed.atom
  - url: HTTPS://AKHBAR.example:443/rss.xml#dup
    name: duplicate of the first
  - url: https://json.example/feed.json
"""

OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>mine</title></head>
  <body>
    <outline text="Arabic">
      <outline type="rss" text="Akhbar" xmlUrl="https://akhbar.example/rss.xml" language="ar"/>
      <outline text="Nested deeper">
        <outline type="rss" title="Deep" text="deep" xmlUrl="https://deep.example/feed"/>
      </outline>
    </outline>
    <outline type="link" text="just a link" url="https://site.example/"/>
    <outline type="rss" text="Dup" xmlURL="https://akhbar.example/rss.xml"/>
  </body>
</opml>
"""


def test_yaml_loads_validates_and_dedups(tmp_path):
    p = tmp_path / "feeds.yaml"
    p.write_text(YAML, encoding="utf-8")
    feeds = load_feeds(p)
    assert feeds == [
        FeedSpec("https://akhbar.example/rss.xml", "صحيفة المثال", "ar"),
        FeedSpec("https://news.example/feed.atom"),
        FeedSpec("https://json.example/feed.json"),
    ]


def test_opml_nested_outlines_and_dedup(tmp_path):
    p = tmp_path / "feeds.opml"
    p.write_text(OPML, encoding="utf-8")
    assert load_feeds(p) == [
        FeedSpec("https://akhbar.example/rss.xml", "Akhbar", "ar"),
        FeedSpec("https://deep.example/feed", "Deep"),
    ]


def test_format_detected_by_content_without_extension(tmp_path):
    (tmp_path / "a").write_text(OPML, encoding="utf-8")
    (tmp_path / "b").write_text(YAML, encoding="utf-8")
    assert len(load_feeds(tmp_path / "a")) == 2 and len(load_feeds(tmp_path / "b")) == 3


@pytest.mark.parametrize(
    "text,needle",
    [
        ("feeds:\n  - url: https://ok.example/\n  - url: ftp://bad.example/x\n", ":3: entry 2"),
        ("feeds:\n  - name: no url\n", ":2: entry 1: 'url' is required"),
        ("feeds:\n  - url: https://ok.example/\n    lang: ar\n", "unknown key(s) ['lang']"),
        ("feeds:\n  - url: https://ok.example/\n    language: arabic!\n", "language 'arabic!'"),
        ("feeds:\n  - url: /relative/feed.xml\n", "absolute http(s) URL"),
        ("feeds: https://x.example\n", "expected a mapping with a 'feeds:' list"),
        ("feeds: [\n", "invalid YAML"),
    ],
)
def test_yaml_errors_name_line_and_entry(tmp_path, text, needle):
    p = tmp_path / "feeds.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_feeds(p)
    assert needle in str(err.value) and "feeds.yaml" in str(err.value)


def test_opml_with_entities_refused(tmp_path):
    p = tmp_path / "evil.opml"
    p.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline xmlUrl="https://a.example/&x;"/></body></opml>',
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="DOCTYPE/ENTITY"):
        load_feeds(p)


def test_opml_bad_url_names_the_outline(tmp_path):
    p = tmp_path / "f.opml"
    p.write_text(
        '<opml version="2.0"><body><outline text="Bad" xmlUrl="javascript:alert(1)"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="outline 1 \\('Bad'\\)"):
        load_feeds(p)


def test_round_trips(tmp_path):
    feeds = [
        FeedSpec("https://akhbar.example/rss.xml", "صحيفة & المثال", "ar"),
        FeedSpec("https://news.example/feed.atom"),
    ]
    (tmp_path / "x.yaml").write_text(dump_yaml(feeds), encoding="utf-8")
    (tmp_path / "x.opml").write_text(dump_opml(feeds, title="t"), encoding="utf-8")
    assert load_feeds(tmp_path / "x.yaml") == feeds
    assert load_feeds(tmp_path / "x.opml") == feeds
    assert "صحيفة" in dump_yaml(feeds)  # not \\u-escaped


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(RegistryError, match="cannot read"):
        load_feeds(tmp_path / "nope.yaml")
