"""The Supervisor and its tasks, native to asyncio, on tend's engine."""

from __future__ import annotations

import asyncio
import enum
import os
from typing import Any, AsyncIterator, Iterable, Mapping, Optional, Sequence, Tuple, Union

from . import _bridge, _tend
from ._tend import Status

Command = Union[str, Sequence[Union[str, "os.PathLike[str]"]]]


class State(str, enum.Enum):
    """A task's state; equal to the string ``Status.state`` holds."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    KILLED = "killed"
    STALLED = "stalled"
    CANCELLED = "cancelled"
    LOST = "lost"

    def __str__(self) -> str:
        return self.value


class Output:
    """A task's output, read by byte cursor: stdout and stderr apart.

    ``data, cursor = task.output.read(cursor)`` returns the bytes from
    ``cursor`` on and the cursor to read from next, so a reader that loops
    sees every byte once.
    """

    def __init__(self, task: _tend.Task) -> None:
        self._task = task

    def read(self, cursor: int = 0, stream: str = "stdout", max_bytes: int = 1 << 20) -> Tuple[bytes, int]:
        """Up to ``max_bytes`` of ``stream`` ("stdout" or "stderr") from ``cursor``."""
        data, next_cursor, _eof = self._task.read(stream, cursor, max_bytes)
        return data, next_cursor

    def read_all(self, stream: str = "stdout") -> bytes:
        """Everything ``stream`` holds so far."""
        chunks = []
        cursor = 0
        while True:
            data, cursor = self.read(cursor, stream)
            if not data:
                return b"".join(chunks)
            chunks.append(data)

    def text(self, stream: str = "stdout") -> str:
        """``read_all(stream)`` decoded as UTF-8 (bad bytes replaced)."""
        return self.read_all(stream).decode("utf-8", "replace")

    def written(self, stream: str = "stdout") -> int:
        """Bytes written to ``stream`` so far: the cursor after the last one."""
        return self._task.written(stream)


class Task:
    """One task a Supervisor runs: a process, on pipes or a terminal.

    Every wait is awaitable and wakes from the engine's own event; a wait
    that times out returns None and leaves the task running. Cancelling an
    awaited wait cancels the wait only; ``stop()`` stops the task.
    """

    def __init__(self, supervisor: "Supervisor", handle: _tend.Task) -> None:
        self._sup = supervisor
        self._handle = handle
        self.output = Output(handle)

    @property
    def id(self) -> int:
        return self._handle.id

    @property
    def name(self) -> str:
        """Its name, or its command line."""
        return self._handle.name

    @property
    def command(self) -> str:
        return self._handle.command

    @property
    def status(self) -> Status:
        """A snapshot of its state now."""
        return self._handle.status()

    @property
    def state(self) -> State:
        return State(self._handle.status().state)

    def poll(self) -> Optional[Status]:
        """Its final status if it has finished, else None. Never blocks (the
        seed's ``check_done``: ``task.poll() is not None``)."""
        return self._sup._core.poll(self._handle)

    async def wait(self, timeout: Optional[float] = None) -> Optional[Status]:
        """Its final status, or None when ``timeout`` seconds passed first
        (the task keeps running)."""
        core = self._sup._core
        return await _bridge.bridge().expect(
            lambda c, token: core.start_wait(c, token, self._handle, timeout), core.cancel)

    def wait_blocking(self, timeout: Optional[float] = None) -> Optional[Status]:
        """``wait()`` for plain code: blocks this thread (not others: the GIL
        is released) until it ends or ``timeout`` seconds pass."""
        return self._sup._core.wait_blocking(self._handle, timeout)

    def future(self) -> "asyncio.Future[Optional[Status]]":
        """A future of its final status, for ``asyncio.wait(...,
        return_when=FIRST_COMPLETED)`` and the like."""
        return asyncio.ensure_future(self.wait())

    async def ready(self, timeout: Optional[float] = None) -> None:
        """Returns once its readiness conditions (``ready_pattern``,
        ``ready_port``) hold. Raises ReadinessError, with the output tail,
        when it exits first or ``timeout`` passes; the task is not stopped."""
        core = self._sup._core
        await _bridge.bridge().expect(
            lambda c, token: core.start_ready(c, token, self._handle, timeout), core.cancel)

    async def stop(self, grace: Optional[float] = None) -> Status:
        """TERM, ``grace`` seconds (default: the Supervisor's, 5), then KILL,
        to its whole process tree; returns its final status once it has been
        reaped. It ends ``killed``."""
        core = self._sup._core
        return await _bridge.bridge().expect(
            lambda c, token: core.start_stop(c, token, self._handle, grace), core.cancel)

    def stop_nowait(self, grace: Optional[float] = None) -> None:
        """Starts stopping it and returns at once."""
        self._sup._core.stop(self._handle, grace)

    def kill(self, signal: int) -> bool:
        """Sends one signal to its process group (and escapees). False when it
        has no running process."""
        return self._sup._core.kill(self._handle, signal)

    def send(self, data: Union[bytes, str]) -> None:
        """Writes to its terminal or stdin pipe (``stdin=True``)."""
        self._sup._core.send(self._handle, data.encode() if isinstance(data, str) else data)

    def close_input(self) -> None:
        """Closes its stdin (a terminal gets end-of-file)."""
        self._sup._core.close_input(self._handle)

    def record_activity(self) -> None:
        """Counts as progress for hang detection (the seed's ProgressMonitor)."""
        self._sup._core.record_activity(self._handle)

    @property
    def idle_for(self) -> float:
        """Seconds since its last output or recorded activity."""
        return self._handle.idle_for

    def __repr__(self) -> str:
        status = self.status
        return f"<tend.Task {status.id} {status.state} {self.name!r}>"


class Event:
    """One thing that happened to a task: ``kind`` (started, output, exited,
    stalled, restarting, ready, paused, resumed), the ``task``, for output the
    ``stream`` and its ``data``, for started and exited its ``status``."""

    __slots__ = ("kind", "task", "stream", "data", "status")

    def __init__(self, kind: str, task: Task, stream: str, data: bytes, status: Status) -> None:
        self.kind = kind
        self.task = task
        self.stream = stream
        self.data = data
        self.status = status

    def __repr__(self) -> str:
        return f"<tend.Event {self.kind} task {self.task.id}>"


class Supervisor:
    """Runs tasks and looks after them: tend's engine, on a thread of its own.

    ``async with tend.Supervisor() as sup:`` (or ``with`` in plain code):
    leaving the block stops every task it started (TERM, grace, KILL, the
    whole tree) and reaps them.

    It is a good guest in its host program: it reaps only the processes it
    started, never a child ``subprocess`` or asyncio started, and installs no
    signal handler. Descendants that escape a task's process group are found
    by the marker they inherit and stopped with their task.
    """

    def __init__(self, *, grace: Optional[float] = None) -> None:
        """``grace``: seconds between TERM and KILL when a task is stopped
        (default 5)."""
        self._core = _tend.Supervisor(adopt_orphans=False, grace=grace)
        self._tasks: dict[int, Task] = {}

    def run(self, command: Command, *, timeout: Union[None, float, str] = None, cwd: Union[None, str, "os.PathLike[str]"] = None,
            env: Optional[Mapping[str, str]] = None, terminal: bool = False, name: str = "",
            ready_pattern: Optional[str] = None, ready_port: Optional[int] = None, port: bool = False,
            idle_timeout: Optional[float] = None, idle_policy: str = "warn", progress_pattern: Optional[str] = None,
            merge_stderr: bool = False, stdin: bool = False, grace: Optional[float] = None) -> Task:
        """Starts a task and returns it at once.

        ``command``: a list is the program and its arguments (no shell); a
        string runs through ``/bin/sh -c``.
        ``timeout``: seconds of wall clock before it is stopped and ends
        ``timed_out``; None (the default) for no limit; "policy" for the
        command policy's limit (quick commands 2 min, builds 1 h, servers none).
        ``cwd``, ``env`` (added to this process's environment).
        ``terminal``: run on a pseudo-terminal (a dev server, a REPL).
        ``ready_pattern`` (RE2) / ``ready_port`` (0: the one ``port=True``
        hands it in $PORT): when ``await task.ready()`` returns.
        ``idle_timeout``: seconds without output (or lines matching
        ``progress_pattern``) before it counts as stalled; ``idle_policy``
        "warn" keeps it running, "stop" stops it (it ends ``stalled``).
        ``merge_stderr``: stderr into stdout. ``stdin``: a pipe for ``send()``.
        ``grace``: seconds between TERM and KILL when it is stopped.

        Raises SpawnError (``.kind``, ``.subject``) when it cannot start: a
        missing program, a bad cwd.
        """
        if isinstance(command, str):
            argv: list[str] = []
            shell: Optional[str] = command
        else:
            argv = [os.fspath(arg) for arg in command]
            shell = None
        by_policy = timeout == "policy"
        if isinstance(timeout, str) and not by_policy:
            raise ValueError(f'timeout must be seconds, None or "policy", not {timeout!r}')
        handle = self._core.run(
            argv=argv, shell=shell, name=name, cwd=os.fspath(cwd) if cwd is not None else "",
            env=list((env or {}).items()), terminal=terminal,
            timeout=None if by_policy else timeout, by_policy=by_policy,
            idle_timeout=idle_timeout, idle_policy=idle_policy, ready_pattern=ready_pattern,
            ready_port=ready_port, allocate_port=port, merge_stderr=merge_stderr, stdin_pipe=stdin,
            grace=grace, progress_pattern=progress_pattern)
        return self._task(handle)

    def _task(self, handle: _tend.Task) -> Task:
        task = self._tasks.get(handle.id)
        if task is None:
            task = self._tasks[handle.id] = Task(self, handle)
        return task

    def tasks(self) -> list[Task]:
        """Every task it holds, in order of id."""
        return [self._task(handle) for handle in self._core.tasks()]

    async def wait_any(self, tasks: Iterable[Task], timeout: Optional[float] = None) -> Optional[Task]:
        """The first of ``tasks`` to finish (one already finished counts), or
        None when ``timeout`` seconds passed first."""
        handles = [task._handle for task in tasks]
        core = self._core
        handle = await _bridge.bridge().expect(
            lambda c, token: core.start_wait_any(c, token, handles, timeout), core.cancel)
        return None if handle is None else self._task(handle)

    async def wait_all(self, tasks: Iterable[Task], timeout: Optional[float] = None) -> list[Optional[Status]]:
        """Every task's final status (None for one still running when
        ``timeout`` seconds passed), in the order given."""
        waits = [task.wait(timeout) for task in tasks]
        return list(await asyncio.gather(*waits))

    async def events(self, output: bool = False) -> AsyncIterator["Event"]:
        """Every event from now on, in order, as it happens: ``async for ev in
        sup.events(): ...`` (started, exited, stalled, ready, restarting,
        paused, resumed; output too with ``output=True``). It runs until the
        loop breaks out of it; events are queued meanwhile."""
        bridge = _bridge.bridge()
        queue: "asyncio.Queue[_tend.Event]" = asyncio.Queue()
        token, subscription = bridge.listen(
            lambda c, token: _tend.subscribe(self._core, c, token, output), queue.put_nowait)
        try:
            while True:
                record = await queue.get()
                yield Event(record.kind, self._task(record.task), record.stream, record.data, record.status)
        finally:
            subscription.close()
            bridge.forget(token)

    async def shutdown(self) -> None:
        """Stops every task with its ladder and waits until all are reaped;
        no task can be started afterwards."""
        if self._core.closed:
            return
        core = self._core
        await _bridge.bridge().expect(lambda c, token: core.start_shutdown(c, token), core.cancel)

    def close(self) -> None:
        """Shuts down (blocking) and ends the engine's thread. Idempotent."""
        self._core.close()

    @property
    def closed(self) -> bool:
        return self._core.closed

    async def __aenter__(self) -> "Supervisor":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.shutdown()
        self.close()

    def __enter__(self) -> "Supervisor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
