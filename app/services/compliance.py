"""Compliance rules as configuration (docs/compliance.md): each rule's mode and parameters, the refusals at
the actions a rule guards (publishing a product, making an offer), the flags, and their acknowledgement.

The rules live in the COMPLIANCE_RULES setting, keyed by the codes of COMPLIANCE_RULES in the vocabulary;
the search for what slipped through is app/services/compliance_checks.py.
"""
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.common.dates import local_time_text
from app.common.errors import InvalidInput, NotAllowed
from app.common.language import english
from app.common.vocab import (
    COMPLIANCE_MODES,
    COMPLIANCE_RULES,
    CONSENT_STATUSES,
    DECLINE_REASONS,
    INSTITUTION_KINDS,
    LICENCE_STATUSES,
)
from app.entities import ComplianceFlag, Institution
from app.entities.base import utcnow
from app.matching.apr import annualised_rate, method_index

from . import audit

# Rules that guard an action and so may refuse it; the others can only flag.
REFUSING_RULES = ("apr_cap", "licence_suspended")
MAX_NOTE = 500
PAGE_SIZE = 50


@dataclass(frozen=True)
class Rule:
    """A configured rule: its code, mode and parameters."""

    code: str
    mode: str
    params: dict = field(default_factory=dict)

    @property
    def refuses(self):
        """Whether the guarded action is refused."""
        return self.mode == "refuse"

    @property
    def active(self):
        """Whether the rule does anything."""
        return self.mode != "off"


def rules():
    """Code → Rule of every rule, as configured (a rule left out of the setting is off).

    ValueError names an unknown rule, an unknown mode, or "refuse" for a rule that guards no action.
    """
    configured = current_app.config["COMPLIANCE_RULES"]
    unknown = set(configured) - set(COMPLIANCE_RULES)
    if unknown:
        raise ValueError(f"COMPLIANCE_RULES: unknown rule {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(COMPLIANCE_RULES)}")
    found = {}
    for code in COMPLIANCE_RULES:
        params = dict(configured.get(code, {"mode": "off"}))
        mode = params.pop("mode", "flag")
        if mode not in COMPLIANCE_MODES:
            raise ValueError(f"COMPLIANCE_RULES[{code!r}]: mode {mode!r} is not one of {', '.join(COMPLIANCE_MODES)}")
        if mode == "refuse" and code not in REFUSING_RULES:
            raise ValueError(f"COMPLIANCE_RULES[{code!r}]: only {', '.join(REFUSING_RULES)} guard an action to refuse")
        found[code] = Rule(code, mode, params)
    return found


def rule(code):
    """The configured rule `code`."""
    return rules()[code]


@dataclass(frozen=True)
class Cap:
    """An APR cap in %, and what it is: a fixed ceiling, or a multiple of the one-year LPR of a day."""

    pct: float
    lpr_multiple: float | None = None
    lpr_pct: float | None = None
    lpr_date: str | None = None

    def basis(self):
        """Where the cap comes from, in the user's language."""
        if self.lpr_multiple is None:
            return _("监管设定的上限")
        return _("一年期 LPR %(lpr)s%%（%(day)s）的 %(k)s 倍", lpr=f"{self.lpr_pct:g}", day=self.lpr_date,
                 k=f"{self.lpr_multiple:g}")


def lpr():
    """(one-year LPR in %, the day it was announced, its source) as configured."""
    config = current_app.config
    date.fromisoformat(config["ONE_YEAR_LPR_DATE"])  # a mistyped day fails here, not in a sentence
    source = config.get("ONE_YEAR_LPR_SOURCE_EN") if english() else None
    return float(config["ONE_YEAR_LPR_PCT"]), config["ONE_YEAR_LPR_DATE"], source or config["ONE_YEAR_LPR_SOURCE"]


def apr_cap(kind):
    """The APR cap of an institution kind (None: the apr_cap rule is off or sets none for the kind)."""
    apr_rule = rule("apr_cap")
    spec = apr_rule.params.get("caps", {}).get(kind) if apr_rule.active else None
    if spec is None:
        return None
    if "ceiling_pct" in spec:
        return Cap(float(spec["ceiling_pct"]))
    if "lpr_multiple" in spec:
        rate, day, _source = lpr()
        multiple = float(spec["lpr_multiple"])
        return Cap(round(multiple * rate, 3), multiple, rate, day)
    raise ValueError(f"COMPLIANCE_RULES['apr_cap']['caps'][{kind!r}]: give ceiling_pct or lpr_multiple")


