"""Cold and warm start time of `parley up` until /healthz is 200 (all checks ok).

Cold: an empty data dir (initdb, migrations, demo data). Warm: the same data dir again.
Baseline, same run: starting only the embedded PostgreSQL + Redis on the warm data dir.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import REPO, emit, free_port


def start_and_wait(data_dir: Path, port: int, timeout: float = 240) -> tuple[float, subprocess.Popen[bytes]]:
    env = dict(os.environ, PARLEY_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "parley"), "up", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"parley up exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
                body = json.loads(response.read())
                if response.status == 200 and body["status"] == "ok":
                    return time.perf_counter() - started, process
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("parley up did not become healthy in time")


def stop(process: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    return time.perf_counter() - started


def services_only(data_dir: Path) -> float:
    code = (
        "import time, pathlib; t=time.perf_counter();"
        "from parley.runtime.services import ensure_services;"
        f"s=ensure_services(pathlib.Path({str(data_dir)!r})); print(time.perf_counter()-t); s.stop()"
    )
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=REPO)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="parley-startup-"))
    try:
        port = free_port()
        cold, process = start_and_wait(data_dir, port)
        cold_stop = stop(process)
        warm, process = start_and_wait(data_dir, port)
        warm_stop = stop(process)
        baseline = services_only(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    emit(
        {
            "bench": "startup",
            "cold_start_s": round(cold, 2),
            "warm_start_s": round(warm, 2),
            "stop_s": round(max(cold_stop, warm_stop), 2),
            "baseline": "embedded PostgreSQL + Redis only (warm)",
            "baseline_s": round(baseline, 2),
            "ratio_warm_to_baseline": round(warm / baseline, 2) if baseline else None,
        }
    )


if __name__ == "__main__":
    main()
