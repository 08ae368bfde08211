"""``redact``'s shortcut (pipeline.redact): a pattern is skipped only where it cannot match."""

from __future__ import annotations

import pytest

from pipeline.redact import redact


@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql://user:pw@host/db", "postgresql://user:***@host/db"),
    ("PASSWORD=abc", "PASSWORD=***"),
    ("x Token: 'zz'", "x Token: '***'"),
    ("secret_access_key = q;", "secret_access_key = ***;"),
    # ignoring case, the pattern's s, k and i also match ſ, K (Kelvin) and İ: non-ASCII text
    # must get the patterns even though its lowercase holds none of the key words
    ("pa\u017f\u017fword=2", "pa\u017f\u017fword=***"),
    ("TO\u212aEN=3", "TO\u212aEN=***"),
    ("ap\u0130_key=1", "ap\u0130_key=***"),
    ('{"method":"GET","path":"/articles/abc/related","status":200}',
     '{"method":"GET","path":"/articles/abc/related","status":200}'),
    ("no pass here", "no pass here"),
])
def test_redact_masks_what_its_patterns_match(text, expected):
    assert redact(text) == expected
