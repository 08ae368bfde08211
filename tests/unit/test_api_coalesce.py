"""The API's coalescing transport (pipeline.api.coalesce): one send per response, order
kept, nothing held past the loop's next turn, and real HTTP through uvicorn on it."""

from __future__ import annotations

import asyncio
import socket

from pipeline.api.coalesce import JOIN_LIMIT, CoalescingTransport, protocol_class


class Recorder:
    """The transport under the proxy: records each write it is given."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default=None):  # noqa: ANN001, ANN201 - the asyncio signature
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


def _run(steps) -> Recorder:  # noqa: ANN001 - a coroutine function over (proxy, recorder)
    rec = Recorder()

    async def main() -> None:
        t = CoalescingTransport(rec, asyncio.get_running_loop())  # type: ignore[arg-type]
        await steps(t, rec)

    asyncio.run(main())
    return rec


def test_headers_and_body_leave_in_one_write_at_once():
    async def steps(t, rec):  # noqa: ANN001
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert rec.writes == []  # held
        t.write(b'{"a":1}')
        assert rec.writes == [b'HTTP/1.1 200 OK\r\n\r\n{"a":1}']  # no wait for the loop

    _run(steps)


def test_a_lone_write_leaves_on_the_next_turn_and_order_is_kept():
    async def steps(t, rec):  # noqa: ANN001
        t.write(b"head")
        await asyncio.sleep(0)
        assert rec.writes == [b"head"]
        t.writelines([b"h2", b"b2", b"c3"])  # a streamed answer: h2+b2 at once, c3 on the next turn
        assert rec.writes == [b"head", b"h2b2"]
        assert t.get_write_buffer_size() == 2
        await asyncio.sleep(0)
        assert rec.writes == [b"head", b"h2b2", b"c3"]

    _run(steps)


def test_a_big_body_is_not_copied_to_join_and_close_flushes_abort_drops():
    big = b"x" * (JOIN_LIMIT + 1)

    async def steps(t, rec):  # noqa: ANN001
        t.write(b"head")
        t.write(big)
        assert rec.writes == [b"head", big]
        t.write(b"last")
        t.close()
        assert rec.writes[-1] == b"last" and rec.closed
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)  # everything else is the transport's

    _run(steps)

    async def aborting(t, rec):  # noqa: ANN001
        t.write(b"never sent")
        t.abort()
        await asyncio.sleep(0)
        assert rec.writes == [] and rec.aborted

    _run(aborting)


def test_uvicorn_on_it_answers_keep_alive_requests():
    import uvicorn

    async def app(scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http":
            return
        body = scope["path"].encode() * 100
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def main() -> list[bytes]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", access_log=False, http=protocol_class(), ws="none",
                                lifespan="off")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        answers = []
        for path in ("/a", "/bb"):
            writer.write(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.startswith(b"content-length")))
            answers.append(head.split(b"\r\n")[0] + b" " + await reader.readexactly(length))
        writer.close()
        server.should_exit = True
        await task
        return answers

    assert asyncio.run(main()) == [b"HTTP/1.1 200 OK " + b"/a" * 100, b"HTTP/1.1 200 OK " + b"/bb" * 100]
