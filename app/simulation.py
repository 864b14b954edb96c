"""A living demo market: `flask market simulate --months N` replays the last N months of the
district's financing through the platform's own services (docs/lifecycle.md, "The simulated market").

Firms of the district post needs, the matcher finds their products, they apply with consent; the
institutions' officers review, ask for material, approve with an offer or decline with reasons,
late now and then; firms accept or let offers go; loans are disbursed and reported on monthly until
repaid, or they fall overdue, default and are written off. Every step is a call of the same service
a page makes, with the platform's clock (app/common/clock.py) set to the step's moment, so every
record carries the time it would have had.

How it stays reproducible and idempotent:
- Each thing's story is drawn from a generator seeded by (seed, its key): the need's form token
  (seed, month, firm), the application's need and product, the loan's reference. Which step comes
  next follows from what is stored (its status and times), never from memory of the run.
- The run goes month by month and commits each month with the moment it has reached (the
  `MarketSimulation` row of the seed); a later run carries on from there, so a second run up to the
  same moment adds nothing, and one that stopped half-way loses at most the month it was in.
- Repayment follows the hidden risk of the synthetic district (`_truth/firms.csv`: latent risk,
  average health, when distress began) when given, else the model's PD blurred by noise. Officers
  see what the platform shows them: the firm's score as of the month it applied, scored then.
"""
import heapq
import logging
import time as timer
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import func, select

from app.common import clock, workdays
from app.common.dates import add_months, local_date, month_of
from app.common.errors import InvalidInput, NotAllowed
from app.common.region import town_codes
from app.common.vocab import (
    APPLICATION_STATUSES,
    DECLINE_REASONS,
    LOAN_STATUSES,
    NEED_STATUSES,
    PENDING_APPLICATION_STATUSES,
    REPAYMENT_METHODS,
)
from app.credit.scoring import NEWEST_FIRST, data_as_of, refresh_scores
from app.entities import (
    Application,
    CreditScore,
    CreditSubject,
    FinancingNeed,
    Institution,
    Loan,
    MarketSimulation,
    Match,
    Product,
    RepaymentOutcome,
    User,
)
from app.entities.base import refresh_statistics
from app.entities.users import FIRM, LENDER_ADMIN, LENDER_OFFICER
from app.services import (
    accounts,
    applications,
    compliance_checks,
    lists,
    loans,
    market,
    matches,
    models,
    needs,
    queues,
    response_clock,
)
from app.services.applications import Offer

log = logging.getLogger(__name__)

MAX_SEED = 9999
MAX_MONTHS = 60
MAX_ACTIVITY = 20
# What a replay writes in bulk: their planner statistics are refreshed once it ends.
MARKET_TABLES = ("financing_need", "match", "consent", "application", "application_event", "loan",
                 "repayment_outcome", "credit_score", "data_access_log")
# Chance a firm without an open need or a running loan posts one in a month, by kind.
POST_RATE = {"enterprise": 0.026, "individual_business": 0.022, "cooperative": 0.03, "farmer": 0.016}
# A need's typical amount in 万元 by kind (log-normal around it) and the terms firms ask for.
TYPICAL_WAN = {"enterprise": 60, "individual_business": 12, "cooperative": 30, "farmer": 6}
TERMS = (6, 12, 12, 12, 18, 24, 36)
GUARANTEES = (("credit", 0.5), ("guarantor", 0.25), ("mortgage", 0.2), ("pledge", 0.05))
PURPOSES = {
    "enterprise": ("采购原材料", "购置生产设备", "支付货款、补充流动资金", "承接订单备货", "厂房修缮和设备升级"),
    "individual_business": ("店面装修", "节前备货", "补充经营流动资金", "购置经营设备"),
    "cooperative": ("统一收购社员农产品", "建设冷库", "购买农资统一发放", "购置农机"),
    "farmer": ("购买化肥和农药", "购买果袋和农资", "果园更新改造", "购买饲料和仔畜"),
}
# How readily each kind of institution approves (log-odds at the reference PD) and how much riskier
# its borrowers are beyond what the data show.
LENIENCY = {"bank": 0.3, "guarantee": 0.6, "microloan": 1.2, "pawn": 1.6}
EXTRA_RISK = {"bank": 0.0, "guarantee": 0.1, "microloan": 0.3, "pawn": 0.5}
REFERENCE_PD = 0.04
# The replay refits the approval odds and response times that firms and lenders see at the start of each
# month and each Monday it plays (live: checked every few minutes), so a run carried on from a month
# boundary plays exactly what one run would have.
REFIT_WEEKDAY = 0
# Mean lifetime default probability the hidden risk is calibrated to over the whole district.
DISTRICT_DEFAULT_RATE = 0.10
# A score's reasons (model features) as a lender's principal decline reasons.
REASON_OF_FEATURE = (
    ("tax_arrears", "tax_arrears"), ("tax_grade", "tax_arrears"), ("tax_late", "tax_arrears"),
    ("si_arrears", "social_insurance_arrears"), ("si_paid", "social_insurance_arrears"),
    ("court_", "court_enforcement"), ("penalty_serious", "serious_penalty"),
    ("tax_revenue", "revenue_insufficient"), ("revenue_", "revenue_insufficient"),
    ("elec_", "revenue_insufficient"), ("freight", "revenue_insufficient"),
    ("firm_age", "operating_history_short"), ("prior_", "debt_too_high"), ("declines_", "debt_too_high"),
    ("applications_", "debt_too_high"), ("loan_to_revenue", "amount_exceeds_capacity"),
    ("loan_amount", "amount_exceeds_capacity"),
)
RUNNING_LOAN = LOAN_STATUSES.subset("disbursed", "repaying", "overdue", "defaulted")


