"""The token API for lenders' and the province's systems: each view reads, calls one service (the same as
the lender's pages), and answers with a model of app/api/bodies.py. Declared with `endpoint`, which does
the token, scope, rate limit, parsing, idempotency and errors (app/api/endpoint.py)."""
import hashlib
from datetime import UTC, date
from decimal import Decimal

from flask import g

from app.access import token_application_or_404, token_product_or_404
from app.api import bodies as b
from app.api.examples import EXAMPLES
from app.api.routes import bp
from app.common.money import wan_to_yuan, yuan_to_wan
from app.entities import Product
from app.extensions import db
from app.matching.tables import ProductTerms
from app.services import application_feed, applications, feedback, loans, market_figures, products, scores
from app.services.applications import Offer
from app.services.feedback import Row

from .endpoint import endpoint


def _wan(yuan):
    return None if yuan is None else float(yuan_to_wan(yuan))


def _naive_utc(moment):
    """A client's time as stored (naive UTC); a time without offset is taken as UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _utc(moment):
    return None if moment is None else moment.replace(tzinfo=UTC)


def application_out(application, updated_at=None):
    """An application as the API shows it (amounts in 万元, times in UTC)."""
    offer = None
    if application.approved_amount is not None:
        offer = b.Offer(amount_wan=_wan(application.approved_amount), rate=float(application.approved_rate),
                        apr=float(application.approved_apr) if application.approved_apr is not None else None,
                        term_months=application.approved_term_months, repayment=application.approved_repayment,
                        guarantee=application.approved_guarantee, valid_until=application.offer_valid_until)
    loan = application.loan
    return b.ApplicationOut(
        id=application.id, status=application.status, version=application.version,
        product_id=application.product_id, product_name=application.product.name,
        subject_id=application.subject_id, subject_name=application.subject.name,
        subject_kind=application.subject.kind, amount_wan=_wan(application.amount),
        term_months=application.term_months, submitted_at=_utc(application.created_at),
        updated_at=_utc(updated_at or application_feed.updated_at(db.session, application.id)),
        due_at=_utc(application.due_at), decided_at=_utc(application.decided_at),
        decision_reasons=application.decision_reasons, offer=offer,
        loan=b.LoanSummary(id=loan.id, reference=loan.reference, status=loan.status,
                           principal_wan=_wan(loan.principal), disbursed_on=loan.disbursed_on) if loan else None)


@endpoint(bp, "GET", "/applications", "applications:read", "融资申请列表 · List the institution's applications",
          query=b.ApplicationQuery, answer=b.ApplicationPage, examples=EXAMPLES["application_list"])
def application_list(query):
    """The institution's applications, oldest first, a page at a time."""
    page = application_feed.page_of(db.session, g.api_token.institution_id, query.status,
                                    _naive_utc(query.due_before), _naive_utc(query.updated_since), query.cursor,
                                    query.limit)
    return b.ApplicationPage(applications=[application_out(a, at) for a, at in page.rows],
                             next_cursor=page.next_cursor)


@endpoint(bp, "GET", "/applications/{application_id}", "applications:read", "单笔申请 · One application",
          answer=b.ApplicationOut, examples=EXAMPLES["application"])
def application_get(application_id):
    """One application of the institution."""
    return application_out(token_application_or_404(g.api_token, application_id))


def _reason(reason):
    return b.Reason(feature=reason["feature"], contribution=reason.get("contribution"), text=reason.get("zh", ""),
                    text_en=reason.get("en"))


def _evidence(item):
    return b.Evidence(feature=item["reason"]["feature"], tables=[
        b.EvidenceTable(source=table["source"].name, headers=table["headers"],
                        rows=[row["cells"] for row in table["rows"]]) for table in item["tables"]])


@endpoint(bp, "GET", "/applications/{application_id}/profile", "profiles:read",
          "申请人信用档案 · The applicant's credit profile (under consent, logged)", answer=b.Profile,
          examples=EXAMPLES["profile"])
