"""Shared column helpers for the ORM entities."""
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Numeric
from sqlalchemy.orm import Mapped, mapped_column

# Money is kept in 元 with cents; 16 digits reach 万亿元.
Money = Numeric(16, 2, asdecimal=True)


def utcnow():
    """Current UTC time, naive, as stored in every timestamp column (shown in local time)."""
    return datetime.now(UTC).replace(tzinfo=None)


def money(value) -> Decimal:
    """Round a number of 元 to cents."""
    return Decimal(value).quantize(Decimal("0.01"))


class Timestamped:
    """Adds `created_at`, filled when the row is inserted."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