def beijing(day, hours):
    """The stored (UTC, naive) time of `hours` past midnight of `day` in Beijing."""
    local = datetime.combine(day, time(0), tzinfo=workdays.BEIJING) + timedelta(hours=float(hours))
    return local.astimezone(UTC).replace(tzinfo=None)


def beijing_day(at):
    return workdays.beijing_time(at).date()


def _logit(p):
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _sigmoid(x):
    return float(1 / (1 + np.exp(-x)))


@dataclass(frozen=True)
class Window:
    """One month of the replay: steps after `start` up to and including `end`."""

    month: object  # its first day
    start: datetime
    end: datetime


class HiddenRisk:
    """Each firm's risk that the data only partly show: the synthetic district's truth when given."""

    def __init__(self, truth_path=None):
        self.frame = None
        if truth_path is not None and Path(truth_path).is_file():
            frame = pd.read_csv(truth_path, dtype={"subject_code": str}, keep_default_na=False)
            frame["distress_from"] = pd.to_datetime(frame["distress_from"].replace("", None), format="%Y-%m")
            frame["logit"] = frame["latent_risk"] - 0.6 * frame["mean_health"]
            self.frame = frame.set_index("subject_code")
            self.intercept = self._calibrate(self.frame["logit"].to_numpy())

    @staticmethod
    def _calibrate(logits):
        lo, hi = -20.0, 20.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if (1 / (1 + np.exp(-(mid + logits)))).mean() < DISTRICT_DEFAULT_RATE else (lo, mid)
        return (lo + hi) / 2

    def lifetime_pd(self, code, score_pd, on_day, term, institution_kind, noise):
        """The probability that a loan to the firm disbursed on `on_day` defaults over its term."""
        extra = EXTRA_RISK.get(institution_kind, 0.0) + 0.3 * (term >= 24)
        if self.frame is not None and code in self.frame.index:
            row = self.frame.loc[code]
            distressed = pd.notna(row["distress_from"]) and row["distress_from"].date() <= on_day
            return _sigmoid(self.intercept + row["logit"] + 1.2 * distressed + extra + 0.3 * noise)
        # No truth: the model's PD over a year, stretched to the term, blurred.
        yearly = score_pd if score_pd is not None else REFERENCE_PD
        return _sigmoid(_logit(min(0.95, yearly * max(1.0, term / 12))) + extra + 0.6 * noise)


