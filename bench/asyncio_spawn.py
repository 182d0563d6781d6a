#!/usr/bin/env python3
"""Python asyncio doing what spawn_throughput asks of tend: N short tasks,
output captured, C at a time. Prints 'tasks_per_s correct'."""
import asyncio
import sys
import time


async def main(n: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    correct = 0

    async def one() -> None:
        nonlocal correct
        async with gate:
            proc = await asyncio.create_subprocess_exec("/bin/echo", "hi", stdout=asyncio.subprocess.PIPE)
            out, _ = await proc.communicate()
            correct += out == b"hi\n" and proc.returncode == 0

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    elapsed = time.perf_counter() - start
    print(f"{n / elapsed:.1f} {correct}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
