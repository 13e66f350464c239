"""Checks of values that come from outside, shared by URLs, forms and Socket.IO payloads."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

#: Largest id an integer column holds on every database the platform runs on (PostgreSQL: 32 bits).
DB_INT_MAX = 2**31 - 1


def is_database_id(value) -> bool:
    """``value`` can be a row's id: a whole number from 1 to :data:`DB_INT_MAX`, not a bool.

    A larger number must be refused before it reaches a query: the database driver raises
    ``OverflowError`` (SQLite) or a data error (PostgreSQL) instead of finding nothing.
    """
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= DB_INT_MAX


class DatabaseId:
    """WTForms validator of a field holding a row's id (see :func:`is_database_id`)."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if field.data is not None and not is_database_id(field.data):
            raise ValidationError(self.message or _l("Choose an entry from the list."))