class Replay:
    """One run of the simulation for a seed: the market's actors and the month-by-month steps."""

    def __init__(self, session, seed, truth_path=None, activity=1.0):
        self.session, self.seed, self.activity = session, seed, activity
        self.hidden = HiddenRisk(truth_path)
        self.config = current_app.config
        self.prefix = f"s{seed}-"
        self.added = {"needs": 0, "applications": 0, "loans": 0, "reports": 0, "scores": 0, "refused": 0}
        self._firm_users = {}
        self._queue, self._order = [], 0
        self._scorer = None
        try:
            self._scorer = models.active_scorer(session, self.config["MODEL_REGISTRY"])
        except Exception as error:  # no active model: officers decide on the hidden risk alone
            log.warning("market simulation without scores: %s", error)
        self._staff()

    # -- the actors -------------------------------------------------------------------------------
    def rng(self, *key):
        """The generator of one thing's story: the same for the same seed and key, run after run."""
        return np.random.default_rng([self.seed, zlib.crc32("|".join(map(str, key)).encode())])

    def _staff(self):
        """Every active institution's officers (one made for an institution with none) and its admin."""
        self.officers, self.admins = {}, {}
        for institution in self.session.scalars(select(Institution).where(Institution.active)
                                                .order_by(Institution.id)):
            staff = self.session.scalars(select(User).where(User.institution_id == institution.id, User.active)
                                         .order_by(User.id)).all()
            officers = [u for u in staff if u.role == LENDER_OFFICER]
            if not officers:
                officers = [accounts.create_user(self.session, f"sim{self.seed}-officer-{institution.id}", None,
                                                 LENDER_OFFICER, f"{institution.name[:40]} 客户经理",
                                                 institution=institution)]
                self.session.flush()
            self.officers[institution.id] = [u.id for u in officers]
            self.admins[institution.id] = next((u.id for u in staff if u.role == LENDER_ADMIN), None)

    def firm_user(self, subject):
        """The firm's account on the platform (made, without a password, the first time it acts)."""
        if subject.id in self._firm_users:
            return self.session.get(User, self._firm_users[subject.id])
        user = self.session.scalars(select(User).where(User.subject_id == subject.id, User.role == FIRM)
                                    .order_by(User.id)).first()
        if user is None:
            user = accounts.create_user(self.session, f"sim{self.seed}-{subject.identifier}", None, FIRM,
                                        subject.name, subject=subject)
            self.session.flush()
        self._firm_users[subject.id] = user.id
        return user

    def officer(self, application):
        """The officer handling the application: its assignee, else one of the institution's by its key."""
        if application.assigned_to_id is not None:
            return self.session.get(User, application.assigned_to_id)
        ids = self.officers[application.institution_id]
        return self.session.get(User, ids[application.id % len(ids)])

    def applications_of(self, need):
        return self.session.scalars(select(Application).where(Application.need_id == need.id)
                                    .order_by(Application.id)).all()

    def _taken(self, need):
        """Whether the firm has accepted an offer for the need (or been lent on it)."""
        return any(a.status in ("offer_accepted", "disbursed") for a in self.applications_of(need))

    def score_at(self, subject_id, at):
        """The subject's latest score computed by `at` (None: not scored then)."""
        return self.session.scalars(select(CreditScore).where(
            CreditScore.subject_id == subject_id, CreditScore.computed_at <= at).order_by(*NEWEST_FIRST)).first()

    # -- the schedule ------------------------------------------------------------------------------
    def at(self, moment, step, *args):
        """Schedule `step(*args)` at `moment` when it falls in the month being played."""
        if self.window.start < moment <= self.window.end:
            self._order += 1
            heapq.heappush(self._queue, (moment, self._order, step, args))

    def play(self, window):
        """Play one month: the stored things' next steps, the month's new needs, the daily and monthly rounds."""
        self.window = window
        self.refit_odds()
        self._plan_month()
        while self._queue:
            moment, _order, step, args = heapq.heappop(self._queue)
            with clock.frozen(moment):
                try:
                    step(moment, *args)
                    self.session.flush()  # every default timestamp is the step's moment
                except (InvalidInput, NotAllowed) as refusal:
                    # A step the platform refuses (a product retired meanwhile…) is left out, as a user's would be.
                    self.added["refused"] += 1
                    log.info("market simulation: %s refused at %s: %s", step.__name__, moment, refusal.message)

    def _plan_month(self):
        window = self.window
        day = beijing_day(window.start)
        while beijing(day, 18) <= window.end:
            self.at(beijing(day, 18), self.daily_round)
            day += timedelta(days=1)
        report_day = add_working_days_from(window.month.replace(day=5))
        self.at(beijing(report_day, 10), self.monthly_reports, window.month)
        self._plan_stored()
        self._plan_new_needs()

    def _sim_needs(self):
        return FinancingNeed.form_token.startswith(self.prefix)

    def _plan_stored(self):
        """The next step of every need, application and loan of this simulation that is not finished."""
        session = self.session
        for need in session.scalars(select(FinancingNeed).where(self._sim_needs(), FinancingNeed.status == "open")):
            self._plan_need(need)
        pending = PENDING_APPLICATION_STATUSES
        for application in session.scalars(select(Application).join(FinancingNeed).where(
                self._sim_needs(), Application.status.in_(pending)).order_by(Application.id)):
            self._plan_application(application)

    def _plan_new_needs(self):
        """Firms that post a need this month: each free firm by chance, at a moment of the month."""
        session, month = self.session, self.window.month
        busy_need = select(FinancingNeed.subject_id).where(FinancingNeed.status == "open")
        busy_loan = select(Loan.subject_id).where(Loan.status.in_(RUNNING_LOAN))
        acted_for = select(User.subject_id).where(User.subject_id.is_not(None), ~User.username.startswith("sim"))
        free = session.execute(select(CreditSubject.id, CreditSubject.kind).where(
            CreditSubject.status == "active", CreditSubject.id.not_in(busy_need), CreditSubject.id.not_in(busy_loan),
            CreditSubject.id.not_in(acted_for)).order_by(CreditSubject.id)).all()
        rng = self.rng("month", month.isoformat())
        draws = rng.random(len(free))
        days = (add_months(month, 1) - month).days
        offsets = rng.uniform(0, days, len(free))
        posting = []
        for (subject_id, kind), draw, offset in zip(free, draws, offsets, strict=True):
            moment = beijing(month + timedelta(days=int(offset)), 8 + (offset % 1) * 13)
            if draw < self.activity * POST_RATE.get(kind, 0.02) and self.window.start < moment <= self.window.end:
                posting.append(subject_id)
                self.at(moment, self.post_need, subject_id)
        if posting and self._scorer is not None:
            self.at(max(beijing(month, 2), self.window.start + timedelta(seconds=1)), self.score_applicants, posting)

    # -- the steps ---------------------------------------------------------------------------------
    def refit_odds(self):
        current_app.extensions.pop(market.CACHE_KEY, None)
        current_app.extensions.pop(market.TIMES_KEY, None)

    def daily_round(self, now):
        """What the platform's daily jobs do: offers past their last day expire, overdue applications escalate,
        the compliance rules flag what they find, list entries past their term leave their lists (and on Mondays the
        odds are refitted)."""
        if beijing_day(now).weekday() == REFIT_WEEKDAY:
            self.refit_odds()
        applications.expire_offers(self.session, now=now)
        response_clock.escalate_overdue(self.session, now)
        compliance_checks.run(self.session, now)
        lists.close_expired(self.session, beijing_day(now))

    def score_applicants(self, now, subject_ids):
        """Score the month's applicants as of its first day: the score their officers will see."""
        towns = town_codes(self.config["REGION_CODE"])
        as_of = data_as_of(self.session, today=local_date(now))
        self.added["scores"] += refresh_scores(self.session, self._scorer.bundle, towns, subject_ids, as_of=as_of)

    def post_need(self, now, subject_id):
        session = self.session
        subject = session.get(CreditSubject, subject_id)
        token = f"{self.prefix}{self.window.month:%Y%m}-{subject.id}"
        if needs.posted_with_token(session, subject.id, token) is not None:
            return
        rng = self.rng("need", token)
        kind = subject.kind
        wan = max(1, round(TYPICAL_WAN.get(kind, 20) * float(rng.lognormal(0, 0.6))))
        guarantee = rng.choice([g for g, _p in GUARANTEES], p=[p for _g, p in GUARANTEES])
        purpose = rng.choice(PURPOSES.get(kind, PURPOSES["enterprise"]))
        user = self.firm_user(subject)
        need = needs.post_need(session, subject, user, Decimal(wan) * 10000, int(rng.choice(TERMS)), str(purpose),
                               str(guarantee), form_token=token)
        matches.rematch_need(session, need)
        self.added["needs"] += 1
        self._plan_need(need)

    def _need_story(self, need):
        rng = self.rng("need-story", need.form_token)
        return {"apply_at": need.created_at + timedelta(hours=float(rng.uniform(1, 60))),
                "products": int(rng.choice([1, 1, 1, 2, 2, 3])),
                "give_up_at": need.created_at + timedelta(days=float(rng.uniform(45, 100))),
                "gives_up": bool(rng.random() < 0.6)}

    def _plan_need(self, need):
        story = self._need_story(need)
        if not self.applications_of(need):
            self.at(story["apply_at"], self.apply, need.id)
        if story["gives_up"]:
            self.at(story["give_up_at"], self.give_up, need.id)

    def apply(self, now, need_id):
        """The firm applies for its need's best-fitting eligible products, with consent."""
        session = self.session
        need = session.get(FinancingNeed, need_id)
        if need.status != "open" or self.applications_of(need):
            return
        story = self._need_story(need)
        eligible = session.scalars(select(Match.product_id).where(Match.need_id == need.id, Match.eligible.is_(True))
                                   .order_by(Match.fit.desc(), Match.product_id).limit(story["products"])).all()
        user = self.firm_user(need.subject)
        for product_id in eligible:
            product = session.get(Product, product_id)
            application = applications.apply(session, need, product, user, True, now=now)
            self.added["applications"] += 1
            admin = self.admins.get(application.institution_id)
            if admin is not None:
                officers = self.officers[application.institution_id]
                officer = session.get(User, officers[int(self.rng("assign", need.form_token, product_id)
                                                          .integers(len(officers)))])
                queues.assign(session, application, officer, session.get(User, admin))
            self._plan_application(application)

    def give_up(self, now, need_id):
        """The firm withdraws a need that has not led to an accepted offer."""
        need = self.session.get(FinancingNeed, need_id)
        if need.status != "open" or self._taken(need):
            return
        applications.withdraw_need(self.session, need, now=now)

    # -- an application's story --------------------------------------------------------------------
    def _application_story(self, application):
        rng = self.rng("application", application.need.form_token, application.product_id)
        closes = response_clock.closes_at()
        created = application.created_at
        received = workdays.received_on(created, closes)
        limit = application.institution.response_limit_days or self.config["DEFAULT_RESPONSE_LIMIT_DAYS"]
        review_day = workdays.add_working_days(received, int(rng.integers(0, 2)))
        review_at = max(beijing(review_day, rng.uniform(9, 17)), created + timedelta(minutes=30))
        asks = bool(rng.random() < 0.18)
        ask_at = beijing(workdays.add_working_days(beijing_day(review_at), int(rng.integers(1, 3))), rng.uniform(9, 17))
        answer_wait = float(rng.uniform(1, 7))
        answers = bool(rng.random() < 0.88)
        answer_at = ask_at + timedelta(days=answer_wait if answers else 10)
        paused = workdays.paused_days(ask_at, answer_at, closes) if asks else 0
        taken = max(1, round(float(rng.lognormal(np.log(0.5 * limit + 0.3), 0.45))))
        decide_at = beijing(workdays.add_working_days(received, taken + paused), rng.uniform(9, 17.5))
        decide_at = max(decide_at, (answer_at if asks else review_at) + timedelta(hours=2))
        withdraws = bool(rng.random() < 0.03)
        withdraw_at = created + (decide_at - created) * float(rng.uniform(0.2, 0.9))
        return {
            "review_at": review_at, "asks": asks, "ask_at": ask_at, "answers": answers, "answer_at": answer_at,
            "decide_at": decide_at, "withdraws": withdraws, "withdraw_at": withdraw_at,
            "approve_u": float(rng.random()), "soft": float(rng.normal()), "amount_share": float(rng.uniform(0.6, 1)),
            "rate_noise": float(rng.normal(0, 0.1)), "respond_days": float(rng.uniform(0.5, 8)),
            "accept_u": float(rng.random()), "disburse_days": int(rng.integers(1, 8)),
            "repayment": str(rng.choice(list(REPAYMENT_METHODS), p=[0.5, 0.3, 0.2])),
            "reasons": int(rng.integers(1, 4)),
        }

    def _plan_application(self, application):
        story, status = self._application_story(application), application.status
        asked = any(e.to_status == "info_requested" for e in application.events)
        if status in ("submitted", "in_review", "info_requested") and story["withdraws"] and not asked:
            self.at(story["withdraw_at"], self.withdraw, application.id)
        if status == "submitted":
            self.at(story["review_at"], self.review, application.id)
        elif status == "in_review":
            if story["asks"] and not asked:
                self.at(story["ask_at"], self.ask, application.id)
            else:
                self.at(story["decide_at"], self.decide, application.id)
        elif status == "info_requested":
            self.at(story["answer_at"], self.answer if story["answers"] else self.withdraw, application.id)
        elif status == "approved":
            self.at(application.decided_at + timedelta(days=story["respond_days"]), self.respond, application.id)
        elif status == "offer_accepted":
            accepted = application.events[-1].at
            day = workdays.add_working_days(beijing_day(accepted), story["disburse_days"])
            self.at(max(beijing(day, 10), accepted + timedelta(hours=1)), self.disburse, application.id)

    def _step(self, application_id, expected):
        """The application when it is still in one of the `expected` statuses (else its story moved on)."""
        application = self.session.get(Application, application_id)
        return application if application.status in expected else None

    def withdraw(self, now, application_id):
        application = self._step(application_id, ("submitted", "in_review", "info_requested"))
        if application is not None:
            applications.withdraw(application, self.firm_user(application.need.subject), now=now)

    def review(self, now, application_id):
        application = self._step(application_id, ("submitted",))
        if application is not None:
            applications.start_review(application, self.officer(application), now=now)
            self._plan_application(application)

    def ask(self, now, application_id):
        application = self._step(application_id, ("in_review",))
        if application is not None:
            applications.request_info(application, self.officer(application),
                                      "请补充近六个月的银行流水和主要购销合同。", now=now)
            self._plan_application(application)

    def answer(self, now, application_id):
        application = self._step(application_id, ("info_requested",))
        if application is not None:
            applications.answer_info_request(application, self.firm_user(application.need.subject),
                                             "已上传近六个月银行流水和两份购销合同。", now=now)
            self._plan_application(application)

    def decide(self, now, application_id):
        """The officer decides on what the platform shows (the score then) and what a visit tells (soft facts)."""
        application = self._step(application_id, ("in_review",))
        if application is None:
            return
        story, officer = self._application_story(application), self.officer(application)
        score = self.score_at(application.subject_id, now)
        pd_seen = score.pd if score is not None else 2 * REFERENCE_PD
        kind = application.institution.kind
        odds = LENIENCY.get(kind, 0.5) - 1.1 * (_logit(pd_seen) - _logit(REFERENCE_PD)) - 0.5 * story["soft"]
        if story["approve_u"] < _sigmoid(odds):
            applications.approve(self.session, application, officer, self._offer(application, story, pd_seen, now),
                                 now=now)
            self._plan_application(application)
        else:
            applications.decline(self.session, application, officer, self._reasons(score, story), now=now)

    def _offer(self, application, story, pd_seen, now):
        product, need = application.product, application.need
        amount = max(Decimal(1000), (application.amount * Decimal(str(story["amount_share"])) / 1000)
                     .quantize(Decimal(1)) * 1000)
        position = min(1.0, max(0.0, _sigmoid(_logit(pd_seen) - _logit(REFERENCE_PD)) + story["rate_noise"]))
        rate = product.rate_min + (product.rate_max - product.rate_min) * Decimal(str(round(position, 2)))
        term = min(max(need.term_months, product.term_min_months), product.term_max_months)
        guarantee = need.guarantee if need.guarantee in product.guarantee_types else product.guarantee_types[0]
        return Offer(amount=min(amount, application.amount), rate=rate.quantize(Decimal("0.01")), term_months=term,
                     repayment=product.repayment if product.repayment in REPAYMENT_METHODS else story["repayment"],
                     guarantee=guarantee, valid_until=local_date(now) + timedelta(days=30),
                     collateral="" if guarantee == "credit" else "按合同约定提供")

    def _reasons(self, score, story):
        """One to three principal reasons: those of the firm's score that weigh against it, else the usual ones."""
        codes = []
        for reason in (score.reasons if score is not None else []):
            if reason.get("contribution", 0) <= 0:
                continue
            code = next((c for prefix, c in REASON_OF_FEATURE if reason["feature"].startswith(prefix)), None)
            if code and code not in codes:
                codes.append(code)
        codes = codes[:story["reasons"]] or ["collateral_insufficient"]
        return [c for c in codes if c in DECLINE_REASONS]

    def respond(self, now, application_id):
        """The firm takes the offer (unless another one of the need was taken), turns it down or lets it lapse."""
        application = self._step(application_id, ("approved",))
        if application is None or applications.offer_expired(application, now):
            return
        story, user = self._application_story(application), self.firm_user(application.need.subject)
        if self._taken(application.need) or (0.86 <= story["accept_u"] < 0.94):
            applications.decline_offer(self.session, application, user, now=now)
        elif story["accept_u"] < 0.86:
            applications.accept_offer(self.session, application, user, now=now)
            self._plan_application(application)

    def disburse(self, now, application_id):
        application = self._step(application_id, ("offer_accepted",))
        if application is None:
            return
        reference = f"S{self.seed}-{application.institution_id}-{application.id:07d}"
        loans.disburse(self.session, application, self.officer(application), application.approved_amount,
                       local_date(now), reference, now=now)
        self.added["loans"] += 1

    # -- loans -------------------------------------------------------------------------------------
    def monthly_reports(self, now, month):
        """Each running loan's report of the month before, from its drawn repayment path."""
        session = self.session
        reported = select(RepaymentOutcome.loan_id, func.max(RepaymentOutcome.month).label("month")).group_by(
            RepaymentOutcome.loan_id).subquery()
        due = session.execute(select(Loan, reported.c.month).outerjoin(reported, reported.c.loan_id == Loan.id)
                              .where(Loan.reference.startswith(f"S{self.seed}-"), Loan.status.in_(RUNNING_LOAN))
                              .order_by(Loan.id)).all()
        last = add_months(month, -1)
        for loan, latest in due:
            first = add_months(latest, 1) if latest is not None else month_of(loan.disbursed_on)
            report_month = first
            while report_month <= last and loan.status in RUNNING_LOAN:
                self._report(loan, report_month, now)
                report_month = add_months(report_month, 1)

    def _report(self, loan, month, now):
        index = (month.year - loan.disbursed_on.year) * 12 + month.month - loan.disbursed_on.month
        path = self.repayment_path(loan)
        days_past_due, balance, declared = path[min(index, len(path) - 1)]
        officer = self.session.get(User, loan.recorded_by_id) if loan.recorded_by_id else None
        officer = officer if officer is not None and officer.active else self.session.get(
            User, self.officers[loan.institution_id][0])
        loans.record_month(self.session, loan, officer, month, days_past_due, balance, declared, now=now)
        self.added["reports"] += 1

    def repayment_path(self, loan):
        """(days past due, balance in 元, declared outcome) for each month from the disbursement's, drawn once
        per loan from its hidden default probability."""
        cache = getattr(self, "_paths", None)
        if cache is None:
            cache = self._paths = {}
        if loan.id in cache:
            return cache[loan.id]
        rng = self.rng("loan", loan.reference)
        subject = loan.application.need.subject if loan.application else self.session.get(CreditSubject,
                                                                                         loan.subject_id)
        score = self.score_at(loan.subject_id, datetime.combine(loan.disbursed_on, time(23)))
        pd_life = self.hidden.lifetime_pd(subject.identifier, score.pd if score else None, loan.disbursed_on,
                                          loan.term_months, loan.institution.kind, float(rng.normal()))
        path = repayment_path(rng, loan.principal, loan.annual_rate, loan.term_months, loan.repayment, pd_life)
        cache[loan.id] = path
        return path


