"""The seed's table of known commands: which get a wall-clock limit by default.

Servers and watchers (``npm run dev``, ``python -m http.server``, ``uvicorn``)
run without end on purpose; builds (``make``, ``cargo build``) go quiet for
minutes; everything else is a quick command. ``sup.run(cmd, timeout="policy")``
uses this table; without it a task has no limit unless given one.
"""

from typing import Optional, Sequence, Union

from . import _tend

Command = Union[str, Sequence[str]]


def command_class(command: Command) -> str:
    """``"quick"``, ``"build"`` or ``"long_running"``."""
    return _tend.command_class(command if isinstance(command, str) else list(command))


def expected_timeout(command: Command) -> Optional[float]:
    """The wall-clock limit in seconds the policy gives ``command`` (120 for a
    quick command, 3600 for a build), or None for a server or watcher."""
    return _tend.expected_timeout(command if isinstance(command, str) else list(command))


def expected_idle_timeout(command: Command) -> Optional[float]:
    """The longest silence in seconds the policy allows ``command``, or None."""
    return _tend.expected_idle_timeout(command if isinstance(command, str) else list(command))
