"""One send per response: uvicorn's HTTP protocol over a transport that joins the header
block with the body that follows it.

Why: uvicorn writes a response's status line and headers when the app sends
``http.response.start`` and the body on ``http.response.body``: two ``send`` system calls,
two loopback segments, and two wake-ups of the client for every answer.  For the related
fast path (a 3 KB body) that was about a sixth of a worker's CPU.  Holding the first
write until the next one (the body, sent in the same task step) makes it one call.  On
the 1M bench, 2 workers and 32 clients, this took the related answers from 7.4-8.1k to
9.6-11.9k req/s (docs/related.md).

Nothing is delayed beyond the event loop's next turn: a header block whose body does not
follow at once (a streamed answer) leaves then.  Order is always kept: held bytes go out
before, or together with, anything written after them.
"""

from __future__ import annotations

import asyncio
from typing import Any

JOIN_LIMIT = 64 * 1024  # a bigger body goes out on its own rather than being copied to join it


class CoalescingTransport:
    """A transport proxy that holds one write until the next write or the loop's next turn."""

    __slots__ = ("_transport", "_loop", "_held", "_scheduled")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._held: bytes | None = None
        self._scheduled = False

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = bytes(data)
            if not self._scheduled:
                self._scheduled = True
                self._loop.call_soon(self._release)
            return
        self._held = None
        if len(data) <= JOIN_LIMIT:
            self._transport.write(held + data)
        else:
            self._transport.write(held)
            self._transport.write(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _release(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        """Send what is held now."""
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def __getattr__(self, name: str) -> Any:  # pause_reading, get_extra_info, is_closing, ...
        return getattr(self._transport, name)


def protocol_class() -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol on a ``CoalescingTransport`` (``uvicorn.Config(http=...)``)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class CoalescingHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    return CoalescingHttpToolsProtocol
