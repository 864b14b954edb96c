"""Where an administrative penalty stands in its publicity, and whether it may still be used.

国家发展改革委《信用修复管理办法》 (in force 2026-04-01): a penalty is published for a period set by its
severity; once the period ends, or once the penalty is repaired (信用修复), it stops being published,
shared and used — in scores, in matching and on pages — from that day. The periods are settings
(PENALTY_PUBLICITY_MONTHS); this module is the one place that applies them.
"""
from dataclasses import dataclass
from datetime import date

from app.common.dates import add_months


def _day(value):
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class PublicityRules:
    """The publicity periods by severity ({severity: {"min": months, "max": months}}) as of `today`."""

    months: dict
    today: date

    def end(self, payload):
        """The last day the penalty is published: the department's date capped at the longest period of
        its severity, or the default period when the department gave none; None when never published."""
        decided = _day(payload.get("decided_on"))
        period = self.months.get(payload.get("severity"), {})
        given = _day(payload.get("publicity_until"))
        if decided is None:
            return None
        if given is None:
            return add_months(decided, period["default"]) if period.get("default") else None
        return min(given, add_months(decided, period.get("max", 0)))

    def state(self, payload):
        """repaired, unpublished (never published), expired or published."""
        if payload.get("repaired"):
            return "repaired"
        end = self.end(payload)
        if end is None:
            return "unpublished"
        return "expired" if end < self.today else "published"

    def in_force(self, payload):
        """True while the penalty is published: only then is it shared and used."""
        return self.state(payload) == "published"

    def repairable_from(self, payload):
        """The first day repair may be asked (after the shortest publicity of its severity)."""
        decided = _day(payload.get("decided_on"))
        shortest = self.months.get(payload.get("severity"), {}).get("min", 0)
        return None if decided is None else add_months(decided, shortest)

    def used(self, payloads):
        """The penalties in force, each with its publicity end as the department's `publicity_until`
        (what the features read): withdrawn ones are left out as if never received."""
        return [{**p, "publicity_until": self.end(p).isoformat()} for p in payloads if self.in_force(p)]
