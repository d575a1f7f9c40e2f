"""One way to mask a phone number, for pages, exports, API answers and log lines."""

from __future__ import annotations

import logging
import re

# A mainland mobile number standing alone (not part of a longer digit run, such as an id).
MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_phone(value: str | None) -> str:
    """138****5678: residents' and staff phone numbers are masked wherever listed."""
    text = (value or "").strip()
    if len(text) < 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_name(name: str | None) -> str:
    """张*, 王** : enough to address the resident, not enough to identify them."""
    text = (name or "").strip()
    if not text:
        return ""
    return text[0] + "*" * max(len(text) - 1, 1)


def mask_phones_in_text(text: str) -> str:
    """Every mobile number inside free text masked like ``mask_phone`` does."""
    return MOBILE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class PhoneMaskingFilter(logging.Filter):
    """Masks mobile numbers in a log record's message (its arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> None:
    if getattr(record, "_phones_masked", False):
        return
    record._phones_masked = True
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the handler to report
        return
    masked = mask_phones_in_text(message)
    if masked != message or record.args:
        record.msg, record.args = masked, None


_installed = False


def install_log_masking() -> None:
    """Mask phone numbers in every log record of the process, whatever handler writes it.

    A record factory, not a handler filter: it holds for handlers added later (JSON logs,
    gunicorn's) and for records of any logger.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        mask_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
