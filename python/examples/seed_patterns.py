"""The seed's waiting patterns (seed/async-tasks.md) on tend, one after another.

    PYTHONPATH=build/python python3 python/examples/seed_patterns.py
"""

import asyncio

import tend


async def main() -> None:
    async with tend.Supervisor() as sup:
        # Fire and forget: start it, look later.
        background = sup.run(["sh", "-c", "sleep 0.3; echo background done"])

        # Wait with a timeout: None means the wait gave up; the task runs on.
        slow = sup.run(["sleep", "30"], name="slow")
        if await slow.wait(timeout=0.2) is None:
            print(f"{slow.name} still running after 0.2 s; stopping it")
            stopped = await slow.stop(grace=1)  # TERM, 1 s, KILL: the whole tree
            print(f"  {stopped.state}: {stopped.reason}")

        # Wait for any, as asyncio.wait(..., FIRST_COMPLETED) does.
        quick = sup.run("echo quick", name="quick")
        done, _ = await asyncio.wait([background.future(), quick.future()],
                                     return_when=asyncio.FIRST_COMPLETED)
        first = done.pop().result()
        print(f"first to finish: task {first.id} ({first.reason})")

        # Poll without blocking.
        print("background finished?", background.poll() is not None)
        status = await background.wait(timeout=30)
        print("background:", status.state, background.output.text().strip())

        # Output timeout: no output for 0.3 s and the task is stopped, `stalled`.
        hung = sup.run("echo working; sleep 30", idle_timeout=0.3, idle_policy="stop")
        print("hung:", (await hung.wait(timeout=30)).reason)

        # Left running on purpose: leaving the block stops and reaps it.
        sup.run(["sleep", "60"], name="server")
    print("every task stopped and reaped")


if __name__ == "__main__":
    asyncio.run(main())
