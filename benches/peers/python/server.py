"""Peer server: Python `websockets` (asyncio), broadcast to a room with
`websockets.broadcast()`, as its documentation recommends for fan-out.

Usage: python server.py [port]   (binds 127.0.0.1 only)
"""

import asyncio
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

ROOMS: dict[str, set] = {}


async def handler(ws):
    query = parse_qs(urlsplit(ws.request.path).query)
    room = query.get("room", ["default"])[0]
    members = ROOMS.setdefault(room, set())
    members.add(ws)
    try:
        async for message in ws:
            broadcast(members, message)
    finally:
        members.discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None):
        print(f"python websockets peer listening on 127.0.0.1:{port}", file=sys.stderr)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 9004))
