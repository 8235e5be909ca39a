"""The warm process behind ``siae`` (see :mod:`flows.runtime.warm_cli`): imports once, forks per command.

The server imports the command line, the table classes, the database drivers and the French calendar,
validates the configuration once, then waits. For each command it forks: the copy takes the caller's
terminal, arguments, directory and environment, checks that no file it was built from has changed, and
runs the command as :func:`flows.runtime.cli.main` would in a new process.

Nothing that depends on who calls is built here: no settings object, no database engine, no Prefect
client. The configuration is the exception, kept only while its files are unchanged.
"""

import atexit
import contextlib
import fcntl
import gc
import io
import json
import os
import signal
import socket
import struct
import sys
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.runtime.warm_cli import EXITED, PROTOCOL, STALE, STARTED, read_exactly

if TYPE_CHECKING:
    from implantation.settings import Settings

DEFAULT_IDLE_SECONDS = 600.0


def serve(path: str) -> None:
    """Until idle: one server per socket, the others exit at once (the lock says who)."""
    lock = open(path + ".lock", "a")  # noqa: SIM115 - held for the server's whole life
    if not _take(lock):
        return
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")  # for stop_servers()
    lock.flush()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # left by a server that died
    settings = _settings()
    idle = settings.cli_warm_idle_seconds if settings else DEFAULT_IDLE_SECONDS
    stamps = _preload(settings)
    os.chdir("/")  # not the first caller's directory, which may be removed; each command gets its own
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    listener.settimeout(idle)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked commands are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: _stop(listener, path))
    gc.freeze()  # the preloaded objects stay shared with the forks instead of being copied by the collector
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                break
            if os.fork() == 0:
                listener.close()
                lock.close()
                _child(conn, stamps)
            conn.close()
    finally:
        _stop(listener, path)


def _take(lock: Any, attempts: int = 50) -> bool:
    """The lock, waiting a little: a stale server, told to stop, may still hold it for a moment."""
    import time

    for _ in range(attempts):
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            time.sleep(0.1)
    return False


def _stop(listener: socket.socket, path: str) -> None:
    """Only the lock's holder ever binds this path, so the file is this server's own."""
    with contextlib.suppress(OSError):
        os.unlink(path)
    os._exit(0)


def _settings() -> "Settings | None":
    """The first caller's settings, read once here: its idle delay and configuration directory only (each
    command reads its own). None when invalid: the commands report that themselves, in French."""
    from implantation.settings import Settings

    try:
        return Settings()
    except Exception:
        return None


def _preload(settings: "Settings | None") -> dict[str, tuple[int, int]]:
    """What every command would otherwise import or compute, and the files it was built from."""
    import importlib

    from sqlalchemy.orm import configure_mappers

    import flows.runtime.cli  # noqa: F401  (the complete command tree, Prefect commands registered)
    from implantation.cli import COMMANDS, GROUPS

    for module, _attribute, _help in (*GROUPS.values(), *COMMANDS.values()):
        importlib.import_module(module)
    with contextlib.suppress(ImportError):  # PostgreSQL, the production database
        import psycopg  # noqa: F401

    import implantation.db.models  # noqa: F401

    configure_mappers()
    if settings is not None:
        _warm_configuration(settings.config_dir)
    return _stamps(_module_files())


def _warm_configuration(config_dir: Path) -> None:
    """The configuration, validated once (a changed file is reloaded by the command, see
    :func:`implantation.config.loader.forget_cached_if_changed`), and its départements' holidays."""
    from implantation import calendar
    from implantation.config.loader import get_process_config

    try:
        cfg = get_process_config(config_dir)
    except Exception:  # the command will report it, in French, when it loads the configuration itself
        return
    year = date.today().year  # not dates.today(): it reads the settings, which are the caller's to give
    for departement in cfg.territory.departement:
        for offset in (-1, 0, 1, 2):
            calendar.public_holiday(date(year + offset, 1, 1), departement)


def _module_files() -> set[str]:
    files = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str) and os.path.isfile(name):
            files.add(name)
    return files


def _stamps(files: set[str]) -> dict[str, tuple[int, int]]:
    stamps = {}
    for name in files:
        with contextlib.suppress(OSError):
            info = os.stat(name)
            stamps[name] = (info.st_mtime_ns, info.st_size)
    return stamps


def _changed(stamps: dict[str, tuple[int, int]]) -> bool:
    return _stamps(set(stamps)) != stamps


def _child(conn: socket.socket, stamps: dict[str, tuple[int, int]]) -> None:
    """The forked copy: becomes the caller's command, reports its exit code, and never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        conn.settimeout(10)
        request, fds = _receive(conn)
        if request is None or _changed(stamps):
            conn.sendall(STALE)
            if request is not None:
                os.kill(os.getppid(), signal.SIGTERM)  # the next command starts a fresh server
            os._exit(0)
        _become(request, fds)
        conn.settimeout(None)
        conn.sendall(STARTED + struct.pack("!ii", os.getpid(), os.getppid()))
        code = _run()
    except BaseException:  # whatever happens, the caller gets a code
        code = 1
    _finish(conn, code)


def _receive(conn: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    if uid != os.getuid():
        return None, []
    message, fds, _flags, _addr = socket.recv_fds(conn, len(PROTOCOL), 3)
    if message != PROTOCOL or len(fds) != 3:
        return None, []
    size = struct.unpack("!I", read_exactly(conn, 4))[0]
    return json.loads(read_exactly(conn, size)), fds


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """The caller's terminal, directory, environment and arguments, as if it had started this process."""
    import time

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    sys.argv = list(request["argv"])
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = request["streams"]
    sys.stdin = sys.__stdin__ = _text(0, "r", in_enc, in_err)
    sys.stdout = sys.__stdout__ = _text(1, "w", out_enc, out_err)
    sys.stderr = sys.__stderr__ = _text(2, "w", err_enc, err_err)
    from implantation.cli.common import reset_consoles
    from implantation.config.loader import forget_cached_if_changed
    from implantation.db.session import get_engine
    from implantation.settings import get_settings

    reset_consoles()
    get_settings.cache_clear()  # the caller's settings, never the server's (none should exist: belt and braces)
    get_engine.cache_clear()
    forget_cached_if_changed()


def _text(fd: int, mode: str, encoding: str, errors: str) -> io.TextIOWrapper:
    """The stream as the caller's interpreter opened it (its encoding and error handler, from its locale or
    ``PYTHONIOENCODING``); line-buffered on a terminal, as Python does."""
    interactive = os.isatty(fd)
    return open(  # the process's standard stream, closed at exit
        fd, mode, encoding=encoding, errors=errors, closefd=False, buffering=1 if interactive else -1
    )


def _run() -> int:
    from flows.runtime.cli import main as cold_main

    try:
        cold_main()
    except SystemExit as exc:
        return _exit_code(exc.code)
    except KeyboardInterrupt:
        return 130
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _finish(conn: socket.socket, code: int) -> None:
    """What the interpreter does at exit (threads, atexit, buffers), then the code to the caller."""
    with contextlib.suppress(BaseException):
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    with contextlib.suppress(OSError):
        conn.sendall(EXITED + struct.pack("!i", code))
    os._exit(code & 0xFF)
