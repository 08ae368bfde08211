"""The snapshot build's CPU priority (pipeline.api.supervisor): idle while it can, and a
starved build moved back to the ordinary policy, every thread of it."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time

import pytest

from pipeline.api.supervisor import idle_priority, ordinary_priority

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux only")


def _idle_with_threads(ready, stop) -> None:  # noqa: ANN001 - multiprocessing primitives
    idle_priority()
    threads = [threading.Thread(target=stop.wait) for _ in range(3)]  # started after: they inherit it
    for t in threads:
        t.start()
    ready.set()
    stop.wait()


def _policies(pid: int) -> list[int]:
    return [os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]


def test_a_build_runs_idle_with_its_threads_until_moved_back():
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_idle_with_threads, args=(ready, stop))
    p.start()
    try:
        assert ready.wait(30)
        before = _policies(p.pid)
        assert len(before) >= 4 and set(before) == {os.SCHED_IDLE}
        assert ordinary_priority(p.pid) == len(before)
        assert set(_policies(p.pid)) == {os.SCHED_OTHER}
        assert ordinary_priority(p.pid) == 0  # nothing left to move
    finally:
        stop.set()
        p.join(30)
    assert p.exitcode == 0
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the test process itself untouched


def test_the_supervisor_moves_a_build_still_running_after_the_idle_time(monkeypatch):
    from pipeline.api import supervisor
    from pipeline.config import Settings

    seen: dict[str, list[int]] = {}

    class Slow:  # a build process stand-in: idle, and still running when the idle time is up
        def __init__(self, **kwargs) -> None:  # noqa: ANN003
            self.ctx = mp.get_context("spawn")
            self.ready, self.stop = self.ctx.Event(), self.ctx.Event()
            self.p = self.ctx.Process(target=_idle_with_threads, args=(self.ready, self.stop))

        def start(self) -> None:
            self.p.start()
            assert self.ready.wait(30)
            seen["before"] = _policies(self.p.pid)

        @property
        def pid(self) -> int:
            return self.p.pid

        def is_alive(self) -> bool:
            return self.p.is_alive()

        def join(self, timeout: float | None = None) -> None:
            if timeout is None:  # the supervisor's final wait: look, then let it end
                seen["after"] = _policies(self.p.pid)
                self.stop.set()
            self.p.join(timeout)

        @property
        def exitcode(self) -> int | None:
            return self.p.exitcode

    class Ctx:
        Process = Slow

    start = time.monotonic()
    code = supervisor._run_build(Ctx(), Settings.load(api_build_idle_seconds=0.5))
    assert code == 0 and time.monotonic() - start < 30
    assert set(seen["before"]) == {os.SCHED_IDLE}
    assert set(seen["after"]) == {os.SCHED_OTHER}


def test_an_unprivileged_builder_restarts_a_starved_build_at_nice(monkeypatch):
    from pipeline.api import supervisor
    from pipeline.config import Settings

    made: list[dict] = []

    class Fake:
        def __init__(self, target, args, name) -> None:  # noqa: ANN001
            self.settings, self.alive, self.pid, self.exitcode = args[0], True, 12345, None
            made.append({"idle": self.settings.api_build_idle_seconds, "terminated": False})

        def start(self) -> None:
            pass

        def is_alive(self) -> bool:
            return self.alive

        def join(self, timeout: float | None = None) -> None:
            if timeout is None:
                self.alive, self.exitcode = False, 0

        def terminate(self) -> None:
            made[-1]["terminated"] = True
            self.alive, self.exitcode = False, -15

    class Ctx:
        Process = Fake

    def refuse(pid: int) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(supervisor, "ordinary_priority", refuse)
    assert supervisor._run_build(Ctx(), Settings.load(api_build_idle_seconds=0.01)) == 0
    assert made == [{"idle": 0.01, "terminated": True}, {"idle": 0, "terminated": False}]


@pytest.mark.parametrize(("idle_seconds", "policy"), [(300.0, "SCHED_IDLE"), (0, "SCHED_OTHER")])
def test_a_build_sets_its_priority_before_it_starts(monkeypatch, idle_seconds, policy):
    from pipeline.api import snapfiles, supervisor
    from pipeline.config import Settings

    seen: list[int] = []
    monkeypatch.setattr(snapfiles, "refresh", lambda settings: seen.append(os.sched_getscheduler(0)))
    # on a thread of its own: the policy is per thread, and this one ends with the build
    t = threading.Thread(target=supervisor._build_once, args=(Settings.load(api_build_idle_seconds=idle_seconds),))
    t.start()
    t.join(30)
    assert seen == [getattr(os, policy)]


def test_a_sandbox_that_refuses_idle_priority_still_builds(monkeypatch):
    from pipeline.api import snapfiles, supervisor
    from pipeline.config import Settings

    def refuse(*args) -> None:  # noqa: ANN002
        raise PermissionError(1, "Operation not permitted")

    built: list[bool] = []
    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    monkeypatch.setattr(snapfiles, "refresh", lambda settings: built.append(True))
    assert supervisor.idle_priority() is False
    supervisor._build_once(Settings.load())
    assert built == [True]
