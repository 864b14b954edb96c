"""The regulator's dashboard on a large market, on PostgreSQL: `python -m benchmarks.regulator [--quick]`.

Into a fresh database (`bench_regulator`, or `--database-url` / BENCH_DATABASE_URL whose name contains
"bench"; dropped at the end) it writes with bulk inserts a 24-month market of 20,000 firms (`--quick`: 2,000)
of every kind, size, town and industry: about 0.75 needs a firm over the 24 months, 0–2 applications a need to
eight institutions' products, decided ones approved or declined with terms, loans of the disbursed ones in
every status, stored matches (eligible for most open needs, failed rules for the others). Then `GET
/regulator/?by=…` for every breakdown through the Flask test client, logged in as the regulator:

- warm: the figures kept on the app (as between two changes of the market, MATCH_ODDS_REFRESH_SECONDS), so a
  view reads the counters, unmet demand and the institutions' table, and groups the kept frames;
- changing: the market changes before every view (a need is posted) and is checked at every view, with the
  production setting DASHBOARD_BACKGROUND_REFRESH: a view gets the kept figures while a thread of the same process
  reads the market again, one reading after another as long as the market keeps changing (the readings done are
  counted);
- cold: the kept figures dropped before each request, so every view reads the whole market itself (a process's
  first view; with DASHBOARD_BACKGROUND_REFRESH off, every first view after the market changed).

p50 / p95 / max in ms per mode against the same views of a market one tenth the size in the same run. Goal
(issue #14): p95 ≤ 300 ms for the dashboard, checked on the views of a running server (warm and changing) and, on
its own, on the reading of the whole market (cold). The last line printed is one JSON object; progress on stderr.
"""
import argparse
import json
import os
import time
from datetime import timedelta
from decimal import Decimal

import numpy as np
from flask import current_app
from sqlalchemy import func, insert, select

from app.common.dates import add_months
from app.common.region import town_codes
from app.common.vocab import INSTITUTION_KINDS, SUBJECT_KINDS
from app.config import Config
from app.entities import Application, Consent, CreditSubject, FinancingNeed, Institution, Loan, Match, Product, User
from app.entities.base import utcnow
from app.extensions import db
from app.services import market_figures
from benchmarks.ingest import say
from benchmarks.market import _insert, bench_app, logged_in, vacuum
from benchmarks.scoring import BenchDatabase

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_regulator"
GOAL_P95_MS = 300
SIZES, QUICK_SIZES = 20_000, 2_000
BASELINE_SHARE = 10
MONTHS = 24
INSTITUTIONS, PRODUCTS_EACH = 8, 4
SIZE_CLASSES = ("micro", "small", "medium", None)
INDUSTRIES = ("0111", "0511", "1391", "3074", "3311", "4720", "5211", "6110", "7212", None)
OPEN_WINDOW_DAYS = 14
# Decided applications: status → share (loans follow the loan statuses).
DECIDED = {"declined": 0.35, "approved": 0.05, "offer_declined": 0.06, "expired": 0.04, "disbursed": 0.08,
           "repaying": 0.22, "repaid": 0.14, "overdue": 0.03, "defaulted": 0.02, "written_off": 0.01}
OPEN = ("submitted", "in_review", "info_requested")
LOANS = ("disbursed", "repaying", "repaid", "overdue", "defaulted", "written_off")
APPROVED = ("approved", "offer_declined", "expired", *LOANS)
ROUNDS, QUICK_ROUNDS = 15, 5


