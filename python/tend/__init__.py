"""tend for Python: run and look after background tasks, native to asyncio.

The patterns of tend's seed document (fire and forget, wait with a timeout,
wait for any, poll, graceful kill of a whole tree, cleanup on exit) on tend's
C++ engine::

    async with tend.Supervisor() as sup:
        build = sup.run(["make", "-j4"], timeout=600)
        status = await build.wait(timeout=60)   # None: still running
        data, cursor = build.output.read(0)

See docs/python.md.
"""

from . import policy
from ._tend import ReadinessError, SpawnError, Status, TaskError, TendError, __version__
from ._supervisor import Event, Output, State, Supervisor, Task

__all__ = [
    "Event",
    "Output",
    "ReadinessError",
    "SpawnError",
    "State",
    "Status",
    "Supervisor",
    "Task",
    "TaskError",
    "TendError",
    "__version__",
    "policy",
]
