"""The lender scoreboard (机构服务评价, docs/compliance.md): per institution, its response times against its
promise (app/services/response_clock.py), approval rate, the APR range of its offers, its decline reasons and
its applications overdue now; the regulator sees it all, firms a public summary next to each product.

Response times cover the decisions of the last RESPONSE_TIME_WINDOW_DAYS (as the response clock measures
them); approvals, APRs and decline reasons cover every decision on the platform.
"""
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.common import exports
from app.common.vocab import APPROVED_STATUSES, DECIDED_STATUSES, DECLINE_REASONS, INSTITUTION_KINDS
from app.entities import Application, Institution, Product
from app.entities.base import utcnow

from . import compliance_checks, response_clock


@dataclass
class Scorecard:
    """One institution's figures (None where there is nothing to measure yet)."""

    institution: Institution
    times: response_clock.ResponseTimes | None = None
    decided: int = 0
    approved: int = 0
    declined: int = 0
    offers: int = 0
    apr_min: float | None = None
    apr_max: float | None = None
    reasons: list = field(default_factory=list)  # (decline reason code, count), most frequent first

    @property
    def approval_rate(self):
        """Approved of decided."""
        return self.approved / self.decided if self.decided else None

    @property
    def overdue(self):
        """Applications undecided past their due time now."""
        return self.times.open_late if self.times else 0

    def reason_shares(self):
        """(code, share of the declines that gave it) for each reason given."""
        return [(code, count / self.declined) for code, count in self.reasons] if self.declined else []


def _decisions(session):
    """Institution id → (decided, approved, declined)."""
    rows = session.execute(select(
        Application.institution_id, func.count(Application.id),
        func.count(case((Application.status.in_(APPROVED_STATUSES), 1))),
        func.count(case((Application.status == "declined", 1))),
    ).where(Application.status.in_(DECIDED_STATUSES)).group_by(Application.institution_id))
    return {row[0]: tuple(row[1:]) for row in rows}


def _offer_aprs(session):
    """Institution id → the APRs of its offers (disclosed, or computed from the offer and the product's fees)."""
    offers = session.execute(
        select(Application.institution_id, Application.approved_rate, Application.approved_term_months,
               Application.approved_repayment, Application.approved_apr, Product.upfront_fee_pct,
               Product.guarantee_fee_pct)
        .join(Product, Application.product_id == Product.id)
        .where(Application.approved_rate.is_not(None), Application.status.in_(APPROVED_STATUSES))).all()
    found = {}
    for row, apr in zip(offers, compliance_checks.offer_aprs(offers), strict=True):
        found.setdefault(row.institution_id, []).append(float(apr))
    return found


def _reasons(session):
    """Institution id → Counter of the decline reasons it gave."""
    found = {}
    for institution_id, reasons in session.execute(select(Application.institution_id, Application.decision_reasons)
                                                   .where(Application.status == "declined")):
        found.setdefault(institution_id, Counter()).update(reasons if isinstance(reasons, list) else [])
    return found


def scoreboard(session, now=None):
    """Every institution's Scorecard, by name."""
    now = now or utcnow()
    times = response_clock.response_times(session, now=now)
    decisions, aprs, reasons = _decisions(session), _offer_aprs(session), _reasons(session)
    cards = []
    for institution in session.scalars(select(Institution).order_by(Institution.name)):
        decided, approved, declined = decisions.get(institution.id, (0, 0, 0))
        charged = aprs.get(institution.id, [])
        cards.append(Scorecard(
            institution=institution, times=times.get(institution.id), decided=decided, approved=approved,
            declined=declined, offers=len(charged), apr_min=min(charged) if charged else None,
            apr_max=max(charged) if charged else None,
            reasons=sorted(reasons.get(institution.id, Counter()).items(), key=lambda item: (-item[1], item[0]))))
    return cards


@dataclass(frozen=True)
class PublicSummary:
    """What a firm sees of an institution when choosing a product."""

    median_days: float | None
    on_time_share: float | None
    approval_rate: float | None
    decided: int


def public_summaries(session, now=None):
    """Institution id → PublicSummary, for institutions with a decision or a late application."""
    times = response_clock.response_times(session, now=now or utcnow())
    decisions = _decisions(session)
    summaries = {}
    for institution_id in times.keys() | decisions.keys():
        measured = times.get(institution_id)
        decided, approved, _declined = decisions.get(institution_id, (0, 0, 0))
        summaries[institution_id] = PublicSummary(
            median_days=measured.median if measured else None,
            on_time_share=measured.on_time_share if measured else None,
            approval_rate=approved / decided if decided else None, decided=decided)
    return summaries


def _share(value):
    return "" if value is None else f"{value * 100:.1f}"


def _number(value, digits=2):
    return "" if value is None else f"{value:.{digits}f}"


def to_csv(cards):
    """The scoreboard as CSV text (UTF-8 with BOM for Excel), one row per institution, written by the one safe
    writer (app/common/exports.py)."""
    header = [_("机构"), _("类型"), _("承诺时限（工作日）"), _("近期办结"), _("用时中位数（工作日）"),
              _("90%分位（工作日）"), _("按时办结率（%）"), _("当前超时未办"), _("已决策"), _("批准"),
              _("批准率（%）"), _("批复笔数"), _("最低年化综合融资成本（%）"), _("最高年化综合融资成本（%）"),
              _("拒绝原因构成")]
    rows = []
    for card in cards:
        times = card.times
        rows.append([
            card.institution.name, str(INSTITUTION_KINDS.label(card.institution.kind)),
            card.institution.response_limit_days, times.decided if times else 0,
            _number(times.median if times else None, 1), "" if not times or times.p90 is None else times.p90,
            _share(times.on_time_share if times else None), card.overdue, card.decided, card.approved,
            _share(card.approval_rate), card.offers, _number(card.apr_min), _number(card.apr_max),
            "；".join(f"{DECLINE_REASONS.label(code)} {count}" for code, count in card.reasons)])
    return exports.csv_text(header, rows)
