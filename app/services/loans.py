"""Loans (放款) and their monthly status (贷后反馈).

The officer records the disbursement of an accepted offer (the need closes, its other applications
are told) and then each month's days past due and balance, from which the loan's status follows:
repaying, overdue (in days-past-due bands), repaid, or, when the officer declares it, defaulted or
written off. The loan's application moves with it, through the application's one transition table.
"""
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.common.dates import add_months, local_date, month_of
from app.common.errors import InvalidInput, NotAllowed
from app.common.money import format_wan
from app.common.vocab import DECLARED_OUTCOMES, LOAN_STATUSES
from app.entities import Application, Loan, RepaymentOutcome
from app.entities.base import utcnow

from . import applications, audit, matches
from .applications import TRANSITIONS
from .submissions import insert_once

# The longest loan account reference a lender may give.
MAX_REFERENCE = 64
# Days past due beyond ten years are typing errors.
MAX_DAYS_PAST_DUE = 3650
# A loan that is repaid or written off takes no more monthly reports.
CLOSED_LOAN_STATUSES = LOAN_STATUSES.subset("repaid", "written_off")


def _checked_disbursement(session, application, amount_yuan, disbursed_on, reference, today):
    """The stripped reference, once the amount, date and reference pass (field names as `disburse`'s)."""
    if amount_yuan is None or application.approved_amount is None or not (
            0 < amount_yuan <= application.approved_amount):
        raise InvalidInput(_("放款金额应大于 0 且不超过批准金额。"), "amount")
    decided_on = local_date(application.decided_at) if application.decided_at else today
    if disbursed_on is None or not (decided_on <= disbursed_on <= today):
        raise InvalidInput(_("放款日期应在批准日（%(d)s）与今天之间。", d=decided_on.isoformat()), "disbursed_on")
    reference = (reference or "").strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise InvalidInput(_("请填写贷款账号（不超过 %(n)d 个字符）。", n=MAX_REFERENCE), "reference")
    taken = select(Loan.id).where(Loan.institution_id == application.institution_id, Loan.reference == reference)
    if session.scalar(taken) is not None:
        raise InvalidInput(_("该贷款账号已在本机构使用。"), "reference")
    return reference


def disburse(session, application, officer, amount_yuan, disbursed_on, reference, note=None,
             seen_version=None, now=None):
    """Record the disbursement of an accepted offer: the loan, the application's step, and the need
    closing with its other pending applications told. Returns the loan."""
    applications.check_officer(application, officer)
    applications.check_move(application, "disbursed", seen_version)
    reference = _checked_disbursement(session, application, amount_yuan, disbursed_on, reference, local_date(now))
    note = applications.clean_note(note)
    applications.advance(application, "disbursed", officer, note, seen_version=seen_version, now=now)
    # Offers approved before offers had terms lend over the term applied for, the product's way.
    term = application.approved_term_months or application.term_months
    loan = Loan(application=application, subject_id=application.subject_id,
                institution_id=application.institution_id, reference=reference, principal=amount_yuan,
                annual_rate=application.approved_rate, term_months=term,
                repayment=application.approved_repayment or application.product.repayment,
                disbursed_on=disbursed_on, maturity_on=add_months(disbursed_on, term), status="disbursed",
                recorded_by_id=officer.id, created_at=now or utcnow())
    insert_once(session, loan, _("该贷款账号已在本机构使用。"))
    applications.close_need(session, application, now)
    matches.rematch_need(session, application.need)
    audit.record(session, officer, "loan.disburse", loan, application=application.id,
                 amount=format_wan(amount_yuan), reference=reference)
    return loan


def disburse_many(session, items, officer, now=None):
    """Record many disbursements (each an (application id, amount in 元, date, loan account, note)) of the
    officer's institution, each in a savepoint of its own: a refused one leaves nothing and says why, the
    others are written. Returns per item {"index", "application_id", "loan_id"} or {…, "error"}."""
    results = []
    for index, (application_id, amount_yuan, disbursed_on, reference, note) in enumerate(items):
        application = session.get(Application, application_id)
        result = {"index": index, "application_id": application_id}
        if application is None or application.institution_id != officer.institution_id:
            results.append({**result, "error": _("本机构没有编号为 %(n)s 的申请。", n=application_id)})
            continue
        try:
            with session.begin_nested():
                loan = disburse(session, application, officer, amount_yuan, disbursed_on, reference, note, now=now)
        except (InvalidInput, NotAllowed) as error:
            session.refresh(application)
            results.append({**result, "error": error.message})
        else:
            results.append({**result, "loan_id": loan.id})
    return results


