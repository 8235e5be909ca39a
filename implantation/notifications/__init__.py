"""E-mails of the implantation process: rendering, recipients and idempotent sending.

Pure domain code: the Prefect tasks wrap these functions, never the other way round.
"""

from implantation.notifications.mailer import (
    Attachment,
    MailError,
    MailKind,
    NotificationConflict,
    render_mail,
    send_once,
)

__all__ = ["Attachment", "MailError", "MailKind", "NotificationConflict", "render_mail", "send_once"]
