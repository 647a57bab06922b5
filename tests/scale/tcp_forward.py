"""A TCP forwarder for tests/scale/test_many_hosts.py: PostgreSQL, Redis and the object
store listen on 127.0.0.1 of the root namespace only; each simulated host reaches them
on the host-side address of its veth, where this process listens and relays.

    python tests/scale/tcp_forward.py LISTEN_HOST:PORT=TARGET_HOST:PORT ...

Prints "ready" once every listener is bound; runs until killed. No Django, no project
imports: it is plumbing of the test, standing in for the network between hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _relay(target_host: str, target_port: int):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            up_reader, up_writer = await asyncio.open_connection(
                target_host, target_port
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    return handle


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main(routes: list[str]) -> None:
    servers = []
    for route in routes:
        listen, _, target = route.partition("=")
        host, port = _address(listen)
        servers.append(
            await asyncio.start_server(
                _relay(*_address(target)), host, port, reuse_address=True
            )
        )
    print("ready", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
