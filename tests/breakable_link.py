"""A TCP link to a real server (RabbitMQ, PostgreSQL) that a test can cut and restore: the
server stays up for everyone else, while the client behind the link sees it vanish (open
connections reset, new ones refused) and come back on the same address.

    async with BreakableLink("127.0.0.1", 5672) as link:   # connect to 127.0.0.1:link.port
        await link.cut()
        await link.restore()
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from tests.ports import free_port


class BreakableLink:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port_behind = host, port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> BreakableLink:
        await self.restore()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.cut()

    async def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._server = await asyncio.start_server(self._carry, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def cut(self) -> None:
        """Reset every open connection and refuse new ones, until `restore`."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _carry(self, client_in: asyncio.StreamReader,
                     client_out: asyncio.StreamWriter) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(self.host, self.port_behind)
        except OSError:
            client_out.transport.abort()
            return
        self._open |= {client_out, server_out}
        try:
            await asyncio.gather(self._pump(client_in, server_out),
                                 self._pump(server_in, client_out))
        finally:
            for writer in (client_out, server_out):
                self._open.discard(writer)
                writer.transport.abort()

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()
