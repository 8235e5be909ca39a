"""The ``siae`` entry point: a small client that hands the command to a warm process when one is up.

Why: a command pays about 0.6 s of imports (SQLAlchemy and SQLModel, the table classes, pydantic, typer,
psycopg) and 0.15 s of configuration validation before reading a single row, so `siae projet lister`
took 1.1 s and `siae tableau` 2 s however small the query. A person types several commands in a row.
The first one starts, in the background, a process that has done that work once
(:func:`serve`); the next ones connect to it and it forks a copy that runs the command exactly as a new
process would: the caller's arguments, working directory, environment, umask, and its own terminal (the
file descriptors themselves are passed, so colours, width and prompts are the caller's). The exit code
and Ctrl-C travel back and forth. This is the Gradle daemon's or Bazel server's design, per user.

What keeps it safe:
* the socket is in a directory only its user can open, and the server checks the peer's uid;
* one server per Python installation and module path (the socket's name is a digest of both);
* a module file changed since the server started makes it answer « stale »: the client runs the command
  itself and a fresh server starts for the next one; a changed configuration file is read again;
* no database connection, settings or Prefect client exists in the server, so none is shared by forks;
* the server stops after ``SIAE_CLI_WARM_IDLE_SECONDS`` without a command (600 by default);
* ``SIAE_CLI_WARM=0`` turns it off; any failure to reach the server falls back to running the command in
  the calling process, and a command the server has started is never run a second time.

This module is imported by every ``siae`` command before anything else, so its imports stay in the
standard library's light modules.
"""

import contextlib
import os
import socket
import struct
import sys
from typing import Any

SERVER_VARIABLE = "_SIAE_CLI_WARM_SOCKET"
ENABLED_VARIABLE = "SIAE_CLI_WARM"
DIR_VARIABLE = "SIAE_CLI_WARM_DIR"
PROTOCOL = b"siae-cli-1"
STALE, STARTED, EXITED = b"S", b"P", b"X"


def main() -> None:
    server_socket = os.environ.pop(SERVER_VARIABLE, None)
    if server_socket:
        from flows.runtime.warm_server import serve

        serve(server_socket)
        return
    if _enabled() and hasattr(socket, "send_fds"):
        path = socket_path()
        if path is not None:
            code = _run_warm(path)
            if code is not None:
                sys.exit(code)
            _start_server(path)
    _run_cold()


def _enabled() -> bool:
    """``SIAE_CLI_WARM`` read as the settings class reads a boolean (``0``, ``false``, ``non``… turn it off);
    pydantic is not imported here, it is part of what the warm process saves."""
    return os.environ.get(ENABLED_VARIABLE, "1").strip().lower() not in {"0", "false", "f", "no", "n", "off"}


def stop_servers(directory: str) -> int:
    """Stops the servers whose sockets are in ``directory`` (tests, benchmarks); how many were running."""
    import fcntl
    import signal

    stopped = 0
    for name in os.listdir(directory):
        if not name.endswith(".sock.lock"):
            continue
        with open(os.path.join(directory, name)) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: its server is alive
                pid = int(lock.read().strip() or 0)
                if pid > 0:
                    os.kill(pid, signal.SIGTERM)
                    stopped += 1
    return stopped


def _run_cold() -> None:
    from flows.runtime.cli import main as cold_main

    cold_main()


def socket_path() -> str | None:
    """The user's private directory, and a name per installation; None when the directory is not safe."""
    import hashlib

    base = os.environ.get(DIR_VARIABLE) or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"siae-cli-{os.getuid()}"
    )
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        info = os.stat(base)
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # someone else could connect, or put a socket of theirs in its place
    identity = "\0".join([PROTOCOL.decode(), sys.executable, *sys.path])
    return os.path.join(base, hashlib.sha256(identity.encode()).hexdigest()[:16] + ".sock")


def _run_warm(path: str) -> int | None:
    """The command's exit code, or None when the server is absent or stale (nothing was run)."""
    import json

    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(2)
        conn.connect(path)
        request = json.dumps(
            {
                "argv": sys.argv,
                "cwd": os.getcwd(),
                "env": dict(os.environ),
                "umask": _umask(),
                "streams": [
                    [getattr(s, "encoding", None) or "utf-8", getattr(s, "errors", None) or "strict"]
                    for s in (sys.stdin, sys.stdout, sys.stderr)
                ],
            }
        ).encode()
        socket.send_fds(conn, [PROTOCOL], [0, 1, 2])
        conn.sendall(struct.pack("!I", len(request)) + request)
        answer = read_exactly(conn, 1)
    except OSError:
        return None
    if answer != STARTED:
        return None  # stale or refused before running anything: run here
    conn.settimeout(None)
    try:
        child, server = struct.unpack("!ii", read_exactly(conn, 8))
    except OSError:
        return None
    if os.environ.get("SIAE_DEBUG") == "1":
        print(f"siae : commande confiée au processus chaud n° {server} (copie n° {child})", file=sys.stderr)
    _forward_signals(child)
    try:
        tag = read_exactly(conn, 1)
        code = struct.unpack("!i", read_exactly(conn, 4))[0] if tag == EXITED else None
    except OSError:
        code = None
    if code is None:
        print("siae : la commande s'est arrêtée sans rendre de code de sortie.", file=sys.stderr)
        return 1
    return code


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("fin de connexion")
        data += chunk
    return data


def _forward_signals(child: int) -> None:
    """Ctrl-C reaches the client (the terminal's foreground process): the command gets it."""
    import signal

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)


def _start_server(path: str) -> None:
    """A detached server for the next commands; it outlives this one, on purpose, until it is idle."""
    env = {**os.environ, SERVER_VARIABLE: path}
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.posix_spawn(
            sys.executable,
            [sys.executable, sys.argv[0]],
            env,
            file_actions=[(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)],
            setsid=True,
        )
    except OSError:
        pass  # the command still runs here; the next one will try again
    finally:
        os.close(devnull)
