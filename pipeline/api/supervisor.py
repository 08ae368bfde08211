"""``newsflow serve``'s process layout: a supervisor, one snapshot builder, N workers.

Why not uvicorn's own ``--workers``: its supervisor binds one socket and every worker
accepts on it.  The event loop accepts every pending connection per wake-up (uvloop's
libuv loops ``accept()`` until the queue is empty; plain asyncio takes up to 100), so when a
client opens its keep-alive connections in a burst, the first worker to wake takes them
all and the others idle (issue 15 saw all 32 on one worker in 4 of 12 runs).  Here each
worker binds its own socket with ``SO_REUSEPORT``: the kernel spreads new connections
over the workers' sockets by a hash of the connection, so no worker can take another's.

The supervisor reserves the port first (a bound, never listening ``SO_REUSEPORT`` socket:
a taken port fails at once with one line, and the kernel never routes a connection to a
socket that does not listen), starts the builder process (at a lower CPU priority than the
workers; each build at idle priority, ``idle_priority``) and waits for its first round, then starts the workers (``api_snapshot_builder = "external"``: they only map).  A process that dies is
started again; SIGTERM or SIGINT stops them all.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from pipeline.config import Settings

log = logging.getLogger(__name__)
BUILDER_NICE = 10  # the builder yields the cores to the workers that answer requests
# The builder opens the warehouse to compare versions only when its files changed
# (``change_signature``), and at least this often anyway: two commits within one tick of
# the file system's clock, the same size, around one poll would otherwise go unseen.
RECHECK_SECONDS = 30.0


def reuseport_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    """A TCP socket bound with ``SO_REUSEPORT`` (listening when ``listen``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
            sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _worker(app_factory: str, settings: Settings | None, host: str, port: int, log_level: str, started: Any) -> None:
    """One serving process: its own ``SO_REUSEPORT`` socket and uvicorn on it."""
    import importlib

    import uvicorn

    module, _, name = app_factory.partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module), name)
    app = factory(settings) if settings is not None else factory()
    sock = reuseport_socket(host, port, listen=True)

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                started.put(os.getpid())

    from pipeline.api.coalesce import protocol_class

    # one send per response (pipeline.api.coalesce); no WebSocket routes, so no upgrades
    config = uvicorn.Config(app, log_level=log_level, access_log=False, http=protocol_class(), ws="none")
    Server(config).run(sockets=[sock])