def caps():
    """Institution kind → its APR Cap, for the kinds the apr_cap rule names (none when it is off)."""
    return {kind: apr_cap(kind) for kind in rule("apr_cap").params.get("caps", {})} if rule("apr_cap").active else {}


def worst_apr(rate_max, term_min, term_max, repayment, upfront_fee_pct, guarantee_fee_pct):
    """The highest APR (IRR, fees included) a product's terms can charge: its top rate over every term it
    offers (an upfront fee weighs most on the shortest)."""
    terms = np.arange(int(term_min), int(term_max) + 1)
    aprs = annualised_rate(float(rate_max), terms, method_index(repayment), float(upfront_fee_pct or 0),
                           float(guarantee_fee_pct or 0))
    return float(np.max(aprs))


def offer_apr(rate, term_months, repayment, upfront_fee_pct, guarantee_fee_pct):
    """The APR of an offer (IRR, with the product's fees), in %."""
    return float(annualised_rate(float(rate), int(term_months), method_index(repayment), float(upfront_fee_pct or 0),
                                 float(guarantee_fee_pct or 0)))


def _over_cap_message(what, apr, cap, kind):
    values = {"apr": f"{apr:.2f}", "cap": f"{cap.pct:g}", "basis": cap.basis(), "kind": INSTITUTION_KINDS.label(kind)}
    if what == "product":
        return _("该产品最高年化综合融资成本为 %(apr)s%%（按内部收益率法，含费用），超过%(kind)s的上限 "
                 "%(cap)s%%（%(basis)s），不能发布。请降低最高利率或费用。", **values)
    return _("该批复的年化综合融资成本为 %(apr)s%%（按内部收益率法，含费用），超过%(kind)s的上限 %(cap)s%%"
             "（%(basis)s），不能批复。请降低利率。", **values)


def check_product(institution, terms):
    """Findings [(rule, details)] of a product about to be published with validated `terms`.

    A rule in refuse mode raises instead: InvalidInput on the rate for the APR cap, NotAllowed for the licence.
    """
    findings = []
    licence = rule("licence_suspended")
    if licence.active and institution.licence_status != "valid":
        if licence.refuses:
            raise NotAllowed(_("本机构的经营许可处于暂停或吊销状态，不能发布或修改产品。"))
        findings.append(("licence_suspended", {"licence_status": institution.licence_status}))
    cap = apr_cap(institution.kind)
    if cap is not None:
        apr = worst_apr(terms.rate_max, terms.term_min, terms.term_max, terms.repayment, terms.upfront_fee_pct,
                        terms.guarantee_fee_pct)
        if apr > cap.pct:
            if rule("apr_cap").refuses:
                raise InvalidInput(_over_cap_message("product", apr, cap, institution.kind), "rate_max")
            findings.append(("apr_cap", cap_details(apr, cap, institution.kind)))
    return findings


def check_offer(application, rate, term_months, repayment):
    """The offer's APR in %, and its findings [(rule, details)]; InvalidInput on the rate when the APR cap
    refuses it."""
    # The fees of the terms the firm applied under (the product's current ones for older applications).
    fees = application.product_version.terms if application.product_version is not None else {
        "upfront_fee_pct": application.product.upfront_fee_pct,
        "guarantee_fee_pct": application.product.guarantee_fee_pct}
    apr = offer_apr(rate, term_months, repayment, fees.get("upfront_fee_pct"), fees.get("guarantee_fee_pct"))
    kind = application.institution.kind
    cap = apr_cap(kind)
    if cap is None or apr <= cap.pct:
        return apr, []
    if rule("apr_cap").refuses:
        raise InvalidInput(_over_cap_message("offer", apr, cap, kind), "rate")
    return apr, [("apr_cap", cap_details(apr, cap, kind))]


def cap_details(apr, cap, kind):
    """The figures a flag of the APR cap keeps: APR, cap, institution kind (and the LPR it came from)."""
    details = {"apr": round(apr, 2), "cap": cap.pct, "kind": kind}
    if cap.lpr_multiple is not None:
        details.update(lpr_multiple=cap.lpr_multiple, lpr=cap.lpr_pct, lpr_date=cap.lpr_date)
    return details


def flag(session, code, target_type, target_id, institution_id, details, now=None):
    """Stage a flag of rule `code` on a record, unless that rule has flagged it already; the flag or None."""
    exists = session.scalar(select(ComplianceFlag.id).where(
        ComplianceFlag.rule == code, ComplianceFlag.target_type == target_type, ComplianceFlag.target_id == target_id))
    if exists is not None:
        return None
    found = ComplianceFlag(rule=code, target_type=target_type, target_id=target_id, institution_id=institution_id,
                           details=details, found_at=now or utcnow())
    session.add(found)
    return found


