"""A dev server on a free port: start it, wait until it accepts connections,
use it, stop it gracefully.

    PYTHONPATH=build/python python3 python/examples/dev_server.py
"""

import asyncio
import sys
import urllib.request

import tend


async def main() -> None:
    async with tend.Supervisor() as sup:
        server = sup.run(f"exec {sys.executable} -m http.server --bind 127.0.0.1 $PORT",
                         port=True, ready_port=0, name="web")
        await server.ready(timeout=30)
        port = server.status.port
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(None, lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/").status)
        print(f"server on port {port} answered {reply}")
        status = await server.stop(grace=2)
        print(f"server {status.state}: {status.reason}")
        print(server.output.text("stderr").strip().splitlines()[-1])


if __name__ == "__main__":
    asyncio.run(main())
