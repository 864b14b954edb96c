"""The platform's clock: now in UTC (naive, as every timestamp column stores it).

Everything that stamps a time asks this clock, so that a replay of the past (the market simulation,
`flask market simulate`) can run the platform's own services at a moment of its choosing with
`frozen(at)`: every default timestamp, audit entry, consent window and "today" then reads that
moment. Outside such a block it is the wall clock. The setting is per context (thread), so a
replay never moves another request's clock.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen_at = ContextVar("frozen_at", default=None)


def utcnow():
    """Now in UTC, naive: the moment set by `frozen`, else the wall clock."""
    return _frozen_at.get() or datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def frozen(at):
    """Within the block, the clock reads `at` (a naive UTC datetime)."""
    token = _frozen_at.set(at)
    try:
        yield at
    finally:
        _frozen_at.reset(token)