def repayment_path(rng, principal, annual_rate, term, method, pd_life):
    """Month by month from the disbursement month (index 0): (days past due, balance 元, declared outcome).

    A loan that defaults misses a payment in a month drawn over its term, then falls 30 days further
    behind each month; past 90 days the lender declares the default and some months later writes it
    off, unless the firm pays it all back. A quarter of the loans that miss a payment catch up within
    a month or two. Others are a few days late now and then; a few are repaid early; the rest are
    repaid at maturity.
    """
    principal = float(principal)
    monthly = float(annual_rate) / 1200
    defaults = rng.random() < pd_life
    miss_at = 1 + int(rng.beta(1.5, 2.5) * term)
    cures = defaults and rng.random() < 0.25
    cure_after = int(rng.integers(1, 3))
    recovers = rng.random() < 0.1
    written_after = int(rng.integers(4, 9))
    early = int(rng.integers(3, term)) if term > 3 and rng.random() < 0.05 else None
    wobble = min(0.12, 1.5 * pd_life)
    path, balance, declared_at = [], principal, None
    for k in range(term + 24):
        if k > 0 and not (defaults and k >= miss_at and not cures):
            balance = _amortised(principal, monthly, term, method, k)
        behind = defaults and k >= miss_at and not (cures and k >= miss_at + cure_after)
        if behind:
            days = 30 * (k - miss_at) + int(rng.integers(5, 29))
            if declared_at is None and days > 90:
                declared_at = k
            if declared_at is not None and k >= declared_at + written_after:
                if recovers:
                    path.append((0, Decimal(0), None))
                else:
                    path.append((days, _yuan(balance), "written_off"))
                break
            path.append((days, _yuan(balance), "defaulted" if declared_at is not None else None))
            continue
        if k >= term or (early is not None and k >= early):
            path.append((0, Decimal(0), None))
            break
        days = int(rng.integers(1, 21)) if k > 0 and rng.random() < wobble else 0
        path.append((days, _yuan(balance), None))
    return path


