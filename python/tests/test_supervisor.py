"""The Supervisor from asyncio: real processes, waits that wake from the engine."""

import asyncio
import os
import signal
import subprocess
import sys
import threading

import pytest

import tend


async def test_a_list_is_argv_and_the_status_says_how_it_ended():
    async with tend.Supervisor() as sup:
        task = sup.run(["sh", "-c", "echo hello; exit 0"])
        status = await task.wait(timeout=30)
        assert status is not None
        assert status.state == "succeeded" == tend.State.SUCCEEDED
        assert status.ok and status.exit_code == 0 and status.reason == "exited with code 0"
        assert task.output.read(0) == (b"hello\n", 6)


async def test_a_string_runs_through_the_shell():
    async with tend.Supervisor() as sup:
        status = await sup.run("exit 42").wait(timeout=30)
        assert status.state == "failed"
        assert status.exit_code == 42
        assert status.reason == "exited with code 42"


async def test_a_wait_that_times_out_returns_none_and_the_task_keeps_running():
    async with tend.Supervisor() as sup:
        task = sup.run(["sleep", "30"])
        assert await task.wait(timeout=0.1) is None
        assert task.poll() is None
        assert task.state == tend.State.RUNNING
        stopped = await task.stop(grace=5)
        assert stopped.state == "killed"


async def test_cancelling_an_awaited_wait_cancels_the_wait_not_the_task():
    async with tend.Supervisor() as sup:
        task = sup.run(["sleep", "30"])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(task.wait(), timeout=0.1)
        assert task.poll() is None
        await task.stop()


async def test_poll_never_blocks_and_gives_the_final_status():
    async with tend.Supervisor() as sup:
        task = sup.run(["sh", "-c", "read line; exit 7"], stdin=True)
        assert task.poll() is None
        task.send(b"go\n")
        await task.wait(timeout=30)
        status = task.poll()
        assert status is not None and status.exit_code == 7


async def test_stdout_and_stderr_are_kept_apart_and_read_by_cursor():
    async with tend.Supervisor() as sup:
        task = sup.run("printf out1; printf err >&2; printf out2")
        await task.wait(timeout=30)
        data, cursor = task.output.read(0)
        assert data == b"out1out2" and cursor == 8
        assert task.output.read(cursor) == (b"", 8)
        assert task.output.read(4) == (b"out2", 8)
        assert task.output.read(0, stream="stderr") == (b"err", 3)
        assert task.output.text() == "out1out2"


async def test_a_timeout_ends_it_timed_out():
    async with tend.Supervisor() as sup:
        status = await sup.run(["sleep", "30"], timeout=0.2).wait(timeout=30)
        assert status.state == "timed_out"


async def test_wait_any_returns_the_first_to_finish():
    async with tend.Supervisor() as sup:
        slow = sup.run(["sleep", "30"])
        quick = sup.run(["true"])
        assert await sup.wait_any([slow, quick], timeout=30) is quick
        assert await sup.wait_any([slow], timeout=0.1) is None


async def test_futures_work_with_asyncio_wait_first_completed():
    async with tend.Supervisor() as sup:
        slow = sup.run(["sleep", "30"])
        quick = sup.run(["sh", "-c", "exit 3"])
        slow_future, quick_future = slow.future(), quick.future()
        done, pending = await asyncio.wait([slow_future, quick_future], timeout=30,
                                           return_when=asyncio.FIRST_COMPLETED)
        assert done == {quick_future} and pending == {slow_future}
        assert quick_future.result().exit_code == 3
        slow_future.cancel()


async def test_ready_returns_once_the_pattern_shows():
    async with tend.Supervisor() as sup:
        server = sup.run("echo starting; sleep 0.2; echo 'listening on 8080'; sleep 30",
                         ready_pattern=r"listening on \d+")
        await server.ready(timeout=30)
        assert server.status.ready
        assert server.poll() is None


