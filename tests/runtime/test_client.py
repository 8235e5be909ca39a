"""Prefect clients of a flow process: one shared TLS context, quick retries of refused writes."""

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import certifi
import httpx
import pytest
from prefect.client.orchestration import PrefectClient, SyncPrefectClient
from prefect.settings import (
    PREFECT_API_SSL_CERT_FILE,
    PREFECT_API_TLS_INSECURE_SKIP_VERIFY,
    temporary_settings,
)

from flows.runtime.client import RetryLockedWrites, context_for, current_context, install_shared_tls


@pytest.fixture(autouse=True)
def fresh_contexts() -> Iterator[None]:
    context_for.cache_clear()
    yield
    context_for.cache_clear()


def test_one_context_per_tls_setting() -> None:
    verified = current_context()
    assert current_context() is verified
    assert verified.verify_mode == ssl.CERT_REQUIRED and verified.check_hostname
    with temporary_settings({PREFECT_API_TLS_INSECURE_SKIP_VERIFY: True}):
        insecure = current_context()
    assert insecure is not verified
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname
    assert current_context() is verified


def test_the_configured_certificate_file_is_the_one_trusted(tmp_path: Path) -> None:
    bundle = Path(certifi.where()).read_text()
    end = "-----END CERTIFICATE-----"
    one = tmp_path / "ac.pem"
    one.write_text(bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)] + "\n")
    with temporary_settings({PREFECT_API_SSL_CERT_FILE: str(one)}):
        context = current_context()
    assert len(context.get_ca_certs()) == 1
    assert len(current_context().get_ca_certs()) > 1


def test_installed_clients_build_no_context_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for client_class in (PrefectClient, SyncPrefectClient):
        monkeypatch.setattr(client_class, "__init__", client_class.__init__)  # restored after the test
    built: list[ssl.SSLContext] = []
    create = ssl.create_default_context

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(create(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    install_shared_tls()
    install_shared_tls()  # a second call wraps nothing twice
    assert getattr(PrefectClient.__init__, "_siae_shared_tls", False)
    for _ in range(3):
        PrefectClient("http://127.0.0.1:9/api")
        SyncPrefectClient("http://127.0.0.1:9/api")
    assert len(built) == 1
    # A context given by the caller is kept: the client builds none.
    own = context_for(True, None)
    assert len(built) == 2
    SyncPrefectClient("http://127.0.0.1:9/api", httpx_settings={"verify": own})
    assert len(built) == 2


class _Answers(BaseHTTPRequestHandler):
    """A loopback server answering from a script of status codes, and keeping the bodies it received."""

    script: ClassVar[list[int]] = []
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.script.pop(0) if self.script else 201
        payload = json.dumps({"statut": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def answers() -> Iterator[tuple[str, type[_Answers]]]:
    handler = type("Answers", (_Answers,), {"script": [], "bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _client(url: str, pauses: tuple[float, ...]) -> httpx.Client:
    return httpx.Client(base_url=url, transport=RetryLockedWrites(httpx.HTTPTransport(), pauses))


def test_a_write_refused_with_503_is_sent_again_until_accepted(answers: tuple[str, type[_Answers]]) -> None:
    url, handler = answers
    handler.script = [503, 503]
    with _client(url, (0.001, 0.001, 0.001)) as client:
        response = client.post("/flow_runs", json={"nom": "projet-1-etape-2-tentative-1"})
    assert response.status_code == 201
    assert len(handler.bodies) == 3 and len(set(handler.bodies)) == 1


def test_the_retries_stop_after_their_pauses(answers: tuple[str, type[_Answers]]) -> None:
    url, handler = answers
    handler.script = [503] * 10
    with _client(url, (0.001, 0.001)) as client:
        assert client.post("/flow_runs", json={}).status_code == 503
    assert len(handler.bodies) == 3


def test_other_errors_are_not_sent_again(answers: tuple[str, type[_Answers]]) -> None:
    url, handler = answers
    handler.script = [500, 409]
    with _client(url, (0.001, 0.001)) as client:
        assert client.post("/flow_runs", json={}).status_code == 500
    assert len(handler.bodies) == 1