def application_profile(application_id):
    """The applicant's score, grade, reasons and the records behind them, under the application's consent."""
    application = token_application_or_404(g.api_token, application_id)
    summary = scores.api_profile(db.session, application, g.api_token.user)
    subject, score, view = application.subject, summary.score, summary.view
    return b.Profile(
        application_id=application.id, subject_id=subject.id, subject_name=subject.name, subject_kind=subject.kind,
        town_code=subject.town_code, consent_id=summary.consent.id, consent_valid_to=_utc(summary.consent.valid_to),
        scored=score is not None, score=score.score if score else None, grade=score.grade if score else None,
        pd=score.pd if score else None, model_version=view.model_version if view else None,
        data_as_of=score.data_as_of if score else None,
        reasons=[_reason(r) for r in (score.reasons or [])] if score else [],
        records=[_evidence(item) for item in view.evidence] if view else [])


@endpoint(bp, "POST", "/applications/{application_id}/review", "decisions:write", "受理审核 · Start the review",
          body=b.StepIn, answer=b.ApplicationOut, examples=EXAMPLES["review"])
def application_review(step, application_id):
    """Take a submitted application (or one whose firm answered) into review."""
    application = token_application_or_404(g.api_token, application_id)
    applications.start_review(application, g.api_token.user, step.version)
    return application_out(application)


@endpoint(bp, "POST", "/applications/{application_id}/request-info", "decisions:write",
          "要求补充材料 · Ask the firm for information", body=b.InfoRequestIn, answer=b.ApplicationOut,
          examples=EXAMPLES["request_info"])
def application_request_info(step, application_id):
    """Ask the firm for more information (the question is required)."""
    application = token_application_or_404(g.api_token, application_id)
    applications.request_info(application, g.api_token.user, step.note, step.version)
    return application_out(application)


@endpoint(bp, "POST", "/applications/{application_id}/approve", "decisions:write",
          "批准并给出条件 · Approve with terms", body=b.ApproveIn, answer=b.ApplicationOut,
          examples=EXAMPLES["approve"])
def application_approve(step, application_id):
    """Approve with an offer inside the product's terms (compliance rules apply as on the page)."""
    application = token_application_or_404(g.api_token, application_id)
    offer = Offer(amount=wan_to_yuan(Decimal(str(step.amount_wan))), rate=Decimal(str(step.rate)),
                  term_months=step.term_months, repayment=step.repayment, guarantee=step.guarantee,
                  valid_until=step.valid_until, collateral=step.collateral or "")
    applications.approve(db.session, application, g.api_token.user, offer, step.note, step.version)
    return application_out(application)


@endpoint(bp, "POST", "/applications/{application_id}/decline", "decisions:write",
          "拒绝并说明原因 · Decline with coded reasons", body=b.DeclineIn, answer=b.ApplicationOut,
          examples=EXAMPLES["decline"])
def application_decline(step, application_id):
    """Decline with one to four principal reasons from the fixed list."""
    application = token_application_or_404(g.api_token, application_id)
    applications.decline(db.session, application, g.api_token.user, step.reasons, step.note, step.version)
    return application_out(application)


@endpoint(bp, "POST", "/loans/disbursements", "loans:write", "批量报送放款 · Record disbursements in bulk",
          body=b.DisbursementsIn, answer=b.BulkResult, examples=EXAMPLES["disbursements"])
def loan_disbursements(sent):
    """Record many disbursements; a refused row says why and leaves nothing, the others are written."""
    results = loans.disburse_many(db.session, [
        (row.application_id, wan_to_yuan(Decimal(str(row.amount_wan))), row.disbursed_on, row.reference, row.note)
        for row in sent.rows], g.api_token.user)
    rows = [b.RowResult(**result) for result in results]
    rejected = sum(1 for row in rows if row.error)
    return b.BulkResult(written=len(rows) - rejected, rejected=rejected, rows=rows)


@endpoint(bp, "POST", "/loans/repayments", "loans:write", "批量报送月度还款状态 · Monthly repayment status in bulk",
          body=b.RepaymentsIn, answer=b.RepaymentResult, examples=EXAMPLES["repayments"])