async def test_ready_port_with_an_allocated_port():
    async with tend.Supervisor() as sup:
        server = sup.run(f"exec {sys.executable} -m http.server --bind 127.0.0.1 $PORT", port=True, ready_port=0)
        await server.ready(timeout=30)
        assert server.status.port


async def test_a_task_that_exits_before_it_is_ready_raises_readiness_error():
    async with tend.Supervisor() as sup:
        task = sup.run("echo bye; exit 1", ready_pattern="never")
        with pytest.raises(tend.ReadinessError) as raised:
            await task.ready(timeout=30)
        assert raised.value.kind == "exited"
        assert "bye" in raised.value.output_tail


def _alive(pid):
    """Running (not gone, not a zombie waiting for its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_stop_is_graceful_and_reaches_the_whole_tree():
    async with tend.Supervisor() as sup:
        # The grandchild ignores TERM: only the KILL after the grace ends it.
        task = sup.run("trap '' TERM; sleep 60 & echo $!; wait", grace=0.3, ready_pattern=r"^\d+$")
        await task.ready(timeout=30)
        grandchild = int(task.output.read(0)[0])
        status = await task.stop()
        assert status.state == "killed"
        assert not _alive(grandchild)


async def test_leaving_the_block_stops_and_reaps_everything():
    async with tend.Supervisor() as sup:
        tasks = [sup.run(["sleep", "60"]) for _ in range(5)]
        pids = [t.status.pid for t in tasks]
    assert sup.closed
    for task, pid in zip(tasks, pids):
        assert task.status.state == "killed"
        assert not _alive(pid)


async def test_idle_timeout_with_the_stop_policy_ends_it_stalled():
    async with tend.Supervisor() as sup:
        task = sup.run("echo working; sleep 30", idle_timeout=0.3, idle_policy="stop")
        status = await task.wait(timeout=30)
        assert status.state == "stalled"


async def test_a_terminal_task_runs_on_a_pseudo_terminal():
    async with tend.Supervisor() as sup:
        task = sup.run("tty", terminal=True)
        await task.wait(timeout=30)
        assert task.output.text().startswith("/dev/pts/")


async def test_spawn_errors_carry_their_kind_and_subject():
    async with tend.Supervisor() as sup:
        with pytest.raises(tend.SpawnError) as missing:
            sup.run(["/no/such/program"])
        assert missing.value.kind == "executable_not_found"
        assert missing.value.subject == "/no/such/program"
        with pytest.raises(tend.SpawnError) as bad_cwd:
            sup.run(["true"], cwd="/no/such/dir")
        assert bad_cwd.value.kind == "bad_cwd"
        assert isinstance(bad_cwd.value, tend.TendError)


async def test_bad_arguments_are_value_errors_that_name_the_argument():
    async with tend.Supervisor() as sup:
        with pytest.raises(ValueError, match="timeout"):
            sup.run(["true"], timeout=-1)
        with pytest.raises(ValueError, match="idle_policy"):
            sup.run(["true"], idle_policy="sometimes")


async def test_the_hosts_own_children_keep_their_exit_codes():
    async with tend.Supervisor() as sup:
        task = sup.run("sleep 0.05 & exit 0")
        assert subprocess.run(["sh", "-c", "exit 3"]).returncode == 3
        proc = await asyncio.create_subprocess_exec("sh", "-c", "exit 4")
        assert await proc.wait() == 4
        await task.wait(timeout=30)
        assert subprocess.run(["sh", "-c", "exit 5"]).returncode == 5
    assert subprocess.run(["sh", "-c", "exit 6"]).returncode == 6


async def test_a_thousand_tasks_awaited_at_once_without_a_thread_each():
    threads_before = threading.active_count()
    async with tend.Supervisor() as sup:
        gate = asyncio.Semaphore(50)
        most_threads = 0

        async def one(i):
            nonlocal most_threads
            async with gate:
                task = sup.run(["sh", "-c", f"exit {i % 3}"])
                most_threads = max(most_threads, threading.active_count())
                return i, await task.wait(timeout=60)

        results = await asyncio.gather(*(one(i) for i in range(1000)))
    assert all(status.exit_code == i % 3 for i, status in results)
    # The engine's one thread (and nothing per task).
    assert most_threads <= threads_before + 2


async def test_a_blocking_wait_on_another_thread_leaves_the_loop_running():
    async with tend.Supervisor() as sup:
        task = sup.run(["sh", "-c", "sleep 0.3; exit 9"])
        blocking = asyncio.get_running_loop().run_in_executor(None, task.wait_blocking, 30)
        ticks = 0
        while not blocking.done():
            ticks += 1
            await asyncio.sleep(0.01)
        assert (await blocking).exit_code == 9
        assert ticks > 5  # the GIL was free while the thread waited


def test_plain_code_uses_with_and_wait_blocking():
    with tend.Supervisor() as sup:
        task = sup.run(["sh", "-c", "echo plain"])
        status = task.wait_blocking(timeout=30)
        assert status.ok and task.output.text() == "plain\n"
        sleeper = sup.run(["sleep", "30"])
        assert sleeper.wait_blocking(timeout=0.05) is None
    assert sleeper.status.state == "killed"


def test_the_version_is_the_projects():
    assert tend.__version__.count(".") == 2


def test_a_supervisor_dropped_without_closing_still_stops_its_tasks():
    import gc
    sup = tend.Supervisor(grace=1)
    task = sup.run(["sleep", "60"])
    pid = task.status.pid
    del sup, task
    gc.collect()
    assert not _alive(pid)


async def test_a_closed_supervisor_refuses_work_with_task_error():
    sup = tend.Supervisor()
    task = sup.run(["true"])
    sup.close()
    with pytest.raises(tend.TaskError, match="closed"):
        sup.run(["true"])
    with pytest.raises(tend.TaskError):
        await task.wait()


def test_the_policy_table_knows_servers_builds_and_quick_commands():
    assert tend.policy.command_class("npm run dev") == "long_running"
    assert tend.policy.expected_timeout("npm run dev") is None
    assert tend.policy.command_class(["make", "-j4"]) == "build"
    assert tend.policy.expected_timeout(["make", "-j4"]) == 3600
    assert tend.policy.expected_timeout("ls -l") == 120


async def test_timeout_policy_gives_a_quick_command_its_limit():
    async with tend.Supervisor() as sup:
        quick = await sup.run(["true"], timeout="policy").wait(timeout=30)
        assert quick.timeout == 120 and quick.idle_timeout == 60
        server = sup.run("exec python3 -m http.server --bind 127.0.0.1 0", timeout="policy")
        assert server.status.timeout is None
        unlimited = await sup.run(["true"]).wait(timeout=30)
        assert unlimited.timeout is None and unlimited.idle_timeout is None
        given = await sup.run(["true"], timeout=7, idle_timeout=3).wait(timeout=30)
        assert given.timeout == 7 and given.idle_timeout == 3
    with pytest.raises(ValueError, match="policy"):
        tend.Supervisor().run(["true"], timeout="later")


async def test_events_arrive_in_order_as_an_async_iterator():
    async with tend.Supervisor() as sup:
        seen = []

        async def watch():
            async for event in sup.events(output=True):
                seen.append((event.kind, event.task.id, event.data))
                if event.kind == "exited":
                    return event

        watcher = asyncio.ensure_future(watch())
        await asyncio.sleep(0)  # the watcher subscribes before the task starts
        task = sup.run(["sh", "-c", "echo hi; exit 2"])
        exited = await asyncio.wait_for(watcher, timeout=30)
        assert exited.task is task and exited.status.exit_code == 2
        kinds = [kind for kind, _, _ in seen]
        assert kinds[0] == "started" and kinds[-1] == "exited"
        assert ("output", task.id, b"hi\n") in seen
