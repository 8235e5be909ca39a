"""The few calls of the Prefect REST API that the demo, the tests and the benchmark make, as a person would.

Resuming goes through ``POST /api/flow_runs/{id}/resume``, the very call of the UI's Resume button.
"""

import time
from typing import Any

import httpx

from implantation.keys import stage_attempt_key

WAITING = {"PAUSED"}
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class PrefectApiError(RuntimeError):
    """Unexpected answer of the Prefect API; French message."""


class PrefectApi:
    def __init__(self, api_url: str, timeout: float = 60, headers: dict[str, str] | None = None) -> None:
        """``headers``: the basic-auth header of a closed API (``flows.harness.local.auth_headers``)."""
        self.api_url = api_url.rstrip("/")
        self.http = httpx.Client(base_url=self.api_url, timeout=timeout, headers=headers)

    def close(self) -> None:
        self.http.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise PrefectApiError(
                f"API Prefect {response.request.method} {response.request.url.path} : "
                f"HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None

    def _send(self, method: str, path: str, body: dict[str, Any] | None, read_only: bool) -> httpx.Response:
        """A read that times out is simply asked again (the SQLite backend sometimes stalls for a while
        under concurrent writes); a write is never sent twice blindly."""
        for attempt in range(3 if read_only else 1):
            try:
                return self.http.request(method, path, json=body if method == "POST" else None)
            except httpx.TimeoutException:
                if attempt == 2 or not read_only:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, body: dict[str, Any] | None = None, attempts: int = 20) -> Any:
        """POST, made again on HTTP 503: with the SQLite backend a write that meets another one fails with
        « database is locked » and nothing is changed, so the call is simply repeated."""
        read_only = path.endswith("/filter")
        response = self._send("POST", path, body or {}, read_only)
        for _ in range(attempts - 1):
            if response.status_code != 503:
                break
            time.sleep(0.5)
            response = self._send("POST", path, body or {}, read_only)
        return self._json(response)

    def get(self, path: str) -> Any:
        return self._json(self._send("GET", path, None, read_only=True))

    def deployment_id(self, name: str) -> str:
        return str(self.get(f"/deployments/name/{name}")["id"])

    def run_deployment(self, name: str, parameters: dict[str, Any]) -> str:
        run = self.post(
            f"/deployments/{self.deployment_id(name)}/create_flow_run", {"parameters": parameters}
        )
        return str(run["id"])

    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/flow_runs/{flow_run_id}"))

    def flow_runs(self, name_like: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"limit": limit, "sort": "EXPECTED_START_TIME_ASC"}
        if name_like:
            body["flow_runs"] = {"name": {"like_": name_like}}
        return list(self.post("/flow_runs/filter", body))

    def state(self, flow_run_id: str) -> tuple[str, str]:
        state = self.flow_run(flow_run_id)["state"] or {}
        return state.get("type", ""), state.get("name", "")

    def wait_state(self, flow_run_id: str, types: set[str], timeout: float = 120, poll: float = 0.5) -> str:
        deadline = time.monotonic() + timeout
        kind = ""
        while time.monotonic() < deadline:
            kind, _name = self.state(flow_run_id)
            if kind in types:
                return kind
            if kind in FINAL and kind not in types:
                raise PrefectApiError(f"Le run {flow_run_id} s'est terminé dans l'état {kind}.")
            time.sleep(poll)
        raise PrefectApiError(
            f"Le run {flow_run_id} n'a pas atteint {sorted(types)} en {timeout:.0f} s (état {kind})."
        )

    def stage_run(
        self, projet_id: int, etape: int, tentative: int = 1, timeout: float = 60, poll: float = 0.5
    ) -> str:
        """The run of that stage attempt, once the previous stage has created it."""
        name = stage_attempt_key(projet_id, etape, tentative)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = [r for r in self.flow_runs(name) if r["name"] == name]
            if runs:
                return str(runs[0]["id"])
            time.sleep(poll)
        raise PrefectApiError(f"Aucun run « {name} » après {timeout:.0f} s.")

    def wait_paused(
        self, flow_run_id: str, previous_key: str | None = None, timeout: float = 120, poll: float = 0.5
    ) -> dict[str, Any]:
        """Wait until the run waits at a gate other than ``previous_key``; returns its state details."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.wait_state(flow_run_id, WAITING, timeout=max(1.0, deadline - time.monotonic()), poll=poll)
            details = self.flow_run(flow_run_id)["state"]["state_details"]
            if details.get("pause_key") != previous_key:
                return dict(details)
            time.sleep(min(poll, 0.2))
        raise PrefectApiError(f"Le run {flow_run_id} attend toujours la même saisie ({previous_key}).")

    def gate_input(self, flow_run_id: str, details: dict[str, Any], part: str, timeout: float = 60) -> Any:
        """A part of the gate's form (``schema``, ``description``), None when the gate has none. Prefect's
        ``suspend_flow_run`` stores the form only after the run reads PAUSED, so a 404 right after the
        pause is waited out."""
        keyset = details.get("run_input_keyset") or {}
        key = keyset.get(part)
        if not key:
            return None
        deadline = time.monotonic() + timeout
        while True:
            response = self._send("GET", f"/flow_runs/{flow_run_id}/input/{key}", None, read_only=True)
            if response.status_code != 404 or time.monotonic() > deadline:
                return self._json(response)
            time.sleep(0.2)

    def gate_description(self, flow_run_id: str, details: dict[str, Any], timeout: float = 60) -> str:
        """The markdown above the gate's form."""
        value = self.gate_input(flow_run_id, details, "description", timeout)
        return str(value) if value is not None else ""

    def resume(self, flow_run_id: str, run_input: dict[str, Any], timeout: float = 90) -> dict[str, Any]:
        """Resume with the form's answer; ``status`` is ACCEPT, or REJECT when the schema refuses it.

        Right after a run suspends, its state may already read PAUSED while the form's schema is not yet
        stored, or a locked SQLite server may not have stored the state: the server then answers ABORT or
        « Run input schema not found ». Those are retried; a refusal of the answer itself is returned.
        The wait outlasts several of the SQLite server's lock waits (5 s each, see
        :mod:`flows.runtime.server`), each of which can delay the schema.
        """
        deadline = time.monotonic() + timeout
        while True:
            response = dict(self.post(f"/flow_runs/{flow_run_id}/resume", {"run_input": run_input}))
            reason = str((response.get("details") or {}).get("reason", ""))
            transient = response.get("status") == "ABORT" or "schema not found" in reason
            if not transient or time.monotonic() > deadline:
                return response
            time.sleep(0.5)

    def logs(self, flow_run_ids: list[str] | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            body: dict[str, Any] = {"limit": 200, "offset": offset}
            if flow_run_ids:
                body["logs"] = {"flow_run_id": {"any_": flow_run_ids}}
            page = list(self.post("/logs/filter", body))
            out += page
            if len(page) < 200:
                return out
            offset += 200

    def artifacts(self) -> list[dict[str, Any]]:
        return list(self.post("/artifacts/filter", {"limit": 200}))

    def events(self, prefix: str = "siae.") -> list[dict[str, Any]]:
        page = self.post("/events/filter", {"filter": {"event": {"prefix": [prefix]}}, "limit": 50})
        events = list(page.get("events", []))
        next_page = page.get("next_page")
        while next_page:
            page = self._json(self.http.get(next_page))
            events += page.get("events", [])
            next_page = page.get("next_page")
        return events

    def task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        return list(
            self.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200})
        )
