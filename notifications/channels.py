"""Delivery channels: e-mail with aiosmtplib (one connection per batch, STARTTLS or SSL) and chat tools
through apprise URLs (WeCom, DingTalk, Feishu/Lark, Slack, Teams …). A bad setting fails at start-up."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

import aiosmtplib

from casebook.core.errors import InvalidInput, Problem
from casebook.core.settings import Settings
from notifications.render import Message


class SendError(str):
    """Why a message was not accepted; ``permanent`` when sending it again cannot succeed (a 5xx refusal,
    a message that cannot be built), so delivery dead-letters it at once instead of retrying."""

    permanent: bool = False

    @classmethod
    def of(cls, text: str, *, permanent: bool) -> "SendError":
        error = cls(text)
        error.permanent = permanent
        return error


def _refusal(exc: aiosmtplib.SMTPException) -> SendError:
    """An SMTP exception as a send error: a 5xx reply (for every recipient) is permanent, anything else is not."""
    codes = [getattr(exc, "code", None)] + [getattr(r, "code", None) for r in getattr(exc, "recipients", [])]
    permanent = any(isinstance(c, int) and 500 <= c < 600 for c in codes)
    return SendError.of(f"SMTP refused: {exc}", permanent=permanent)


@dataclass(frozen=True)
class Envelope:
    key: str
    to: str
    message: Message


def message_id(key: str) -> str:
    """A stable Message-ID per outbox key, so any duplicate would be visible to the receiving side."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@casebook>"


def build_email(settings: Settings, env: Envelope) -> bytes:
    """multipart/alternative with a text and an HTML part (the compat32 classes: several times cheaper to
    build than ``EmailMessage`` with the modern header registry, which dominated batch delivery time)."""
    msg = MIMEMultipart("alternative")
    msg["From"] = settings.mail_from
    msg["To"] = env.to
    msg["Subject"] = Header(env.message.subject, "utf-8")
    msg["Message-ID"] = message_id(env.key)
    msg["Date"] = formatdate(localtime=True)
    msg["X-Casebook-Key"] = env.key
    msg.attach(MIMEText(env.message.text, "plain", "utf-8"))
    msg.attach(MIMEText(env.message.html, "html", "utf-8"))
    return msg.as_bytes()


def send_email_batch(settings: Settings, envelopes: list[Envelope],
                     on_result: Callable[[int, str | None], None]) -> None:
    """Send over one SMTP connection; ``on_result(i, error)`` runs after each message (None = accepted)."""
    asyncio.run(_send_all(settings, envelopes, on_result))


async def _send_all(settings: Settings, envelopes: list[Envelope],
                    on_result: Callable[[int, str | None], None]) -> None:
    if not envelopes:
        return
    smtp = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout,
                           use_tls=settings.smtp_tls == "ssl", start_tls=settings.smtp_tls == "starttls",
                           tls_context=ssl.create_default_context() if settings.smtp_tls != "none" else None)
    try:
        await smtp.connect()
        if settings.smtp_user:
            await smtp.login(settings.smtp_user, settings.smtp_password or "")
    except (aiosmtplib.SMTPException, OSError) as exc:
        for i in range(len(envelopes)):
            on_result(i, f"SMTP connection failed: {exc}")
        return
    try:
        for i, env in enumerate(envelopes):
            try:
                data = build_email(settings, env)
            except (ValueError, TypeError, UnicodeError) as exc:  # e.g. a line break in an address
                on_result(i, SendError.of(f"message cannot be built: {exc}", permanent=True))
                continue
            try:
                await smtp.sendmail(settings.mail_from, [env.to], data)
                on_result(i, None)
            except aiosmtplib.SMTPServerDisconnected as exc:
                for j in range(i, len(envelopes)):
                    on_result(j, f"SMTP server disconnected: {exc}")
                return
            except aiosmtplib.SMTPException as exc:
                on_result(i, _refusal(exc))
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except aiosmtplib.SMTPException:
                smtp.close()


def send_chat(url: str, message: Message) -> str | None:
    """Post to one apprise URL; returns an error text or None."""
    import apprise

    app = apprise.Apprise()
    if not app.add(url):
        return SendError.of(f"not a valid apprise URL: {url.split('://')[0]}://…", permanent=True)
    try:
        sent = app.notify(title=message.subject, body=message.text)
    except Exception as exc:  # noqa: BLE001 - a plugin's failure is this message's failure, not the batch's
        return f"the chat service failed: {type(exc).__name__}: {exc}"
    return None if sent else "the chat service refused the message"


def check_channels(settings: Settings, chat_urls: list[tuple[str, str]] = ()) -> None:
    """Start-up check: every configured setting must be usable; raise listing each bad one."""
    import apprise

    problems: list[Problem] = []
    if not settings.smtp_host:
        problems.append(Problem.of("CASEBOOK_SMTP_HOST", "err_smtp_host"))
    if not 0 < settings.smtp_port < 65536:
        problems.append(Problem.of("CASEBOOK_SMTP_PORT", "err_tcp_port"))
    if "@" not in settings.mail_from:
        problems.append(Problem.of("CASEBOOK_MAIL_FROM", "err_email"))
    if settings.smtp_user and not settings.smtp_password:
        problems.append(Problem.of("CASEBOOK_SMTP_PASSWORD", "err_smtp_password"))
    urls = [(f"CASEBOOK_CHAT_GROUPS.{role}", url) for role, url in settings.chat_groups.items()] + list(chat_urls)
    for where, url in urls:
        if not apprise.Apprise().add(url):
            problems.append(Problem.of(where, "err_apprise_url"))
    if problems:
        raise InvalidInput(problems, "channel settings")
