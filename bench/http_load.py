"""A closed-loop HTTP load generator in the manner of ``wrk``, shared by the API benches.

One keep-alive HTTP/1.1 connection per virtual user; each writes a request, reads the
status line, ``Content-Length`` and body on bare asyncio streams, then sends the next.
The generator shares the machine's 2 cores with the server, so it does as little as it
can: no HTTP client library (aiohttp alone takes about a core at these rates).
Latency is request written to body read.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import numpy as np


def requests_for(paths: list[str], host: str = "127.0.0.1") -> list[bytes]:
    """Raw GET requests for ``paths`` (each starts with ``/``, already URL-encoded)."""
    return [f"GET {p} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode() for p in paths]


async def closed_loop(host: str, port: int, requests: list[bytes], concurrency: int, duration: float,
                      stop_file: str | None = None, seed: int = 1) -> tuple[np.ndarray, int]:
    """Run ``concurrency`` users for ``duration`` seconds (or until ``stop_file`` exists).

    Returns one row per response, ``(start epoch s, latency s, 1 if not 200/204)``, and
    the number of connections that failed (refused, reset, closed mid-response)."""
    rows: list[tuple[float, float, int]] = []
    errors = 0
    stop = [time.time() + duration]
    rng = random.Random(seed)

    async def watch() -> None:  # an open-ended run ends when the caller creates the stop file
        while time.time() < stop[0]:
            if stop_file and os.path.exists(stop_file):
                stop[0] = 0
            await asyncio.sleep(0.1)

    async def user() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.time() < stop[0]:
                req = rng.choice(requests)
                t = time.time()
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                rows.append((t, time.time() - t, 0 if head[9:12] in (b"200", b"204") else 1))
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    await asyncio.gather(watch(), *(user() for _ in range(concurrency)))
    return np.array(rows, dtype=np.float64).reshape(-1, 3), errors
