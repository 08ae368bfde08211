"""Canonical URLs decide article identity: table tests of every normalisation rule."""

import pytest

from pipeline.extract.urls import article_id_for, canonicalize_url, source_domain

CASES = [
    # lower-case scheme and host, default port, empty path, fragment
    ("HTTPS://WWW.Example.COM:443", "https://www.example.com/"),
    ("http://example.com:80/a#section-2", "http://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    # tracking parameters dropped, the rest sorted
    ("https://ex.com/a?utm_source=rss&utm_medium=feed&b=2&a=1", "https://ex.com/a?a=1&b=2"),
    ("https://ex.com/a?fbclid=X&gclid=Y&dclid=Z&msclkid=1", "https://ex.com/a"),
    ("https://ex.com/a?mc_cid=1&mc_eid=2&igshid=3&_ga=4&yclid=5&spm=6", "https://ex.com/a"),
    ("https://ex.com/a?ref=home&ref_src=twsrc&cmpid=x&ocid=y", "https://ex.com/a"),
    ("https://ex.com/a?at_medium=RSS&at_campaign=KARANGA&id=7", "https://ex.com/a?id=7"),
    ("https://ex.com/a?UTM_Source=x&page=2", "https://ex.com/a?page=2"),
    # content-selecting parameters stay
    ("https://ex.com/article.php?id=12345&lang=ar", "https://ex.com/article.php?id=12345&lang=ar"),
    # percent-encoding: unreserved decoded, escapes upper-cased, raw non-ASCII escaped
    ("http://ex.com/a%7eb/%c3%a9", "http://ex.com/a~b/%C3%A9"),
    ("https://ex.com/ar/مقال", "https://ex.com/ar/%D9%85%D9%82%D8%A7%D9%84"),
    ("https://ex.com/a b", "https://ex.com/a%20b"),
    # IDNA host
    ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
    # credentials are not identity
    ("https://user:pw@ex.com/a", "https://ex.com/a"),
]


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_canonicalize_table(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


def test_idempotent() -> None:
    for url, _ in CASES:
        once = canonicalize_url(url)
        assert canonicalize_url(once) == once


@pytest.mark.parametrize(
    ("url", "declared", "expected"),
    [
        # relative canonical resolved against the page URL, tracking dropped
        ("https://www.ex.com/a/b?x=1", "/c/d?utm_medium=z", "https://www.ex.com/c/d"),
        # same site modulo www./m./amp.
        ("https://m.ex.com/a", "https://www.ex.com/a", "https://www.ex.com/a"),
        ("https://amp.ex.com/a", "https://ex.com/a", "https://ex.com/a"),
        # another site cannot be claimed
        ("https://harbortimes.example/x", "https://www.gulfledger.example/y", "https://harbortimes.example/x"),
        ("https://ex.com/a", "https://ex.com.evil.test/a", "https://ex.com/a"),
        ("https://ex.com/a", "javascript:alert(1)", "https://ex.com/a"),
        ("https://ex.com/a", "", "https://ex.com/a"),
        ("https://ex.com/a", None, "https://ex.com/a"),
    ],
)
def test_page_canonical_only_on_same_site(url: str, declared: str | None, expected: str) -> None:
    assert canonicalize_url(url, declared) == expected


def test_article_id_is_stable_sha256_prefix() -> None:
    # sha256("https://ex.com/") computed independently
    import hashlib

    url = "https://ex.com/"
    assert article_id_for(url) == hashlib.sha256(url.encode()).hexdigest()[:16]
    assert len(article_id_for(url)) == 16
    assert article_id_for(canonicalize_url("HTTPS://EX.com?utm_source=x")) == article_id_for(url)


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://WWW.TheNationalNews.com/mena/x", "thenationalnews.com"),
        ("https://almadapaper.net/view.php?cat=1", "almadapaper.net"),
        ("https://m.bbc.co.uk/news", "m.bbc.co.uk"),
        ("not a url", ""),
    ],
)
def test_source_domain(url: str, domain: str) -> None:
    assert source_domain(url) == domain
