"""How long `zerotrip demo` takes to serve on an empty data directory, and on a second run that reuses it.

Run: .venv/bin/python bench/demo_startup.py [--citizens 10000]
Prints one line per run and, last, one JSON line with the figures (seconds until /healthz answers 200).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_until_serving(data_dir: Path, citizens: int, timeout: float = 300.0) -> float:
    port = free_port()
    env = {**os.environ, "ZEROTRIP_DATA_DIR": str(data_dir)}
    env.pop("ZEROTRIP_DATABASE_URL", None)
    command = [sys.executable, "-m", "zerotrip", "demo", "--citizens", str(citizens), "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"zerotrip demo exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("the demo did not start serving in time")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=10_000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="zerotrip-bench-"))
    try:
        first = time_until_serving(data_dir, args.citizens)
        print(f"empty data directory: serving after {first:.1f} s")
        second = time_until_serving(data_dir, args.citizens)
        print(f"second run (reuses the data): serving after {second:.1f} s")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(
        json.dumps(
            {
                "bench": "demo_startup",
                "citizens": args.citizens,
                "first_s": round(first, 2),
                "second_s": round(second, 2),
                "ratio_first_to_second": round(first / second, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
