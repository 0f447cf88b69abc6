"""`make run` and `make test` start embedded PostgreSQL and Redis when no server is configured,
and stop them again however the command ends."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def servers_using(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            cwd = proc.info["cwd"] or ""
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if str(data_dir) in cmd or (str(data_dir) in cwd and "redis-server" in cmd):
            found.append(proc)
    return found


def test_embedded_servers_serve_the_command_and_stop_on_ctrl_c():
    # Not pytest's tmp_path: its parent is pruned by other pytest runs on the machine.
    data = Path(tempfile.mkdtemp(prefix="hearken-svc-")) / "svc"
    probe = (
        "import os, sys, psycopg, redis;"
        "psycopg.connect(os.environ['DATABASE_URL']).execute('select 1');"
        "redis.Redis.from_url(os.environ['REDIS_URL']).ping();"
        "print('READY', flush=True); import time; time.sleep(120)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.Popen(
        [sys.executable, "scripts/services.py", "--data", str(data), "--", sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", proc.stderr.read()
        assert servers_using(data), "embedded servers should be running while the command runs"

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    deadline = time.monotonic() + 10
    while servers_using(data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert servers_using(data) == []
    shutil.rmtree(data.parent, ignore_errors=True)