def _amortised(principal, monthly, term, method, k):
    """The balance after k monthly payments."""
    if method == "equal_principal":
        return principal * (1 - k / term)
    if method == "bullet":
        return principal if k < term else 0.0
    if monthly == 0:
        return principal * (1 - k / term)
    growth = (1 + monthly) ** k
    return principal * ((1 + monthly) ** term - growth) / ((1 + monthly) ** term - 1)


def _yuan(value):
    return Decimal(str(round(max(0.0, value), 2)))


def add_working_days_from(day):
    """`day` when it is a working day, else the next one."""
    return day if workdays.is_working_day(day) else workdays.add_working_days(day, 1)


def windows(first_at, begin, until):
    """The months of the replay from `first_at`, each clipped to steps after `begin` up to `until`."""
    month = month_of(beijing_day(first_at))
    while beijing(month, 0) < until:
        end = min(beijing(add_months(month, 1), 0), until)
        start = max(beijing(month, 0), begin)
        if end > start:
            yield Window(month, start, end)
        month = add_months(month, 1)


def simulate(session, seed, months, until=None, truth_path=None, activity=1.0, on_month=None):
    """Replay the market of `seed` over the `months` months up to `until` (default: now); a part
    replayed before is not replayed again. `activity` multiplies how often firms post needs (a small
    district made busy). Commits each month; returns the figures."""
    if not (0 <= seed <= MAX_SEED):
        raise InvalidInput(f"seed 0–{MAX_SEED}", "seed")
    if not (1 <= months <= MAX_MONTHS):
        raise InvalidInput(f"months 1–{MAX_MONTHS}", "months")
    if not (0 < activity <= MAX_ACTIVITY):
        raise InvalidInput(f"activity 0–{MAX_ACTIVITY}", "activity")
    started = timer.perf_counter()
    until = until or clock.utcnow()
    first_at = beijing(add_months(month_of(beijing_day(until)), 1 - months), 0)
    record = session.scalar(select(MarketSimulation).where(MarketSimulation.seed == seed))
    if record is None:
        record = MarketSimulation(seed=seed, first_at=first_at, simulated_until=first_at)
        session.add(record)
        session.flush()
    begin = record.simulated_until
    replay = Replay(session, seed, truth_path, activity) if begin < until else None
    config = current_app.config
    live_refresh, config["MATCH_ODDS_REFRESH_SECONDS"] = config["MATCH_ODDS_REFRESH_SECONDS"], 10 ** 9
    try:
        for window in windows(min(record.first_at, first_at), begin, until) if replay else ():
            replay.play(window)
            record.simulated_until = window.end
            session.commit()
            if on_month is not None:
                on_month(window, replay.added)
        if replay is not None:
            refresh_statistics(session, *MARKET_TABLES)
        session.commit()
    finally:
        config["MATCH_ODDS_REFRESH_SECONDS"] = live_refresh
        if replay is not None:
            replay.refit_odds()
    return summary(session, seed, record, replay.added if replay else None, timer.perf_counter() - started)


