"""Phone numbers and e-mail addresses as people type them, and as the platform stores them."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l


class ContactError(ValueError):
    pass


def normalize_email(value: str) -> str:
    try:
        info = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ContactError(_l("Enter a valid e-mail address.")) from None
    return info.normalized.lower()


def normalize_phone(value: str) -> str:
    """E.164 form of a phone number; numbers without ``+`` are read in the configured region."""
    raw = value.strip()
    if not raw or len(raw) > 32:
        raise ContactError(_l("Enter a valid phone number."))
    try:
        number = phonenumbers.parse(raw, current_app.config["PHONE_REGION"])
    except phonenumbers.NumberParseException:
        raise ContactError(_l("Enter a valid phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ContactError(_l("Enter a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_contact(value: str) -> str:
    """A phone number or an e-mail address, whichever the person typed."""
    value = (value or "").strip()
    if not value:
        raise ContactError(_l("Enter a phone number or an e-mail address."))
    if "@" in value:
        return normalize_email(value)
    return normalize_phone(value)


def is_email(contact: str) -> bool:
    return "@" in contact
