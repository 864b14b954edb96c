"""Benchmark of the compliance run and the lender scoreboard on a large market (docs/compliance.md).

The market is the work queue's (benchmarks/market.py): a bank with OPEN open applications among DECIDED
decided ones of eight institutions, plus an offer on every approval and a 查询记录 entry per application,
some of them outside their consent. Times: the first compliance run (everything is new), a daily run
(nothing new), the regulator's scoreboard, and the firms' public summary (uncached).

    python -m benchmarks.compliance [--quick] [--database-url URL]
"""
import argparse
import json
import os
import time
from datetime import timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import insert, select, update

from app.common.vocab import APPROVED_STATUSES
from app.entities import Application, DataAccessLog
from app.entities.base import utcnow
from app.extensions import db
from app.services import compliance_checks, scoreboard
from benchmarks.market import bench_app, build_queue_market
from benchmarks.scoring import BenchDatabase

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_compliance"
SIZES = {"full": (5_000, 20_000), "quick": (500, 2_000)}


def _offers_and_views(session, rng):
    """Offers on every approval (rates 4–30 %, no APR disclosed) and a view per application (5 % outside
    its consent: a year after it ended)."""
    approved = session.scalars(select(Application.id).where(Application.status.in_(APPROVED_STATUSES))).all()
    rates = rng.uniform(4, 30, len(approved)).round(2)
    for ids, rate in zip(np.array_split(np.array(approved), 20), np.array_split(rates, 20), strict=True):
        for application_id, value in zip(ids.tolist(), rate.tolist(), strict=True):
            session.execute(update(Application).where(Application.id == application_id).values(
                approved_rate=Decimal(str(value)), approved_term_months=12, approved_repayment="annuity"))
    rows = session.execute(select(Application.id, Application.subject_id, Application.institution_id,
                                  Application.consent_id, Application.created_at)).all()
    late = rng.random(len(rows)) < 0.05
    session.execute(insert(DataAccessLog.__table__), [
        {"subject_id": r.subject_id, "institution_id": r.institution_id, "consent_id": r.consent_id,
         "purpose": "underwriting", "what": f"application:{r.id}",
         "at": r.created_at + timedelta(days=400 if out else 1)} for r, out in zip(rows, late, strict=True)])
    return int(late.sum())


def _timed(step):
    start = time.perf_counter()
    value = step()
    return value, round(time.perf_counter() - start, 3)


def run(url, open_count, decided_count):
    """Build the market on `url` (emptied first) and time the run and the scoreboard; the figures."""
    database = BenchDatabase(url)
    app = bench_app(database.fresh())
    try:
        with app.app_context():
            rng = np.random.default_rng(14)
            build_queue_market(db.session, rng, open_count, decided_count, utcnow())
            outside = _offers_and_views(db.session, rng)
            db.session.commit()
            first, first_s = _timed(lambda: compliance_checks.run(db.session))
            db.session.commit()
            daily, daily_s = _timed(lambda: compliance_checks.run(db.session))
            db.session.rollback()
            per_rule = {code: _timed(lambda search=search: search(db.session, {}, utcnow()))[1]
                        for code, search in compliance_checks.SEARCHES.items() if code != "apr_cap"}
            cards, board_s = _timed(lambda: scoreboard.scoreboard(db.session))
            _summaries, summary_s = _timed(lambda: scoreboard.public_summaries(db.session))
            _csv, csv_s = _timed(lambda: scoreboard.to_csv(cards))
            db.session.remove()
            db.engine.dispose()
    finally:
        database.drop()
    return {"open": open_count, "decided": decided_count, "views_outside_consent": outside,
            "first_run_s": first_s, "first_run_new": first["new"], "daily_run_s": daily_s,
            "daily_run_new": sum(daily["new"].values()),
            "daily_rule_s": per_rule, "scoreboard_s": board_s, "public_summary_s": summary_s,
            "csv_s": csv_s, "institutions": len(cards)}


def main(argv=None):
    """Run the benchmark; JSON figures on the last line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.database_url, *SIZES["quick" if args.quick else "full"]), ensure_ascii=False))


if __name__ == "__main__":
    main()
