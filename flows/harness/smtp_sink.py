"""A loopback SMTP server that keeps what it receives: the demo's and the tests' mailbox."""

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from flows.harness.local import free_port


@dataclass
class _Handler:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname=host, port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self._handler.messages)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self._handler.messages]

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
