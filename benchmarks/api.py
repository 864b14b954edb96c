"""Benchmark of the token API on PostgreSQL (docs/api.md): decisions recorded per second through the API,
and the applicant-profile call's p50/p95 against the same service called in process.

A bank with APPLICATIONS submitted applications (each firm scored, with three reasons, under a consent in
force) is built on a fresh scratch database; requests go through the Flask test client in this process
(the whole WSGI stack: token, scope, rate limit, parsing, idempotency, problem handling), each decision
as `review` then `approve` or `decline` with an Idempotency-Key.

    python -m benchmarks.api [--quick] [--database-url URL]
"""
import argparse
import json
import os
import statistics
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import insert, select, text

from app.common.dates import local_date
from app.entities import (
    Application,
    ApplicationEvent,
    Consent,
    CreditScore,
    CreditSubject,
    FinancingNeed,
    Institution,
    ModelVersion,
    Product,
    User,
)
from app.entities.base import utcnow
from app.extensions import db
from app.services import api_tokens, scores
from benchmarks.market import bench_app
from benchmarks.scoring import BenchDatabase

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/h_api_bench"
SIZES = {"full": (2_000, 1_000, 400), "quick": (200, 100, 100)}  # applications, decisions, profile calls
REASONS = ("si_insured_change_6m", "tax_late_filings_12m", "util_late_12m")


def build_bank(session, count, now):
    """An institution with an admin, a product and `count` scored applicants' submitted applications."""
    bank = Institution(name="基准银行", kind="bank")
    session.add(bank)
    session.flush()
    admin = User(username="bench_admin", display_name="基准", role="lender_admin", institution_id=bank.id,
                 password_hash="!")
    product = Product(institution_id=bank.id, name="基准贷", amount_min=Decimal(10_000), amount_max=Decimal(2_000_000),
                      term_min_months=3, term_max_months=36, rate_min=Decimal("3.85"), rate_max=Decimal(6),
                      guarantee_types=["credit"], status="published", published_at=now)
    model = ModelVersion(version="bench", path="-", sha256="0" * 64)
    session.add_all([admin, product, model])
    session.flush()
    subject_ids = session.scalars(insert(CreditSubject).returning(CreditSubject.id), [
        {"kind": "enterprise", "name": f"基准企业{i}", "town_code": "610203100", "created_at": now}
        for i in range(count)]).all()
    reasons = [{"feature": f, "value": 1, "contribution": 0.2, "zh": f, "en": f} for f in REASONS]
    session.execute(insert(CreditScore), [
        {"subject_id": s, "model_version_id": model.id, "pd": 0.03, "score": 640, "grade": "B", "reasons": reasons,
         "completeness": {}, "data_as_of": date(2026, 11, 30), "computed_at": now} for s in subject_ids])
    need_ids = session.scalars(insert(FinancingNeed).returning(FinancingNeed.id), [
        {"subject_id": s, "amount": Decimal(500_000), "term_months": 12, "purpose": "设备", "guarantee": "credit",
         "status": "open", "urgency": "normal"} for s in subject_ids]).all()
    consent_ids = session.scalars(insert(Consent).returning(Consent.id), [
        {"subject_id": s, "institution_id": bank.id, "purpose_code": "underwriting", "purpose_text": "贷前审核",
         "data_categories": ["tax"], "valid_from": now - timedelta(minutes=1), "valid_to": now + timedelta(days=30),
         "status": "active", "fetch_frequency": "once", "data_life_days": 30} for s in subject_ids]).all()
    application_ids = session.scalars(insert(Application).returning(Application.id), [
        {"need_id": n, "product_id": product.id, "subject_id": s, "institution_id": bank.id, "consent_id": c,
         "amount": Decimal(500_000), "term_months": 12, "status": "submitted", "version": 1, "created_at": now}
        for s, n, c in zip(subject_ids, need_ids, consent_ids, strict=True)]).all()
    session.execute(insert(ApplicationEvent), [{"application_id": a, "to_status": "submitted", "at": now}
                                               for a in application_ids])
    return admin, application_ids


