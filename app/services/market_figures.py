"""The market in figures for the regulator's dashboard (政府在线监管): the funnel from need to repayment, over
time and by segment; approval rate, APR and amount by segment with the four-fifths check; first-time borrowers
(首贷户) and the credit-loan share (信用贷款占比), the figures the 信易贷 programme reports.

Every figure is a count or sum over stored rows (docs/regulator.md says which rows, stage by stage), read once
into three frames — needs, applications, loans — and kept on the app until the market changes (checked at most
every MATCH_ODDS_REFRESH_SECONDS), so the dashboard stays quick on a large market. With
DASHBOARD_BACKGROUND_REFRESH a view that finds the market changed gets the kept figures, with the time they were read,
while a thread of the process reads the market again.
"""
import io
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, cast, func, select

from app.common import clock
from app.common.dates import local_date
from app.common.region import town_name
from app.common.vocab import (
    APPROVED_STATUSES,
    DECIDED_STATUSES,
    INSTITUTION_KINDS,
    LOAN_STATUSES,
    SUBJECT_KINDS,
    Vocabulary,
)
from app.entities import (
    Application,
    ApplicationEvent,
    CreditSubject,
    FinancingNeed,
    Institution,
    Loan,
    Match,
    Product,
    RepaymentOutcome,
)
from app.extensions import db
from app.matching.apr import annualised_rate, method_index
from app.matching.rules import ATTRIBUTES, SECTION_NAMES, section_of

from . import match_supervision, supervision
from .market import _kept

FIGURES_KEY = "market_figures"
# The lock held by the thread that reads the market again (one per app and process).
REFRESH_KEY = "market_figures_refresh"
_REFRESH_LOCKS = threading.Lock()
# How long a first view waits for a reading under way before reading the market itself.
FIRST_READING_WAIT_SECONDS = 30
WAN = 10_000
# A segment's approval rate below this share of the best segment's is flagged (the four-fifths rule), once
# both have at least MIN_DECIDED decisions.
FOUR_FIFTHS = 0.8
MIN_DECIDED = 20
REPAID_STATUSES = ("repaid",)
DEFAULTED_STATUSES = ("defaulted", "written_off")
UNMET_RULES = 8
# The languages of the pages (app.select_locale), for which boards are made ahead in a background reading.
LANGUAGES = ("zh", "en")

STAGES = Vocabulary({"needs": _l("融资需求"), "matched": _l("有匹配产品"), "applied": _l("已申请"),
                     "approved": _l("获批"), "disbursed": _l("已放款"), "repaid": _l("已结清"),
                     "defaulted": _l("违约")})
# Segments of the breakdown: those of the subject (and the month the need was posted) carry the whole
# funnel; those of the lender start at the application.
SEGMENTS = Vocabulary({"subject_kind": _l("主体类型"), "size": _l("企业规模"), "town": _l("镇街"),
                       "industry": _l("行业门类"), "institution": _l("机构"), "institution_kind": _l("机构类型"),
                       "product": _l("产品")})
LENDER_SEGMENTS = ("institution", "institution_kind", "product")


@dataclass
class Frames:
    """The market's rows as the dashboard needs them."""

    needs: pd.DataFrame
    applications: pd.DataFrame
    loans: pd.DataFrame
    # The dashboards computed from these frames, by (language, segment), and under (language, None) the part every
    # segment shares (they go with the frames when the market changes).
    boards: dict = field(default_factory=dict)
    # Per-need and per-application stages (need_stages, application_stages), each computed once.
    stages: dict = field(default_factory=dict)
    # Product id (text) → "product · institution", for the breakdown by product.
    product_names: dict = field(default_factory=dict)
    # When the market was read (UTC, by the platform's clock).
    read_at: datetime | None = None


@dataclass
class SegmentRow:
    """One segment of the breakdown: its funnel, decisions, APR and amounts."""

    key: str
    label: str
    counts: dict
    amounts_wan: dict
    decided: int = 0
    approval_rate: float | None = None
    mean_apr: float | None = None
    mean_approved_wan: float | None = None
    four_fifths_ratio: float | None = None
    flagged: bool = False


