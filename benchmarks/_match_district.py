"""The platform's own matching path on a district in a temporary SQLite database (for benchmarks.matching).

The district: institutions, the given products (published), one open need per firm, and for each
firm what the rules read — registration, a latest credit score (80 %), black and red list entries,
monthly tax filings and social insurance records, a tax grade and court cases. Then, timed:
`flask matches refresh` (in this process, through Flask's CLI runner: facts from the database, the
engine, every Match row written, the run recorded), the engine alone on the same tables, and a firm's
need page service (`matches.evaluate_need`).
"""
import json
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from flask import current_app
from sqlalchemy import insert

from app import create_app
from app.common.region import current_region
from app.common.vocab import GUARANTEE_TYPES, INSTITUTION_KINDS, SUBJECT_KINDS
from app.entities import (
    CreditScore,
    CreditSubject,
    FinancingNeed,
    Institution,
    ListEntry,
    ModelVersion,
    Product,
    SourceBatch,
    SourceRecord,
)
from app.entities.base import utcnow
from app.extensions import db
from app.services import matches

INSTITUTIONS = 12
ONE_NEED_REPEATS = 50
INDUSTRY_CODES = tuple(f"{d:02d}{k:02d}" for d in range(1, 97) for k in range(10, 14))


def _month(day, back):
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _institutions_and_products(terms):
    institutions = [{"id": k, "name": f"基准机构{k}", "kind": INSTITUTION_KINDS[k % len(INSTITUTION_KINDS)],
                     "response_limit_days": 3, "active": True} for k in range(1, INSTITUTIONS + 1)]
    products = [{"id": j, "institution_id": (j - 1) % INSTITUTIONS + 1, "name": t.name, "description": "",
                 "amount_min": t.amount_min, "amount_max": t.amount_max, "term_min_months": t.term_min,
                 "term_max_months": t.term_max, "rate_min": t.rate_min, "rate_max": t.rate_max,
                 "guarantee_types": list(t.guarantee_types), "upfront_fee_pct": t.upfront_fee_pct,
                 "guarantee_fee_pct": t.guarantee_fee_pct, "repayment": t.repayment, "rules": t.rules, "version": 1,
                 "status": "published", "published_at": utcnow()} for j, t in enumerate(terms, start=1)]
    return institutions, products


def _firms(rng, count, today, towns):
    grades = tuple(current_app.config["CREDIT_GRADES"])
    subjects, scores, lists, needs = [], [], [], []
    for i in range(1, count + 1):
        subjects.append({"id": i, "kind": str(rng.choice(SUBJECT_KINDS, p=[0.5, 0.3, 0.05, 0.15])),
                         "name": f"基准企业{i}", "town_code": str(rng.choice(towns)),
                         "industry_code": None if rng.random() < 0.05 else str(rng.choice(INDUSTRY_CODES)),
                         "established_on": today - timedelta(days=int(rng.uniform(0, 30) * 365.25)),
                         "registered_capital": Decimal(int(rng.lognormal(4, 1)) * 10_000),
                         "size_class": str(rng.choice(["micro", "small", "medium"])), "status": "active"})
        if rng.random() < 0.8:
            level = int(rng.integers(0, len(grades)))
            scores.append({"subject_id": i, "model_version_id": 1, "grade": grades[level], "score": 700 - 50 * level,
                           "pd": (level + 1) * 0.02 * float(rng.uniform(0.5, 1.5)), "reasons": [], "completeness": {},
                           "data_as_of": today})
        for list_type, list_kind, share in (("black", "serious_dishonest", 0.02), ("red", "trustworthy", 0.05)):
            if rng.random() < share:
                lists.append({"subject_id": i, "list_kind": list_kind, "list_type": list_type, "list_name": "基准名单",
                              "basis": "-",
                              "reason": "-", "exit_conditions": "-", "listed_on": today, "status": "active"})
        needs.append({"id": i, "subject_id": i, "term_months": int(rng.choice([3, 6, 12, 18, 24, 36, 60])),
                      "amount": Decimal(int(np.clip(rng.lognormal(np.log(50), 1.0), 1, 5000) * 10_000)),
                      "purpose": "基准需求", "guarantee": str(rng.choice(GUARANTEE_TYPES, p=[0.5, 0.2, 0.2, 0.1])),
                      "max_rate": Decimal(int(rng.integers(5, 20))) if rng.random() < 0.4 else None,
                      "urgency": "normal", "status": "open"})
    return subjects, scores, lists, needs


