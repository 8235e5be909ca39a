"""How a flow process talks to Prefect's API: one TLS context for all its clients, quick retries of
the writes that a locked SQLite server refuses.

**One TLS context per process instead of one per client.**

Prefect builds a new ``ssl.SSLContext`` in every ``PrefectClient`` and ``SyncPrefectClient`` it
creates, even for a plain ``http://`` API, and a flow run creates several clients: each build costs CPU
that the server needs while a person waits (figures in benchmarks/README.md).

Prefect accepts a ready context in ``httpx_settings["verify"]`` (it keeps it instead of building one),
so each process builds at most one per TLS setting and hands it to every client. The context follows
the same rules as Prefect's: ``PREFECT_API_TLS_INSECURE_SKIP_VERIFY`` turns verification off,
otherwise ``PREFECT_API_SSL_CERT_FILE`` (or certifi's bundle) holds the trusted authorities. The
settings are read at each client's creation, so a run whose settings differ gets its own context.

**Writes refused because SQLite is locked.** Prefect's client answers an HTTP 503 by sleeping 2 s
before it even looks at its retry budget. A SQLite server answers 503 when a deferred transaction
cannot take the write lock once another writer has committed (« database is locked »), and rolls back;
asked again, it passes. The server that :mod:`flows.runtime.server` starts creates runs in transactions
that take the lock first, so this is now the rare case, but a plain ``prefect server start`` still
refuses them often right after a decision. :func:`sync_client` sends its requests through
:class:`RetryLockedWrites`, which asks again after a few tens of milliseconds, for about 2 s, before
Prefect's own retries take over.

The shared context is patch ``shared_tls`` of :mod:`flows.runtime.tuning`; the quick retries use Prefect's
public ``httpx_settings`` and stay with ``SIAE_PREFECT_TUNING=0``.

Guard: ``tests/runtime/test_client.py::test_installed_clients_build_no_context_of_their_own`` fails if
Prefect's clients stop taking the context handed in ``httpx_settings``.
"""

import functools
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import certifi
import httpx
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.settings import get_current_settings

_INSTALLED = "_siae_shared_tls"


@functools.cache
def context_for(insecure: bool, cafile: str | None) -> ssl.SSLContext:
    """The process's context for these TLS settings, built on first use."""
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=cafile or certifi.where())


def current_context() -> ssl.SSLContext:
    api = get_current_settings().api
    if api.tls_insecure_skip_verify:
        return context_for(True, None)
    return context_for(False, str(api.ssl_cert_file) if api.ssl_cert_file else None)


def _with_shared_context(init: Any) -> Any:
    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, httpx_settings: dict[str, Any] | None = None, **kwargs: Any) -> None:
        settings = dict(httpx_settings or {})
        # As Prefect does, a ``verify`` given by the caller is kept as it is.
        settings.setdefault("verify", current_context())
        init(self, *args, httpx_settings=settings, **kwargs)

    setattr(wrapper, _INSTALLED, True)
    return wrapper


def install_shared_tls() -> None:
    """Make every Prefect client of this process use the shared context; calling it again does nothing."""
    for client_class in (PrefectClient, SyncPrefectClient):
        if not getattr(client_class.__init__, _INSTALLED, False):
            client_class.__init__ = _with_shared_context(client_class.__init__)  # type: ignore[method-assign]


LOCKED_PAUSES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.5, 0.5)


class RetryLockedWrites(httpx.BaseTransport):
    """Sends a request again after a short pause while the server answers 503 (its retryable refusal)."""

    def __init__(self, inner: httpx.BaseTransport, pauses: Sequence[float] = LOCKED_PAUSES) -> None:
        self.inner = inner
        self.pauses = tuple(pauses)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for pause in self.pauses:
            response = self.inner.handle_request(request)
            if response.status_code != 503:
                return response
            response.read()
            response.close()
            time.sleep(pause)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@contextmanager
def sync_client() -> Iterator[SyncPrefectClient]:
    """Prefect's sync client, with quick retries of refused writes (a given transport replaces the
    client's own, so it gets the TLS context and HTTP/2 setting the client would have used)."""
    api = get_current_settings().api
    if not api.url:  # Prefect's in-process server: its client brings its own transport
        with get_client(sync_client=True) as client:
            yield client
        return
    inner = httpx.HTTPTransport(verify=current_context(), http2=api.enable_http2)
    with get_client(sync_client=True, httpx_settings={"transport": RetryLockedWrites(inner)}) as client:
        yield client