def _percentiles(seconds):
    ms = sorted(s * 1000 for s in seconds)
    return round(statistics.median(ms), 2), round(ms[int(0.95 * (len(ms) - 1))], 2)


def _decide(client, headers, application_id, approve):
    """Review and decide one application through the API; True when both steps were recorded."""
    base = f"/api/v1/applications/{application_id}"
    reviewed = client.post(base + "/review", json={}, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    body = ({"amount_wan": 40, "rate": 4.5, "term_months": 12, "repayment": "annuity", "guarantee": "credit",
             "valid_until": (local_date() + timedelta(days=10)).isoformat()} if approve
            else {"reasons": ["debt_too_high"]})
    decided = client.post(base + ("/approve" if approve else "/decline"), json=body,
                          headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    return reviewed.status_code == decided.status_code == 200


def _timed_profiles(app, client, headers, admin, chosen):
    """Seconds of each profile call through the API and of the same service called in process, the two
    alternating so that both meet the same load of the machine."""
    for application_id in chosen[:20]:  # warm-up: connections, caches
        client.get(f"/api/v1/applications/{application_id}/profile", headers=headers)
    api_times, service_times = [], []
    for application_id in chosen:
        start = time.perf_counter()
        response = client.get(f"/api/v1/applications/{application_id}/profile", headers=headers)
        api_times.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"profile call refused: {response.get_json()}")
        start = time.perf_counter()
        scores.api_profile(db.session, db.session.get(Application, int(application_id)), admin)
        db.session.commit()
        service_times.append(time.perf_counter() - start)
    return api_times, service_times


def measure(app, admin, application_ids, decisions, profiles, rng):
    """Time `profiles` profile calls (API and in process) and `decisions` decisions through the API."""
    _token, plain = api_tokens.create(db.session, admin, admin, "基准",
                                      ["applications:read", "profiles:read", "decisions:write"], 30)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    client = app.test_client()
    api_times, service_times = _timed_profiles(app, client, headers, admin,
                                               rng.choice(application_ids, size=profiles))
    to_decide = application_ids[-decisions:]
    start = time.perf_counter()
    recorded = sum(_decide(client, headers, a, approve=i % 2 == 0) for i, a in enumerate(to_decide))
    decide_s = time.perf_counter() - start
    decided = db.session.scalar(select(db.func.count()).select_from(Application)
                                .where(Application.status.in_(("approved", "declined"))))
    api_p50, api_p95 = _percentiles(api_times)
    service_p50, service_p95 = _percentiles(service_times)
    return {"applications": len(application_ids), "decisions": recorded, "decided_in_db": decided,
            "decisions_s": round(decide_s, 2), "decisions_per_s": round(recorded / decide_s, 1),
            "requests_per_decision": 2, "profile_calls": profiles, "profile_api_p50_ms": api_p50,
            "profile_api_p95_ms": api_p95, "profile_service_p50_ms": service_p50,
            "profile_service_p95_ms": service_p95, "profile_p95_ratio": round(api_p95 / service_p95, 2),
            "profile_goal_ms": 50, "profile_goal_met": api_p95 <= 50}


def run(url, count, decisions, profiles):
    """Build the bank on a fresh `url` (dropped afterwards) and measure; the figures."""
    database = BenchDatabase(url)
    app = bench_app(database.fresh())
    try:
        with app.app_context():
            admin, application_ids = build_bank(db.session, count, utcnow())
            db.session.commit()
            db.session.execute(text("ANALYZE"))  # the planner's statistics of the bulk-written tables, as after a load
            db.session.commit()
            figures = measure(app, admin, application_ids, decisions, profiles, np.random.default_rng(15))
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()
    return {"database": "postgresql", **figures}


def main(argv=None):
    """Run the benchmark; JSON figures on the last line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.database_url, *SIZES["quick" if args.quick else "full"]), ensure_ascii=False))


if __name__ == "__main__":
    main()
