"""Email over SMTP (the engine's ``email`` service, as gomail sends it).

    service.email.gmail: |
      host: smtp.gmail.com
      port: 465                  # 465: implicit TLS; otherwise STARTTLS when the server offers it
      from: $email-username
      username: $email-username
      password: $email-password
      html: false                # insecure_skip_verify: false

The recipient is a comma-separated list of addresses. Subject from the template's ``email.subject``; body
from ``email.body``, else the message. smtplib is blocking, so a send runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from rollouts.notifications.services.base import DEFAULT_TIMEOUT, ConfigError, SendError, option
from rollouts.notifications.subscriptions import Destination
from rollouts.notifications.templates import Notification


@dataclass(frozen=True)
class EmailService:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    html: bool = False
    insecure: bool = False

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> EmailService:
        host = option(options, "host", str, "", name)
        if not host:
            raise ConfigError(f"service {name}: host is required")
        return cls(host=host, port=option(options, "port", int, 25, name),
                   sender=option(options, "from", str, "", name),
                   username=option(options, "username", str, "", name),
                   password=option(options, "password", str, "", name), html=bool(options.get("html")),
                   insecure=bool(options.get("insecure_skip_verify")))

    def message(self, n: Notification, recipient: str) -> EmailMessage:
        to = [a.strip() for a in recipient.split(",") if a.strip()]
        if not to:
            raise SendError("Missing to", retryable=False)
        email = n.email or {}
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = email.get("subject") or ""
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="rollouts")
        msg.set_content(email.get("body") or n.message, subtype="html" if self.html else "plain", charset="utf-8",
                        cte="quoted-printable")
        return msg

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _send_blocking(self, msg: EmailMessage) -> None:
        smtp: smtplib.SMTP
        if self.port == 465:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=DEFAULT_TIMEOUT, context=self._tls())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=DEFAULT_TIMEOUT)
        with smtp:
            smtp.ehlo()
            if self.port != 465 and smtp.has_extn("starttls"):
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)

    async def send(self, notification: Notification, dest: Destination) -> None:
        msg = self.message(notification, dest.recipient)
        try:
            await asyncio.to_thread(self._send_blocking, msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"smtp {self.host}:{self.port}: recipients refused: {exc.recipients}",
                            retryable=False) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"smtp {self.host}:{self.port}: authentication failed: {exc.smtp_code}",
                            retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"smtp {self.host}:{self.port}: {exc}") from None