def loan_repayments(sent):
    """Many loans' monthly status, loaded as a 贷后反馈 file's rows are (same checks, per-row rejects)."""
    rows = [Row(line=index, reference=row.reference.strip(), month=date.fromisoformat(row.month + "-01"),
                days_past_due=row.days_past_due, outstanding=Decimal(str(row.outstanding_yuan)),
                declared=row.declared, note=row.note) for index, row in enumerate(sent.rows)]
    token = g.api_token
    record = feedback.load_rows(db.session, rows, token.institution, token.user, f"API 令牌 {token.prefix}",
                                hashlib.sha256(sent.model_dump_json().encode()).hexdigest())
    return b.RepaymentResult(upload_id=record.id, loaded=record.rows_loaded, unchanged=record.rows_unchanged,
                             rejected=record.rows_rejected,
                             rejects=[b.RepaymentReject(index=r["line"], reference=r["reference"], month=r["month"],
                                                        error=r["message"]) for r in record.rejects])


def _terms(sent):
    rules = sent.rules.model_dump(exclude_none=True)
    return ProductTerms(name=sent.name, description=sent.description,
                        amount_min=wan_to_yuan(Decimal(str(sent.amount_min_wan))),
                        amount_max=wan_to_yuan(Decimal(str(sent.amount_max_wan))), term_min=sent.term_min_months,
                        term_max=sent.term_max_months, rate_min=Decimal(str(sent.rate_min)),
                        rate_max=Decimal(str(sent.rate_max)), guarantee_types=tuple(sent.guarantee_types),
                        upfront_fee_pct=Decimal(str(sent.upfront_fee_pct)),
                        guarantee_fee_pct=Decimal(str(sent.guarantee_fee_pct)), repayment=sent.repayment, rules=rules)


def product_out(product: Product):
    """A product of the institution as the API shows it."""
    return b.ProductOut(id=product.id, name=product.name, status=product.status, version=product.version,
                        amount_min_wan=_wan(product.amount_min), amount_max_wan=_wan(product.amount_max),
                        term_min_months=product.term_min_months, term_max_months=product.term_max_months,
                        rate_min=float(product.rate_min), rate_max=float(product.rate_max),
                        guarantee_types=list(product.guarantee_types), repayment=product.repayment)


@endpoint(bp, "POST", "/products", "products:write", "发布产品 · Publish a product", body=b.ProductIn,
          answer=b.ProductOut, status=201, examples=EXAMPLES["product"])
def product_publish(sent):
    """Publish a product of the institution (version 1) and match it with the open needs."""
    token = g.api_token
    return product_out(products.publish_product(db.session, token.institution, token.user, _terms(sent)))


@endpoint(bp, "PUT", "/products/{product_id}", "products:write", "修改产品条款 · Update a product's terms",
          body=b.ProductIn, answer=b.ProductOut, examples=EXAMPLES["product"])
def product_update(sent, product_id):
    """New terms for a product: a new version (the same terms change nothing)."""
    product = token_product_or_404(g.api_token, product_id)
    return product_out(products.update_product(db.session, product, g.api_token.user, _terms(sent)))


@endpoint(bp, "POST", "/products/{product_id}/retire", "products:write", "下架产品 · Retire a product",
          answer=b.ProductOut, examples=EXAMPLES["retire"])
def product_retire(product_id):
    """Retire a published product: it stops matching; open applications go on."""
    product = token_product_or_404(g.api_token, product_id)
    products.retire_product(db.session, product, g.api_token.user)
    return product_out(product)


@endpoint(bp, "GET", "/market/figures", "market:read", "市场统计（监管） · The market's figures (regulator)",
          answer=b.MarketFigures, examples=EXAMPLES["market"])
def market(**_none):
    """The funnel, months and programme totals of the whole market, as the regulator's dashboard shows them."""
    board = market_figures.dashboard(db.session)
    return b.MarketFigures(funnel=[b.FunnelStage(stage=s, label=label, count=n, amount_wan=wan)
                                   for s, label, n, wan in board.funnel],
                           months=board.months, totals=board.totals)