@dataclass
class Dashboard:
    """What the dashboard shows."""

    funnel: list
    months: list
    segment: str
    segments: list
    totals: dict
    # The counters and per-institution table of app/services/supervision.py, and unmet demand (open needs
    # with no eligible stored match, and the rules that excluded them most).
    counts: dict = field(default_factory=dict)
    institutions: list = field(default_factory=list)
    unmet_count: int = 0
    unmet_rules: list = field(default_factory=list)
    # When the figures' market was read (UTC), and whether a newer reading is under way.
    as_of: datetime | None = None
    refreshing: bool = False


def _frame(session, query, columns, text=()):
    """The query's rows as a frame, on the session's own connection and transaction. On PostgreSQL the rows come
    as CSV through COPY and pandas' C reader parses them whole (several times quicker than building the frame
    from row objects or even the driver's tuples); elsewhere the frame is built from the driver's tuples (every
    column is a plain number or text, so no SQLAlchemy type processing is needed). `text` names the columns
    kept as text whatever they look like (codes such as "0111")."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        buffer = io.BytesIO()
        with connection.connection.driver_connection.cursor() as cursor, \
                cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        if buffer.tell():
            buffer.seek(0)
            return pd.read_csv(buffer, header=None, names=columns, dtype={name: "str" for name in text},
                               keep_default_na=False, na_values=[""], true_values=["t"], false_values=["f"])
    else:
        rows = connection.execute(query).cursor.fetchall()
        if rows:
            return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)
    return pd.DataFrame({name: [] for name in columns})


def _number(column):
    """A money or rate column read as a float (SQL does the conversion, not Python's Decimal)."""
    return cast(column, Float)


def _seconds(column, dialect):
    """A date or (naive UTC) time read as seconds since the epoch, a float (NULL stays NULL): the driver then
    makes no date objects, and pandas turns the column into datetime64 at once. PostgreSQL's date_part gives
    a float directly (its EXTRACT computes a numeric, twice as slow on a whole market)."""
    if dialect == "postgresql":
        return func.date_part("epoch", column)
    return cast(func.extract("epoch", column), Float)


def _stamps(frame, columns):
    for column in columns:
        frame[column] = pd.to_datetime(pd.to_numeric(frame[column], errors="coerce"), unit="s")


def read_frames(session):
    """The needs, applications and loans of the whole market, with what the segments need.

    The few institutions and products are read apart and joined in pandas, so the long frames carry only ids,
    codes, numbers and times."""
    read_at = clock.utcnow()
    matched = select(Match.need_id).where(Match.eligible.is_(True)).distinct()
    dialect = session.get_bind().dialect.name
    needs = _frame(session, select(
        FinancingNeed.id, FinancingNeed.subject_id, _number(FinancingNeed.amount),
        _seconds(FinancingNeed.created_at, dialect), FinancingNeed.status, CreditSubject.kind,
        CreditSubject.size_class, CreditSubject.town_code, CreditSubject.industry_code,
        FinancingNeed.id.in_(matched)).join(CreditSubject),
        ["id", "subject_id", "amount", "created_at", "status", "subject_kind", "size", "town", "industry_code",
         "has_match"], text=("status", "subject_kind", "size", "town", "industry_code"))
    applications = _frame(session, select(
        Application.id, Application.need_id, Application.subject_id, Application.institution_id,
        Application.product_id, Application.status, _number(Application.amount),
        _number(Application.approved_amount), _number(Application.approved_rate),
        Application.approved_term_months, Application.approved_repayment, _seconds(Application.created_at, dialect),
        _seconds(Application.decided_at, dialect)),
        ["id", "need_id", "subject_id", "institution_id", "product_id", "status", "amount", "approved_amount",
         "approved_rate", "approved_term_months", "approved_repayment", "created_at", "decided_at"],
        text=("status", "approved_repayment"))
    loans = _frame(session, select(
        Loan.id, Loan.application_id, Loan.subject_id, _number(Loan.principal), Loan.status,
        _seconds(Loan.disbursed_on, dialect), Application.approved_guarantee)
        .outerjoin(Application, Loan.application_id == Application.id),
        ["id", "application_id", "subject_id", "principal", "status", "disbursed_on", "guarantee"],
        text=("status", "guarantee"))
    institutions = {row.id: row for row in session.execute(select(Institution.id, Institution.name,
                                                                  Institution.kind))}
    products = {row.id: row for row in session.execute(select(
        Product.id, Product.name, Product.institution_id, _number(Product.upfront_fee_pct),
        _number(Product.guarantee_fee_pct)))}
    applications["institution"] = applications["institution_id"].map(
        {key: row.name for key, row in institutions.items()})
    applications["institution_kind"] = applications["institution_id"].map(
        {key: row.kind for key, row in institutions.items()})
    for column, index in (("product", 1), ("upfront_fee_pct", 3), ("guarantee_fee_pct", 4)):
        applications[column] = applications["product_id"].map({key: row[index] for key, row in products.items()})
    for frame, money in ((needs, ["amount"]), (applications, ["amount", "approved_amount", "approved_rate",
                                                             "upfront_fee_pct", "guarantee_fee_pct"]),
                         (loans, ["principal"])):
        for column in money:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    _stamps(needs, ["created_at"])
    _stamps(applications, ["created_at", "decided_at"])
    _stamps(loans, ["disbursed_on"])
    needs["has_match"] = needs["has_match"].fillna(False).astype(bool)
    sections = {code: section_of(code) for code in needs["industry_code"].dropna().unique()}
    needs["industry"] = needs["industry_code"].map(sections)
    applications["apr"] = _aprs(applications)
    product_names = {str(key): f"{row.name} · {institutions[row.institution_id].name}"
                     for key, row in products.items() if row.institution_id in institutions}
    return Frames(needs, applications, loans, product_names=product_names, read_at=read_at)


def _aprs(applications):
    """The APR (IRR with the product's fees) of each approved application, NaN for the others."""
    apr = np.full(len(applications), np.nan)
    approved = applications["approved_rate"].notna() & applications["approved_term_months"].notna()
    if approved.any():
        rows = applications[approved]
        names = rows["approved_repayment"].fillna("annuity")
        methods = names.map({name: method_index(name) for name in names.unique()}).to_numpy()
        apr[approved.to_numpy()] = annualised_rate(rows["approved_rate"].to_numpy(), rows["approved_term_months"]
                                                   .to_numpy(dtype=float), np.asarray(methods),
                                                   rows["upfront_fee_pct"].fillna(0).to_numpy(),
                                                   rows["guarantee_fee_pct"].fillna(0).to_numpy())
    return apr


def _fingerprint(session):
    """Changes whenever a need is posted or closed, a match stored, an application moves (each move appends an
    event), a loan is recorded or reported on, a product published or retired, an institution added."""
    return tuple(session.execute(select(
        select(func.count(FinancingNeed.id)).scalar_subquery(),
        select(func.count(FinancingNeed.id)).where(FinancingNeed.status == "open").scalar_subquery(),
        select(func.max(Match.id)).scalar_subquery(), select(func.count(Match.id)).scalar_subquery(),
        select(func.max(ApplicationEvent.id)).scalar_subquery(), select(func.max(Loan.id)).scalar_subquery(),
        select(func.max(RepaymentOutcome.id)).scalar_subquery(),
        select(func.count(Product.id)).where(Product.status == "published").scalar_subquery(),
        select(func.count(Institution.id)).scalar_subquery())).one())


def frames(session):
    """The frames, kept on the app until the market changes. With DASHBOARD_BACKGROUND_REFRESH, once frames are kept,
    a view that finds the market changed gets them at once while a background thread reads the new ones."""
    app = current_app._get_current_object()
    kept = app.extensions.get(FIGURES_KEY)  # (fingerprint, frames, checked at), as _kept keeps them
    if kept is None and app.config["DASHBOARD_BACKGROUND_REFRESH"] and refreshing(app):
        wait_for_refresh(app, timeout=FIRST_READING_WAIT_SECONDS)  # the reading begun at the worker's start
        kept = app.extensions.get(FIGURES_KEY)
    if kept is None or not app.config["DASHBOARD_BACKGROUND_REFRESH"]:
        return _kept(FIGURES_KEY, lambda: _fingerprint(session), lambda: read_frames(session))
    key, value, checked = kept
    now = clock.utcnow()
    if timedelta(0) <= now - checked < timedelta(seconds=app.config["MATCH_ODDS_REFRESH_SECONDS"]):
        return value
    if _fingerprint(session) == key:
        app.extensions[FIGURES_KEY] = (key, value, now)
    else:
        _refresh_in_background(app)
    return value


def warm_up(app):
    """Begin reading the market in the background when nothing is kept yet (a web worker's start, so that its
    first dashboard view finds the figures read or being read)."""
    if app.config["DASHBOARD_BACKGROUND_REFRESH"] and FIGURES_KEY not in app.extensions:
        _refresh_in_background(app)


def _refresh_lock(app):
    with _REFRESH_LOCKS:
        return app.extensions.setdefault(REFRESH_KEY, threading.Lock())


def refreshing(app=None):
    """Whether a background thread is reading the market again."""
    return _refresh_lock(app or current_app._get_current_object()).locked()


def _refresh_in_background(app):
    """Read the market again in a thread of this process (its own app context and database session), unless one is
    at it already; the new frames replace the kept ones once read. The fingerprint is read first, so a change made
    while the frames are read is seen at the next check."""
    lock = _refresh_lock(app)
    if not lock.acquire(blocking=False):
        return

    def run():
        try:
            with app.app_context():
                try:
                    key = _fingerprint(db.session)
                    value = read_frames(db.session)
                    before = app.extensions.get(FIGURES_KEY)
                    _prepare_boards(db.session, value, list(before[1].boards) if before else [])
                    app.extensions[FIGURES_KEY] = (key, value, clock.utcnow())
                finally:
                    db.session.remove()
        except Exception:  # the kept figures stay; the next view that finds the market changed tries again
            app.logger.exception("the market figures could not be read again")
        finally:
            lock.release()

    threading.Thread(target=run, name="market-figures", daemon=True).start()


def wait_for_refresh(app, timeout=60):
    """Wait until no background reading of the market is under way (tests, benchmarks); False on timeout."""
    lock = _refresh_lock(app)
    if lock.acquire(timeout=timeout):
        lock.release()
        return True
    return False


# --- stages ---------------------------------------------------------------------------------------------------

def need_stages(f):
    """Per need: the furthest it went, as boolean columns, with the amount at each stage in 元.

    matched: an eligible product is stored for it now, or it was applied for (a product fitted then);
    applied: at least one application; approved: at least one approved application (offers and loans
    included); disbursed: a loan; repaid / defaulted: its loan's status.
    """
    if "needs" not in f.stages:
        f.stages["needs"] = _need_stages(f)
    return f.stages["needs"]


def _need_stages(f):
    needs, apps, loans = f.needs, f.applications, f.loans
    ids = pd.Index(needs["id"].to_numpy(), name="id")
    approved = apps[apps["status"].isin(APPROVED_STATUSES).to_numpy()]
    # Each loan's need, through its application (loans without one, or of an unknown application, have none).
    loan_needs = pd.Series(apps["need_id"].to_numpy(), index=apps["id"].to_numpy()).reindex(
        loans["application_id"].to_numpy()).to_numpy()
    known = ~pd.isna(loan_needs)
    loan_needs, loan_status, principal = loan_needs[known], loans["status"].to_numpy()[known], \
        loans["principal"].to_numpy(dtype=float)[known]
    repaid, defaulted = np.isin(loan_status, REPAID_STATUSES), np.isin(loan_status, DEFAULTED_STATUSES)
    applied = ids.isin(apps["need_id"])
    stages = {"needs": np.ones(len(ids), dtype=bool), "matched": needs["has_match"].to_numpy(dtype=bool) | applied,
              "applied": applied, "approved": ids.isin(approved["need_id"]), "disbursed": ids.isin(loan_needs),
              "repaid": ids.isin(loan_needs[repaid]), "defaulted": ids.isin(loan_needs[defaulted])}
    amount = needs["amount"].to_numpy(dtype=float)

    def per_need(values, keys):
        return pd.Series(values).groupby(keys).sum().reindex(ids).fillna(0.0).to_numpy()

    amounts = {stage: np.where(stages[stage], amount, 0.0) for stage in ("needs", "matched", "applied")}
    amounts["approved"] = approved.groupby("need_id")["approved_amount"].max().reindex(ids).fillna(0.0).to_numpy()
    amounts["disbursed"] = per_need(principal, loan_needs)
    amounts["repaid"] = per_need(principal[repaid], loan_needs[repaid])
    amounts["defaulted"] = per_need(principal[defaulted], loan_needs[defaulted])
    return pd.DataFrame(stages, index=ids), pd.DataFrame(amounts, index=ids)[list(stages)]


def application_stages(f):
    """Per application (the lender's segments): applied, approved, disbursed, repaid, defaulted, with amounts."""
    if "applications" not in f.stages:
        f.stages["applications"] = _application_stages(f)
    return f.stages["applications"]


def _application_stages(f):
    apps = f.applications.set_index("id")
    loans = f.loans.dropna(subset=["application_id"]).set_index("application_id")
    stages = pd.DataFrame(index=apps.index)
    stages["applied"] = True
    stages["approved"] = apps["status"].isin(APPROVED_STATUSES)
    stages["disbursed"] = apps.index.isin(loans.index)
    loan_status = loans["status"].reindex(apps.index)
    stages["repaid"] = loan_status.isin(REPAID_STATUSES).to_numpy()
    stages["defaulted"] = loan_status.isin(DEFAULTED_STATUSES).to_numpy()
    principal = loans["principal"].reindex(apps.index).fillna(0.0)
    amounts = pd.DataFrame({"applied": apps["amount"], "approved": apps["approved_amount"].fillna(0.0)
                            .where(stages["approved"], 0.0), "disbursed": principal,
                            "repaid": principal.where(stages["repaid"], 0.0),
                            "defaulted": principal.where(stages["defaulted"], 0.0)}, index=apps.index)
    return stages, amounts


def funnel(f):
    """[(stage, label, count, 万元)] over the whole market, need by need."""
    stages, amounts = need_stages(f)
    return [(stage, str(STAGES.label(stage)), int(stages[stage].sum()), round(amounts[stage].sum() / WAN, 2))
            for stage in STAGES]


def by_month(f):
    """Per month: needs posted, applications submitted, approvals and declines decided, loans disbursed (count and
    万元), each in the month it happened."""
    apps, loans = f.applications, f.loans
    decided = apps["decided_at"].notna().to_numpy()
    status = apps["status"]
    months = {
        "needs": _per_month(f.needs["created_at"]),
        "needs_wan": _per_month(f.needs["created_at"], weights=f.needs["amount"]) / WAN,
        "applied": _per_month(apps["created_at"]),
        "approved": _per_month(apps["decided_at"], decided & status.isin(APPROVED_STATUSES).to_numpy()),
        "declined": _per_month(apps["decided_at"], decided & (status == "declined").to_numpy()),
        "disbursed": _per_month(loans["disbursed_on"]),
        "disbursed_wan": _per_month(loans["disbursed_on"], weights=loans["principal"]) / WAN,
    }
    table = pd.DataFrame(months).fillna(0).sort_index()
    return [{"month": str(np.datetime64(int(month), "M")),
             **{k: (round(float(v), 2) if k.endswith("_wan") else int(v)) for k, v in row.items()}}
            for month, row in table.iterrows()]


def _per_month(times, rows=None, weights=None):
    """Count (or sum of `weights`) of the `rows` (all when None) by the month of their time, months numbered from
    1970-01 (rows without a time are left out)."""
    stamps = pd.to_datetime(times).to_numpy(dtype="datetime64[ns]")
    keep = ~np.isnat(stamps) if rows is None else ~np.isnat(stamps) & rows
    months = stamps[keep].astype("datetime64[M]").astype(np.int64)
    values = np.ones(len(months)) if weights is None else np.asarray(weights, dtype=float)[keep]
    return pd.Series(values).groupby(months).sum()


# --- segments -------------------------------------------------------------------------------------------------

def _segment_label(segment, key, names):
    if segment == "subject_kind":
        return str(SUBJECT_KINDS.label(key))
    if segment == "size":
        return str(ATTRIBUTES["size_class"].choices.get(key, _l("未知")))
    if segment == "town":
        return town_name(key) or key
    if segment == "industry":
        return f"{key} {SECTION_NAMES[key]}" if key in SECTION_NAMES else str(_l("未登记"))
    if segment == "institution_kind":
        return str(INSTITUTION_KINDS.label(key))
    return names.get(key, key)


def _segment_keys(f, segment):
    """Segment key (text; "" when unknown) of each need (subject segments) or application (lender segments),
    with the names of institutions and products."""
    if segment not in LENDER_SEGMENTS:
        return f.needs.set_index("id")[segment].fillna("").astype(str), {}
    apps = f.applications.set_index("id")
    column = {"institution": "institution_id", "institution_kind": "institution_kind", "product": "product_id"}[segment]
    keys = apps[column].astype(str)
    if segment == "institution":
        pairs = f.applications[["institution_id", "institution"]].drop_duplicates("institution_id")
        return keys, {str(key): name for key, name in pairs.itertuples(index=False)}
    if segment == "product":
        return keys, f.product_names
    return keys, {}


def by_segment(f, segment):
    """The breakdown by `segment`: funnel counts and 万元, decisions, approval rate, mean APR and approved amount,
    and the four-fifths check of approval rates."""
    if segment not in SEGMENTS:
        raise KeyError(segment)
    stages, amounts = application_stages(f) if segment in LENDER_SEGMENTS else need_stages(f)
    shown = stage_names(segment)
    keys, names = _segment_keys(f, segment)
    counts = stages[shown].groupby(keys).sum().to_dict("index")
    sums = (amounts[shown].groupby(keys).sum() / WAN).to_dict("index")
    decisions = _decisions(f, segment)
    rows = []
    for key, row_counts in counts.items():
        decided, rate, apr, approved_wan = decisions.get(key, (0, None, None, None))
        rows.append(SegmentRow(key=key, label=_segment_label(segment, key, names),
                               counts={s: int(row_counts[s]) for s in shown},
                               amounts_wan={s: round(float(sums[key][s]), 2) for s in shown},
                               decided=decided, approval_rate=rate, mean_apr=apr, mean_approved_wan=approved_wan))
    _four_fifths(rows)
    return sorted(rows, key=lambda row: (-row.counts[shown[0]], row.label))


def _decisions(f, segment):
    """Segment key → (decisions, approval rate, mean APR of approvals, mean approved 万元)."""
    apps = f.applications
    keys = _segment_keys(f, segment)[0]
    keys = keys.reindex(apps["need_id"]) if segment not in LENDER_SEGMENTS else keys.reindex(apps["id"])
    decided = apps["status"].isin(DECIDED_STATUSES).to_numpy()
    decisions = pd.DataFrame({"key": keys.to_numpy()[decided],
                              "approved": apps["status"].isin(APPROVED_STATUSES).to_numpy()[decided],
                              "apr": apps["apr"].to_numpy(dtype=float)[decided],
                              "amount": apps["approved_amount"].to_numpy(dtype=float)[decided]})
    groups = decisions.groupby("key")["approved"].agg(["size", "mean"])
    approvals = decisions[decisions["approved"]].groupby("key")[["apr", "amount"]].mean().to_dict("index")
    result = {}
    for key, size, rate in groups.itertuples():
        approval = approvals.get(key)
        result[key] = (int(size), round(float(rate), 4),
                       round(float(approval["apr"]), 2) if approval and pd.notna(approval["apr"]) else None,
                       round(float(approval["amount"]) / WAN, 2) if approval else None)
    return result


def _four_fifths(rows):
    """Flag each segment whose approval rate is below four fifths of the best segment's (both with enough
    decisions)."""
    sized = [row for row in rows if row.decided >= MIN_DECIDED and row.approval_rate is not None]
    if not sized:
        return
    best = max(row.approval_rate for row in sized)
    for row in sized:
        row.four_fifths_ratio = round(row.approval_rate / best, 3) if best else None
        row.flagged = row.four_fifths_ratio is not None and row.four_fifths_ratio < FOUR_FIFTHS


# --- programme figures ----------------------------------------------------------------------------------------

def programme_totals(f):
    """首贷户 (subjects whose first loan on the platform this is) and 信用贷款占比 (credit-only loans' share of
    loans and of the amount lent), with the overall approval rate and mean APR."""
    loans = f.loans
    borrowers = loans["subject_id"].nunique()
    first_loans = loans.sort_values(["disbursed_on", "id"]).drop_duplicates("subject_id")
    credit = loans["guarantee"] == "credit"
    apps = f.applications
    decided = apps["status"].isin(DECIDED_STATUSES)
    approved = apps["status"].isin(APPROVED_STATUSES)
    year_ago = local_date().replace(day=1)
    year_ago = year_ago.replace(year=year_ago.year - 1)
    recent_first = int((pd.to_datetime(first_loans["disbursed_on"]).dt.date >= year_ago).sum()) if len(loans) else 0
    return {
        "loans": int(len(loans)), "lent_wan": round(float(loans["principal"].sum()) / WAN, 2),
        "borrowers": int(borrowers), "first_time_borrowers": int(len(first_loans)),
        "first_time_borrowers_12m": recent_first,
        "credit_loans": int(credit.sum()),
        "credit_loan_share": round(float(credit.mean()), 4) if len(loans) else None,
        "credit_amount_share": round(float(loans.loc[credit, "principal"].sum() / loans["principal"].sum()), 4)
        if len(loans) and loans["principal"].sum() else None,
        "decided": int(decided.sum()), "approved": int(approved.sum()),
        "approval_rate": round(float(approved.sum() / decided.sum()), 4) if decided.any() else None,
        "mean_apr": round(float(apps.loc[approved, "apr"].mean()), 2) if apps.loc[approved, "apr"].notna().any()
        else None,
        "loan_statuses": {status: int((loans["status"] == status).sum()) for status in LOAN_STATUSES},
    }


def dashboard(session, segment="subject_kind"):
    """Everything the dashboard shows, for the breakdown by `segment` (computed once per segment, reader's language
    and state of the market: the boards hold words — stages, segment names — as well as figures)."""
    board = _board(session, frames(session), str(get_locale()), segment)
    return replace(board, refreshing=True) if refreshing() else board


def _board(session, f, language, segment):
    if (language, segment) not in f.boards:
        common = f.boards.get((language, None)) or f.boards.setdefault((language, None), _common(session, f))
        f.boards[(language, segment)] = replace(common, segment=segment, segments=by_segment(f, segment))
    return f.boards[(language, segment)]


def _prepare_boards(session, f, viewed):
    """The boards `viewed` on the figures before (language, segment), made on the new frames `f` before these are
    shown, so that the views after a background reading find them ready."""
    for language, segment in viewed:
        if segment is not None and language in LANGUAGES:
            with force_locale(language):
                _board(session, f, language, segment)


def _common(session, f):
    """What every breakdown's dashboard shows alike, computed once per state of the market."""
    return Dashboard(funnel=funnel(f), months=by_month(f), segment=None, segments=[], totals=programme_totals(f),
                     counts=supervision.market_counts(session), institutions=supervision.by_institution(session),
                     unmet_count=match_supervision.unmatched_count(session),
                     unmet_rules=match_supervision.unmatched_rule_totals(session)[:UNMET_RULES], as_of=f.read_at)


def stage_names(segment):
    """The funnel's stages shown for a breakdown by `segment`."""
    return [s for s in STAGES if segment not in LENDER_SEGMENTS or s not in ("needs", "matched")]



# --- tables (the charts' table views, and their exports) -------------------------------------------------------

TABLES = ("funnel", "months", "segments")


def _pct(value):
    return None if value is None else round(100 * value, 2)


def table(board, name):
    """(title, headers, rows) of one of the dashboard's tables, in the user's language."""
    if name == "funnel":
        return (str(_l("融资漏斗")), [str(_l("环节")), str(_l("笔数")), str(_l("金额（万元）"))],
                [[label, count, wan] for _stage, label, count, wan in board.funnel])
    if name == "months":
        headers = [_l("月份"), _l("发布需求"), _l("需求金额（万元）"), _l("提交申请"), _l("批准"), _l("拒绝"),
                   _l("放款笔数"), _l("放款金额（万元）")]
        keys = ("month", "needs", "needs_wan", "applied", "approved", "declined", "disbursed", "disbursed_wan")
        return (str(_l("按月")), [str(h) for h in headers], [[row[k] for k in keys] for row in board.months])
    if name == "segments":
        shown = stage_names(board.segment)
        headers = ([str(SEGMENTS.label(board.segment))] + [str(STAGES.label(s)) for s in shown]
                   + [f"{STAGES.label('disbursed')}（{_l('万元')}）", str(_l("已决策")), str(_l("批准率（%）")),
                      str(_l("平均年化利率 APR（%）")), str(_l("平均批准金额（万元）")), str(_l("与最高批准率之比")),
                      str(_l("低于五分之四"))])
        rows = [[row.label] + [row.counts[s] for s in shown]
                + [row.amounts_wan["disbursed"], row.decided, _pct(row.approval_rate), row.mean_apr,
                   row.mean_approved_wan, row.four_fifths_ratio, str(_l("是")) if row.flagged else ""]
                for row in board.segments]
        return (str(SEGMENTS.label(board.segment)), headers, rows)
    raise KeyError(name)