def flag_findings(session, findings, target, institution_id, now=None):
    """Stage a flag for each (rule, details) of `findings` about the ORM object `target` (flushed first)."""
    if findings:
        session.flush()
    return [f for code, details in findings
            if (f := flag(session, code, type(target).__name__, target.id, institution_id, details, now))]


@dataclass
class FlagPage:
    """One page of flags under a filter, and how many match it."""

    rows: list
    total: int
    page: int
    page_size: int


def flags(session, code=None, institution_id=None, acknowledged=None, page=1, page_size=PAGE_SIZE):
    """Flags, newest first, of one rule / institution / acknowledgement state when given."""
    conditions = []
    if code:
        conditions.append(ComplianceFlag.rule == code)
    if institution_id:
        conditions.append(ComplianceFlag.institution_id == institution_id)
    if acknowledged is not None:
        conditions.append(ComplianceFlag.acknowledged_at.is_not(None) if acknowledged
                          else ComplianceFlag.acknowledged_at.is_(None))
    page = max(page, 1)
    rows = session.scalars(select(ComplianceFlag).where(*conditions)
                           .options(joinedload(ComplianceFlag.institution), joinedload(ComplianceFlag.acknowledged_by))
                           .order_by(ComplianceFlag.found_at.desc(), ComplianceFlag.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)).all()
    total = session.scalar(select(func.count(ComplianceFlag.id)).where(*conditions))
    return FlagPage(rows=rows, total=total, page=page, page_size=page_size)


def institutions(session):
    """Every institution by name (the page's filter)."""
    return session.scalars(select(Institution).order_by(Institution.name)).all()


def open_counts(session):
    """Rule → flags not yet acknowledged (rules with none left out)."""
    return dict(session.execute(select(ComplianceFlag.rule, func.count(ComplianceFlag.id))
                                .where(ComplianceFlag.acknowledged_at.is_(None)).group_by(ComplianceFlag.rule)).all())


def acknowledge(session, found, user, note):
    """The regulator acknowledges a flag with a note of what was done (audited); once only."""
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(_("请填写处理说明（不超过 %(n)d 字）。", n=MAX_NOTE), "note")
    if found.acknowledged_at is not None:
        raise NotAllowed(_("该标记已于此前确认处理。"))
    found.acknowledged_at = utcnow()
    found.acknowledged_by_id = user.id
    found.acknowledgement_note = note
    audit.record(session, user, "compliance.acknowledge", found, rule=found.rule, note=note)


def _when(iso):
    return local_time_text(iso) if iso else ""


def describe(found):
    """What a flag found, in one sentence of the user's language."""
    d = found.details or {}
    if found.rule == "apr_cap":
        return _("年化综合融资成本 %(apr)s%%，超过%(kind)s上限 %(cap)s%%", apr=f"{d.get('apr', 0):.2f}",
                 cap=f"{d.get('cap', 0):g}", kind=INSTITUTION_KINDS.label(d.get("kind")))
    if found.rule == "apr_disclosure":
        return _("批复名义年利率 %(rate)s%%，未同时披露年化综合融资成本", rate=f"{d.get('rate', 0):g}")
    if found.rule == "decline_reasons":
        reasons = [DECLINE_REASONS.label(code) for code in d.get("reasons") or []]
        return _("拒绝原因：%(r)s", r="；".join(reasons)) if reasons else _("拒绝时未给出任何具体原因")
    if found.rule == "response_overdue":
        return _("办理时限 %(due)s，发现时已超时 %(n)s 个工作日", due=_when(d.get("due_at")),
                 n=d.get("working_days_late", ""))
    if found.rule == "consent_view":
        if not d.get("consent_id"):
            return _("%(at)s 查看“%(what)s”，没有任何授权", at=_when(d.get("at")), what=d.get("what", ""))
        return _("%(at)s 查看“%(what)s”，所用授权 #%(id)s 当时不在有效期内或不属于该机构（现状态：%(status)s）",
                 at=_when(d.get("at")), what=d.get("what", ""), id=d["consent_id"],
                 status=CONSENT_STATUSES.label(d.get("consent_status")))
    return _("机构许可状态：%(s)s", s=LICENCE_STATUSES.label(d.get("licence_status")))