def _records(rng, count, today):
    """The department records the rules read: tax filings, social insurance, tax grade, court cases."""
    records = []

    def record(i, source, period, payload):
        records.append({"subject_id": i, "source": source, "natural_key": f"{source}:{i}:{period}:{len(records)}",
                        "period": period, "payload": payload, "payload_hash": "0" * 16, "batch_id": 1,
                        "raw_row_number": len(records), "raw_row": ""})

    for i in range(1, count + 1):
        revenue = float(rng.lognormal(4.5, 1.2)) * 10_000 / 12
        for back in range(1, int(rng.integers(0, 16)) + 1):
            record(i, "tax_filing", _month(today, back), {"revenue": revenue, "arrears": 0.0})
        insured = int(rng.integers(0, 40))
        for back in range(1, int(rng.integers(0, 10)) + 1):
            record(i, "social_insurance", _month(today, back), {"insured": insured})
        if rng.random() < 0.7:
            record(i, "tax_grade", _month(today, 12), {"grade": str(rng.choice(list("ABMCD")))})
        if rng.random() < 0.03:
            record(i, "court_case", _month(today, 6), {"dishonest": True, "status": "open"})
    return records


def write_district(session, rng, need_count, terms):
    """Write the district (one open need per firm, the given products) and return its record count."""
    today, towns = utcnow().date(), [t["code"] for t in current_region()["towns"]]
    institutions, products = _institutions_and_products(terms)
    subjects, scores, lists, needs = _firms(rng, need_count, today, towns)
    records = _records(rng, need_count, today)
    session.execute(insert(ModelVersion), [{"id": 1, "version": "bench", "path": "-", "sha256": "0" * 64}])
    session.execute(insert(SourceBatch), [{"id": 1, "source": "bench", "file_name": "bench", "status": "loaded",
                                           "file_sha256": "0" * 64}])
    for entity, rows in ((Institution, institutions), (Product, products), (CreditSubject, subjects),
                         (CreditScore, scores), (ListEntry, lists), (SourceRecord, records), (FinancingNeed, needs)):
        if rows:
            session.execute(insert(entity), rows)
    return len(records)


def _engine_alone(session):
    """The facts of every open need read from the database, then the engine alone on them: (facts s, engine s)."""
    started = time.perf_counter()
    catalogue = matches.Catalogue(session)
    ntable = catalogue.need_table(matches.open_needs(session))
    _market = catalogue.market  # fitted here, not in the engine's time
    facts_s = time.perf_counter() - started
    started = time.perf_counter()
    for _chunk in catalogue.screen(ntable):
        pass
    return facts_s, time.perf_counter() - started


def _need_page_ms(session, rng):
    """p50 of `matches.evaluate_need` (facts, tables, market, engine, every rule's result) on sampled needs."""
    needs = matches.open_needs(session)
    times = []
    for k in rng.choice(len(needs), size=min(ONE_NEED_REPEATS, len(needs)), replace=False):
        started = time.perf_counter()
        matches.evaluate_need(session, needs[k])
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50))


def app_path_figures(rng, need_count, terms):
    """Time `flask matches refresh` on a written district; the figures are keyed `app_path_*`."""
    folder = tempfile.mkdtemp(prefix="bench-matching-")
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/district.db", "MODEL_REGISTRY": folder})
        with app.app_context():
            db.create_all()
            records = write_district(db.session, rng, need_count, terms)
            db.session.commit()
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["matches", "refresh"])
        seconds = time.perf_counter() - started
        if result.exit_code != 0:
            raise SystemExit(f"flask matches refresh failed: {result.output}")
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        with app.app_context():
            facts_s, engine_s = _engine_alone(db.session)
            page_ms = _need_page_ms(db.session, rng)
            db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"flask matches refresh, SQLite, {summary['needs']:,} needs × {summary['products']:,} products "
          f"({records:,} department records): {seconds:.2f} s, {summary['matches_stored']:,} matches stored; "
          f"facts {facts_s:.2f} s, engine alone {engine_s:.3f} s; need page p50 {page_ms:.1f} ms", flush=True,
          file=sys.stderr)
    return {"app_path_rematch_s": round(seconds, 3), "app_path_needs": summary["needs"],
            "app_path_products": summary["products"], "app_path_pairs": summary["pairs"],
            "app_path_matches_stored": summary["matches_stored"], "app_path_facts_s": round(facts_s, 3),
            "app_path_engine_s": round(engine_s, 3), "app_path_to_engine": round(seconds / engine_s, 1),
            "app_path_need_page_p50_ms": round(page_ms, 2)}
