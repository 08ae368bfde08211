"""The access log's batched writer and the metrics' cached children (pipeline.api.observe)."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from pipeline.api import observe
from pipeline.api.observe import (
    LoopBatchedStream,
    Metrics,
    access_line,
    log_access,
    setup_access_log,
)
from pipeline.redact import register


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def _logger(stream: CountingStream) -> logging.Logger:
    log = logging.getLogger("newsflow.test-batched")
    log.handlers[:] = []
    handler = LoopBatchedStream(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def test_lines_of_one_loop_turn_share_one_write():
    stream = CountingStream()
    log = _logger(stream)

    async def answer_three() -> str:
        for i in range(3):
            log.info('{"n":%d}', i)
        before = stream.getvalue()
        await asyncio.sleep(0)  # the next turn of the loop
        await asyncio.sleep(0)
        return before

    before = asyncio.run(answer_three())
    assert before == ""  # nothing written inside the turn
    assert stream.getvalue() == '{"n":0}\n{"n":1}\n{"n":2}\n'
    assert stream.writes == 1


def test_outside_a_loop_a_line_is_written_at_once_and_shutdown_flushes():
    stream = CountingStream()
    log = _logger(stream)
    log.info("start-up line")
    assert stream.getvalue() == "start-up line\n"
    handler = log.handlers[0]

    async def left_pending() -> None:
        log.info("last line")  # the loop ends before its next turn

    asyncio.run(left_pending())
    handler.flush()  # what logging.shutdown does at exit
    assert stream.getvalue().endswith("last line\n")


def test_metrics_cache_children_but_count_every_answer():
    m = Metrics()
    for _ in range(3):
        m.observe("GET", "/search", 200, 0.004)
    m.observe("BREW", "/search", 200, 0.004)  # an odd method is counted, not cached
    assert m.requests.labels("GET", "/search", "200")._value.get() == 3
    assert m.requests.labels("BREW", "/search", "200")._value.get() == 1
    assert ("BREW", "/search", 200) not in m._children
    assert m.latency.labels("/search")._sum.get() > 0.015


@pytest.mark.parametrize(("method", "path", "client"), [
    ("GET", "/articles/abc/related", "127.0.0.1"),
    ("HEAD", '/stories/"quoted"\\back', None),
    ("GET", "/search/\u0645\u0635\u0631/\u2028/\x07", "::1"),  # Arabic, a line separator, a control
])
def test_the_access_line_is_the_json_dumps_would_write(method, path, client):
    for seconds in (0.0, 0.0001234, 1.5, 12.3456789):
        expected = json.dumps({"method": method, "path": path, "status": 404, "duration_ms": round(seconds * 1000, 3),
                               "bytes": 1234, "client": client}, separators=(",", ":"))
        assert access_line(method, path, 404, seconds, 1234, client) == expected


def test_access_lines_are_redacted_and_a_configured_logger_gets_records(monkeypatch):
    stream = CountingStream()
    monkeypatch.setattr(observe.access_log, "handlers", [])
    setup_access_log()
    handler = observe.access_log.handlers[0]
    handler.stream = stream
    register("s3cr3t-value")
    log_access(access_line("GET", "/x/s3cr3t-value/token=abc", 200, 0.001, 1, None))  # the direct path
    assert "s3cr3t-value" not in stream.getvalue() and "token=***" in stream.getvalue()
    assert stream.getvalue().startswith('{"method":"GET","path":"/x/***/token=***"')

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    observe.access_log.addHandler(Keep())  # someone ships the access log elsewhere: records again
    log_access(access_line("GET", "/y", 200, 0.001, 1, None))
    assert [r.getMessage() for r in seen] == ['{"method":"GET","path":"/y","status":200,"duration_ms":1.0,"bytes":1,'
                                              '"client":null}']
    assert stream.getvalue().count("\n") == 2  # and our handler still wrote it