def outcome_of(days_past_due, outstanding_yuan, declared=None):
    """What a month's figures say: the declared outcome, else repaid (nothing outstanding),
    overdue (days past due) or repaying."""
    if declared:
        return declared
    if outstanding_yuan == 0:
        return "repaid"
    return "overdue" if days_past_due > 0 else "repaying"


def _checked_month(loan, month, days_past_due, outstanding_yuan, declared, today):
    """The month's first day, once the figures pass (field names as `record_month`'s)."""
    if month is None:
        raise InvalidInput(_("请选择报送月份。"), "month")
    month = month_of(month)
    latest = loan.outcomes[-1].month if loan.outcomes else None
    if month < month_of(loan.disbursed_on) or month > month_of(today):
        raise InvalidInput(_("报送月份应在放款月份（%(d)s）与本月之间。", d=loan.disbursed_on.strftime("%Y-%m")),
                           "month")
    if latest is not None and month <= latest:
        raise InvalidInput(_("%(m)s 及以前的月份已报送，请报送之后的月份。", m=latest.strftime("%Y-%m")), "month")
    if days_past_due is None or not (0 <= days_past_due <= MAX_DAYS_PAST_DUE):
        raise InvalidInput(_("逾期天数应在 0 到 %(n)d 之间。", n=MAX_DAYS_PAST_DUE), "days_past_due")
    if outstanding_yuan is None or not (0 <= outstanding_yuan <= loan.principal):
        raise InvalidInput(_("贷款余额应在 0 与放款金额之间。"), "outstanding")
    if declared and declared not in DECLARED_OUTCOMES:
        raise InvalidInput(_("请选择违约或核销，或不选。"), "declared")
    if outstanding_yuan == 0 and (declared or days_past_due):
        raise InvalidInput(_("余额为 0 的贷款已结清：逾期天数应为 0，也不能认定违约或核销。"), "outstanding")
    return month


def loan_of(application):
    """The application's loan; NotAllowed before its disbursement."""
    if application.loan is None:
        raise NotAllowed(_("该申请尚未放款。"))
    return application.loan


def record_month(session, loan, officer, month, days_past_due, outstanding_yuan, declared=None, note=None,
                 seen_version=None, now=None, upload=None):
    """Record a month's status of a loan (days past due, balance in 元, an optional declared default
    or write-off); the loan and its application move to what it says. `upload` is the 贷后反馈 file
    the report comes from (None: the loan's page). Returns the report."""
    if officer.institution_id != loan.institution_id:
        raise NotAllowed(_("只能办理本机构的申请。"))
    if loan.status in CLOSED_LOAN_STATUSES:
        raise NotAllowed(_("该贷款状态为“%(s)s”，不再报送月度状态。", s=LOAN_STATUSES.label(loan.status)))
    month = _checked_month(loan, month, days_past_due, outstanding_yuan, declared, local_date(now))
    note = applications.clean_note(note)
    outcome = outcome_of(days_past_due, outstanding_yuan, declared or None)
    _move_loan(loan, outcome, officer, " · ".join(filter(None, (month.strftime("%Y-%m"), note))),
               seen_version, now)
    report = RepaymentOutcome(loan=loan, month=month, outcome=outcome, days_past_due=days_past_due,
                              amount_outstanding=Decimal(outstanding_yuan), reported_at=now or utcnow(),
                              reported_by_id=officer.id, note=note, upload=upload)
    insert_once(session, report, _("该月份已报送。"))
    audit.record(session, officer, "loan.report", loan, month=month.strftime("%Y-%m"), outcome=outcome,
                 days_past_due=days_past_due, **({"upload": upload.id} if upload is not None else {}))
    return report


def _move_loan(loan, outcome, officer, event_note, seen_version, now):
    """The loan's status becomes `outcome`; its application moves (or is claimed) along."""
    application = loan.application
    if outcome == loan.status:
        if application is not None:
            applications.hold(application, seen_version)
        return
    if application is not None:
        applications.advance(application, outcome, officer, event_note, seen_version=seen_version, now=now)
    elif outcome not in TRANSITIONS.get(loan.status, set()):
        raise NotAllowed(_("当前状态“%(s)s”下不能执行该操作。", s=LOAN_STATUSES.label(loan.status)))
    loan.status = outcome


def loans_of_subject(session, subject_id):
    """A subject's loans with their monthly reports, newest first."""
    return session.scalars(select(Loan).where(Loan.subject_id == subject_id)
                           .options(selectinload(Loan.outcomes), selectinload(Loan.institution))
                           .order_by(Loan.disbursed_on.desc(), Loan.id.desc())).all()