def build_market(session, rng, firms, now):
    """The market of `firms` firms over MONTHS months, written with bulk inserts; its row counts."""
    institutions = _insert(session, Institution, [
        {"name": f"监测机构{k}", "kind": str(INSTITUTION_KINDS[k % len(INSTITUTION_KINDS)]), "response_limit_days": 3,
         "active": True} for k in range(INSTITUTIONS)])
    products = _insert(session, Product, [
        {"institution_id": i, "name": f"监测贷{i}-{k}", "amount_min": Decimal(10_000), "amount_max": Decimal(3_000_000),
         "term_min_months": 3, "term_max_months": 36, "rate_min": Decimal("3.850"), "rate_max": Decimal("15.000"),
         "guarantee_types": ["credit", "guarantor"], "upfront_fee_pct": Decimal(k % 2), "status": "published",
         "published_at": now - timedelta(days=800)} for i in institutions for k in range(PRODUCTS_EACH)])
    product_institution = {p: institutions[n // PRODUCTS_EACH] for n, p in enumerate(products)}
    towns, kinds = town_codes(Config.REGION_CODE), list(SUBJECT_KINDS)
    subjects = _insert(session, CreditSubject, [
        {"kind": str(rng.choice(kinds)), "name": f"监测企业{k}", "town_code": str(rng.choice(towns)),
         "industry_code": INDUSTRIES[int(rng.integers(len(INDUSTRIES)))],
         "size_class": SIZE_CLASSES[int(rng.integers(len(SIZE_CLASSES)))], "status": "active"} for k in range(firms)])
    need_count = firms * 3 // 4
    posted = [now - timedelta(days=float(d)) for d in rng.uniform(0, MONTHS * 30.4, need_count)]
    owners = rng.choice(subjects, need_count).tolist()
    amounts = (rng.integers(5, 300, need_count) * 10_000).tolist()
    applied = rng.choice([0, 1, 2], need_count, p=[0.3, 0.5, 0.2]).tolist()
    needs = _insert(session, FinancingNeed, [
        {"subject_id": s, "amount": Decimal(a), "term_months": 12, "purpose": "流动资金", "guarantee": "credit",
         "status": "open" if (now - p).days < 60 else "closed", "created_at": p}
        for s, a, p in zip(owners, amounts, posted, strict=True)])
    rows = []
    for need, subject, amount, at, count in zip(needs, owners, amounts, posted, applied, strict=True):
        for product in rng.choice(products, count, replace=False).tolist():
            recent = (now - at).days < OPEN_WINDOW_DAYS
            status = str(rng.choice(OPEN)) if recent else str(rng.choice(list(DECIDED), p=list(DECIDED.values())))
            approved = status in APPROVED
            rows.append({"need_id": need, "subject_id": subject, "product_id": product,
                         "institution_id": product_institution[product], "status": status,
                         "amount": Decimal(amount), "term_months": 12, "created_at": at + timedelta(hours=5),
                         "decided_at": None if recent else at + timedelta(days=float(rng.uniform(1, 6))),
                         "approved_amount": Decimal(amount * 4 // 5) if approved else None,
                         "approved_rate": Decimal(str(round(float(rng.uniform(3.5, 15)), 2))) if approved else None,
                         "approved_term_months": 12 if approved else None,
                         "approved_repayment": "annuity" if approved else None,
                         "approved_guarantee": str(rng.choice(["credit", "guarantor"])) if approved else None})
    consents = _insert(session, Consent, [
        {"subject_id": r["subject_id"], "institution_id": r["institution_id"], "purpose_code": "underwriting",
         "purpose_text": "贷前审核", "data_categories": ["credit_score"], "valid_from": r["created_at"],
         "valid_to": r["created_at"] + timedelta(days=365), "created_at": r["created_at"]} for r in rows])
    applications = _insert(session, Application, [{**r, "consent_id": c} for r, c in zip(rows, consents, strict=True)])
    loans = [{"application_id": a, "subject_id": r["subject_id"], "institution_id": r["institution_id"],
              "reference": f"JC-{a}", "principal": r["approved_amount"], "annual_rate": r["approved_rate"],
              "term_months": 12, "repayment": "annuity", "disbursed_on": (r["decided_at"] + timedelta(days=3)).date(),
              "maturity_on": add_months((r["decided_at"] + timedelta(days=3)).date(), 12), "status": r["status"]}
             for a, r in zip(applications, rows, strict=True) if r["status"] in LOANS]
    if loans:
        session.execute(insert(Loan.__table__), loans)
    open_needs = [n for n, p in zip(needs, posted, strict=True) if (now - p).days < 60]
    matches = []
    for need in open_needs:
        fits = rng.random() < 0.7
        for product in rng.choice(products, 4, replace=False).tolist():
            matches.append({"need_id": need, "product_id": product, "eligible": fits, "failed_count": 0 if fits else 1,
                            "rule_results": [{"rule": str(rng.choice(["amount", "term", "guarantee"])),
                                              "passed": fits}], "computed_at": now})
    if matches:
        session.execute(insert(Match.__table__), matches)
    return {"firms": firms, "needs": len(needs), "applications": len(applications), "loans": len(loans),
            "matches": len(matches)}


def post_need(session):
    """A copy of the newest need, committed: the market changed."""
    columns = [column for column in FinancingNeed.__table__.columns if column.name != "id"]
    newest = select(func.max(FinancingNeed.id)).scalar_subquery()
    session.execute(insert(FinancingNeed).from_select([c.name for c in columns],
                                                      select(*columns).where(FinancingNeed.id == newest)))
    session.commit()


def time_dashboard(client, rounds, mode):
    """Every breakdown of the dashboard `rounds` times after a warm-up: p50, p95 and max in ms."""
    urls = [f"/regulator/?by={segment}" for segment in market_figures.SEGMENTS]
    for url in urls:
        assert client.get(url).status_code == 200, url
    seconds, readings, read_at = [], 0, market_figures.frames(db.session).read_at
    for _ in range(rounds):
        for url in urls:
            if mode == "cold":
                current_app.extensions.pop(market_figures.FIGURES_KEY, None)
            elif mode == "changing":
                post_need(db.session)
            started = time.perf_counter()
            response = client.get(url)
            seconds.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
            kept = current_app.extensions[market_figures.FIGURES_KEY][1].read_at
            readings, read_at = readings + (kept != read_at), kept
    figures = {"p50_ms": round(float(np.percentile(seconds, 50)), 1),
               "p95_ms": round(float(np.percentile(seconds, 95)), 1), "max_ms": round(max(seconds), 1),
               "requests": len(seconds)}
    if mode == "changing":
        assert market_figures.wait_for_refresh(current_app, timeout=60)
        figures["background_readings_seen"] = readings
    return figures


def measure(url, firms, rounds, seed=5):
    """Write the market of `firms` firms into `url`'s fresh database and time the dashboard on it."""
    app = bench_app(url)
    app.config["MATCH_ODDS_REFRESH_SECONDS"] = 3600
    with app.app_context():
        started = time.perf_counter()
        counts = build_market(db.session, np.random.default_rng(seed), firms, utcnow())
        regulator = _insert(db.session, User, [{"username": "regulator", "display_name": "区金融办",
                                                "role": "regulator", "password_hash": "-", "active": True}])[0]
        db.session.commit()
        vacuum(db.engine)
        say(f"regulator: market of {firms:,} firms written in {time.perf_counter() - started:.1f} s: {counts}")
        client = logged_in(app, db.session.get(User, regulator))
        with app.test_request_context():
            warm = time_dashboard(client, rounds, "warm")
            app.config.update(DASHBOARD_BACKGROUND_REFRESH=True, MATCH_ODDS_REFRESH_SECONDS=0)
            changing = time_dashboard(client, rounds, "changing")
            app.config.update(DASHBOARD_BACKGROUND_REFRESH=False)
            cold = time_dashboard(client, max(rounds // 3, 2), "cold")
        frames = market_figures.frames(db.session)
        counts["frames_rows"] = len(frames.needs) + len(frames.applications) + len(frames.loans)
        db.session.remove()
        db.engine.dispose()
    say(f"regulator: {firms:,} firms: warm {warm}, changing {changing}, cold {cold}")
    return counts, warm, changing, cold


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 firms against 200 (under a minute)")
    parser.add_argument("--firms", type=int, help=f"firms of the market (default {SIZES:,})")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    firms = args.firms or (QUICK_SIZES if args.quick else SIZES)
    rounds = QUICK_ROUNDS if args.quick else ROUNDS
    database = BenchDatabase(args.database_url)
    results = {}
    try:
        for name, size in (("market", firms), ("baseline", max(firms // BASELINE_SHARE, 100))):
            results[name] = measure(database.fresh(), size, rounds)
    finally:
        database.drop()
    (counts, warm, changing, cold), (base_counts, base_warm, base_changing, base_cold) = \
        results["market"], results["baseline"]
    served = max(warm["p95_ms"], changing["p95_ms"])
    print(json.dumps({
        "dashboard_market": counts, "dashboard_baseline_market": base_counts, "dashboard_months": MONTHS,
        "dashboard_warm": warm, "dashboard_changing": changing, "dashboard_cold": cold,
        "dashboard_baseline_warm": base_warm, "dashboard_baseline_changing": base_changing,
        "dashboard_baseline_cold": base_cold,
        "dashboard_warm_p95_ratio": round(warm["p95_ms"] / max(base_warm["p95_ms"], 1e-9), 2),
        "dashboard_changing_p95_ratio": round(changing["p95_ms"] / max(base_changing["p95_ms"], 1e-9), 2),
        "dashboard_cold_p95_ratio": round(cold["p95_ms"] / max(base_cold["p95_ms"], 1e-9), 2),
        "dashboard_goal_p95_ms": GOAL_P95_MS, "dashboard_goal_met": served <= GOAL_P95_MS,
        "dashboard_cold_goal_met": cold["p95_ms"] <= GOAL_P95_MS}, ensure_ascii=False))


if __name__ == "__main__":
    main()
