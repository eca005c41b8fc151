"""Case change events: one LISTEN connection per server process, fanned out to every open
event stream (rather than a PostgreSQL connection per dispatcher's browser tab)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg

CHANNEL = "onemap_cases"
QUEUE_SIZE = 1000  # a stream this far behind loses events (its client reloads on reconnect)


class Broadcaster:
    """LISTENs on CHANNEL while anyone subscribes; each subscriber gets every payload. The
    last subscriber to leave closes the LISTEN connection."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping: set[asyncio.Task[None]] = set()  # cancelled, still closing

    async def _listen(self, conninfo: str, ready: asyncio.Event) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    ready.set()
                    async for note in conn.notifies():
                        for queue in list(self._queues):
                            with contextlib.suppress(asyncio.QueueFull):
                                queue.put_nowait(note.payload)
            except (psycopg.Error, OSError):  # the database went away: try again shortly
                ready.clear()
                await asyncio.sleep(1.0)

    @contextlib.asynccontextmanager
    async def subscribe(self, conninfo: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue of payloads, live once this returns (LISTEN is in place)."""
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()  # each listener task has its own
            self._task = asyncio.create_task(self._listen(conninfo, self._ready))
        ready = self._ready
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            await asyncio.wait_for(ready.wait(), timeout=10)
            yield queue
        finally:
            self._queues.discard(queue)
            if not self._queues:
                self._stop()

    def _stop(self) -> None:
        """Cancel the listener (its connection closes as the task unwinds)."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        self._stop()
        for task in list(self._stopping):
            with contextlib.suppress(asyncio.CancelledError):
                await task


CASES = Broadcaster()