def idle_priority() -> bool:
    """Put the calling thread, and every thread it starts from now on, at ``SCHED_IDLE``:
    it runs only on CPU time no ordinary process wants, and a waking worker takes the core
    from it at once.  False where the platform has no such policy (nice still applies).

    Why not only nice: at nice 10 a build still gets time slices of its own, and a request
    arriving then waits for the slice to end.  At 1M articles under 32 clients the related
    p99 while a build ran was 10.3-12.2 ms at nice 10 and 8.9-9.0 ms at idle priority
    (docs/related.md)."""
    if not hasattr(os, "SCHED_IDLE"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError as exc:  # a sandbox that filters the call: build at the nice level instead
        log.info("api snapshot build at nice %d, not idle priority: %s", BUILDER_NICE, exc.strerror)
        return False
    return True


def ordinary_priority(pid: int) -> int:
    """Move every thread of ``pid`` back to the ordinary policy (its nice value stays);
    returns how many were moved.  Threads started while this runs may keep the idle
    policy; a second call catches them."""
    moved = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if os.sched_getscheduler(int(tid)) == os.SCHED_IDLE:
                os.sched_setscheduler(int(tid), os.SCHED_OTHER, os.sched_param(0))
                moved += 1
        except (ProcessLookupError, FileNotFoundError):  # the thread ended meanwhile
            pass
    return moved


def _build_once(settings: Settings) -> None:
    if settings.api_build_idle_seconds > 0:
        idle_priority()  # first, before DuckDB's and Arrow's threads exist: they inherit it
    from pipeline.api.snapfiles import refresh
    from pipeline.redact import install

    install()
    refresh(settings)


def _run_build(ctx: Any, settings: Settings) -> int | None:
    """One build in a child process; its exit code.  A build still running after
    ``api_build_idle_seconds`` at idle priority (the cores stayed busy with requests) goes
    on at the builder's nice level, so a saturated server still publishes."""
    p = ctx.Process(target=_build_once, args=(settings,), name="newsflow-build")
    p.start()
    if settings.api_build_idle_seconds > 0 and hasattr(os, "SCHED_IDLE"):
        p.join(settings.api_build_idle_seconds)
        if p.is_alive():
            try:
                moved = ordinary_priority(p.pid) + ordinary_priority(p.pid)
            except FileNotFoundError:  # it ended meanwhile
                moved = 0
            except PermissionError:  # unprivileged: leaving SCHED_IDLE needs RLIMIT_NICE or CAP_SYS_NICE
                log.warning("api snapshot build starved at idle priority and may not leave it (RLIMIT_NICE); "
                            "building again at nice %d. Set api_build_idle_seconds = 0 to build so from the start",
                            BUILDER_NICE)
                p.terminate()
                p.join()
                return _run_build(ctx, settings.replace(api_build_idle_seconds=0))
            if moved:  # none when the build could not go idle in the first place (a sandbox)
                log.warning("api snapshot build still running after %.0f s at idle priority; %d threads moved to "
                            "nice %d", settings.api_build_idle_seconds, moved, BUILDER_NICE)
    p.join()
    return p.exitcode


def _builder(settings: Settings, interval: float, first_done: Any) -> None:
    """The builder loop: a cheap version check every ``interval``; each build runs in a
    fresh child process, so the several GB a million-article build touches go back to the
    system when it ends instead of staying in a long-lived process."""
    from pipeline.api.snapfiles import collect, read_current, snapshot_root, stale
    from pipeline.redact import install
    from pipeline.warehouse.backend import change_signature

    install()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole group: the supervisor stops us
    os.nice(BUILDER_NICE)  # inherited by the build processes
    root = snapshot_root(settings)
    ctx = mp.get_context("spawn")
    seen, checked = None, float("-inf")  # the warehouse's change signature when last found current
    while True:
        signature = change_signature(settings)  # before the check: a commit during it is seen next time
        current = read_current(root)
        if signature is None or (signature, current) != seen or time.monotonic() - checked > RECHECK_SECONDS:
            seen = None
            try:
                if stale(settings, root):
                    code = _run_build(ctx, settings)
                    if code:
                        log.warning("api snapshot build exited with %s; the workers keep the published version", code)
                    else:
                        seen = (signature, read_current(root))
                else:
                    collect(root)
                    seen = (signature, current)
                checked = time.monotonic()
            except Exception as exc:  # keep the published version; /readyz reports its age
                log.warning("api snapshot not refreshed: %s: %s", type(exc).__name__, exc)  # redacted log
        first_done.set()
        time.sleep(interval)


def serve(settings: Settings | None, host: str, port: int, workers: int, *, log_level: str = "warning",
          app_factory: str = "pipeline.api.app:create_app", on_listening: Callable[[int], None] | None = None,
          build: bool = True) -> int:
    """Run the supervisor until SIGTERM/SIGINT; ``on_listening(port)`` once every worker
    serves.  ``settings=None`` with ``build=False`` serves any app factory (the bench's
    trivial ASGI app) on the same socket layout."""
    try:
        reserve = reuseport_socket(host, port, listen=False)
    except OSError as exc:
        print(f"newsflow serve: cannot bind {host}:{port}: {exc.strerror}; choose another --port "
              "or stop the process using it", file=sys.stderr)
        return 2
    port = reserve.getsockname()[1]
    ctx = mp.get_context("spawn")
    started: Any = ctx.Queue()
    first_done: Any = ctx.Event()
    procs: dict[str, Any] = {}
    worker_settings = settings.replace(api_snapshot_builder="external") if settings is not None and build else settings
    stopping = failed = False

    def start(kind: str) -> None:
        if kind == "builder":
            p = ctx.Process(target=_builder, args=(settings, max(settings.api_cache_seconds, 0.5), first_done),
                            name="newsflow-builder")
        else:
            p = ctx.Process(target=_worker, args=(app_factory, worker_settings, host, port, log_level, started), name=kind)
        p.start()
        procs[kind] = p

    def stop(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal handler signature
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    waiting, deadline = workers, float("inf")
    try:
        if build and settings is not None:
            start("builder")  # its first round before the workers start: their first requests are answered at once
            while not first_done.wait(0.2) and not stopping and procs["builder"].is_alive():
                pass
        for n in range(workers):
            start(f"newsflow-worker-{n}")
        deadline = time.monotonic() + 300  # the workers only map: starting takes seconds
        while not stopping:
            while waiting and not stopping:
                try:
                    started.get(timeout=0.2)
                    waiting -= 1
                except Exception:  # queue.Empty
                    if time.monotonic() > deadline or any(not p.is_alive() and p.exitcode not in (None, 0)
                                                          for k, p in procs.items() if k != "builder"):
                        print("newsflow serve: a worker failed to start; see the lines above", file=sys.stderr)
                        stopping = failed = True
                        break
                if waiting == 0 and on_listening is not None:
                    on_listening(port)
            time.sleep(0.2)
            for kind, p in list(procs.items()):
                if not stopping and not p.is_alive():
                    log.warning("%s exited with %s; starting it again", kind, p.exitcode)
                    start(kind)
    finally:
        for p in procs.values():
            if p.is_alive():
                p.terminate()
        for p in procs.values():
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        reserve.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0
