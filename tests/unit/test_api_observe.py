"""The access log's batched writer and the metrics' cached children (pipeline.api.observe)."""

from __future__ import annotations

import asyncio
import io
import logging

from pipeline.api.observe import LoopBatchedStream, Metrics


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