def summary(session, seed, record, added, seconds):
    """The simulated market's counts per status (needs, applications, loans) and what this run added."""
    prefix = f"s{seed}-"
    own = FinancingNeed.form_token.startswith(prefix)
    need_counts = dict(session.execute(select(FinancingNeed.status, func.count()).where(own)
                                       .group_by(FinancingNeed.status)).all())
    application_counts = dict(session.execute(select(Application.status, func.count()).join(FinancingNeed)
                                              .where(own).group_by(Application.status)).all())
    loan_counts = dict(session.execute(select(Loan.status, func.count()).where(
        Loan.reference.startswith(f"S{seed}-")).group_by(Loan.status)).all())
    reports = session.scalar(select(func.count(RepaymentOutcome.id)).join(Loan).where(
        Loan.reference.startswith(f"S{seed}-")))
    return {
        "seed": seed, "from": record.first_at.isoformat(), "until": record.simulated_until.isoformat(),
        "added": added or {"needs": 0, "applications": 0, "loans": 0, "reports": 0, "scores": 0, "refused": 0},
        "needs": {s: need_counts.get(s, 0) for s in NEED_STATUSES},
        "applications": {s: application_counts.get(s, 0) for s in APPLICATION_STATUSES},
        "loans": {s: loan_counts.get(s, 0) for s in LOAN_STATUSES},
        "repayment_reports": reports, "seconds": round(seconds, 1),
    }
