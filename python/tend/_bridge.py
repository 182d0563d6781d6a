"""How the engine's completions reach an asyncio loop.

Each loop that awaits tend gets one ``Completions``: an eventfd the loop
watches with ``add_reader``. The engine, on its own thread and without the
GIL, queues an operation's outcome there and writes the eventfd; the loop
wakes, drains the queue on its own thread and resolves the futures. No
thread polls and none sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from typing import Any, Callable, Tuple

from . import _tend

_tokens = itertools.count(1)


class LoopBridge:
    """The futures one asyncio loop awaits from the engine."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.completions = _tend.Completions()
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._streams: dict[int, Callable[[Any], None]] = {}
        loop.add_reader(self.completions.fd, self._drain)

    def expect(self, start: Callable[[_tend.Completions, int], None],
               cancel: Callable[[int], None]) -> asyncio.Future[Any]:
        """Starts an operation with ``start(completions, token)`` and returns
        the future its outcome resolves. Cancelling the future calls
        ``cancel(token)``, which ends the operation (a wait), not the task."""
        token = next(_tokens)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._futures[token] = future
        try:
            start(self.completions, token)
        except BaseException:
            del self._futures[token]
            raise

        def on_done(f: asyncio.Future[Any]) -> None:
            if f.cancelled() and self._futures.pop(token, None) is not None:
                cancel(token)

        future.add_done_callback(on_done)
        return future

    def listen(self, start: Callable[[_tend.Completions, int], Any],
               deliver: Callable[[Any], None]) -> Tuple[int, Any]:
        """Starts a stream with ``start(completions, token)``: every outcome
        posted under its token goes to ``deliver``, in order, until
        ``forget(token)``. Returns the token and what ``start`` returned."""
        token = next(_tokens)
        self._streams[token] = deliver
        try:
            return token, start(self.completions, token)
        except BaseException:
            del self._streams[token]
            raise

    def forget(self, token: int) -> None:
        self._streams.pop(token, None)

    def _drain(self) -> None:
        for token, outcome in self.completions.drain():
            deliver = self._streams.get(token)
            if deliver is not None:
                deliver(outcome())
                continue
            future = self._futures.pop(token, None)
            if future is None or future.done():
                continue
            try:
                future.set_result(outcome())
            except BaseException as error:  # the operation's own error, raised by outcome()
                future.set_exception(error)


_bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopBridge]" = weakref.WeakKeyDictionary()


def bridge() -> LoopBridge:
    """The bridge of the running loop (made on first use)."""
    loop = asyncio.get_running_loop()
    found = _bridges.get(loop)
    if found is None:
        found = _bridges[loop] = LoopBridge(loop)
    return found
