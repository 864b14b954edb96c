"""The lending market at scale, on PostgreSQL: `python -m benchmarks.market [--quick] [--database-url URL]`.

One module, several sections (a registry keyed by name, `--section NAME` to run some); each section
makes its own scratch database, returns a dict of figures whose keys start with its name, and drops
the database again; the last line printed merges every section's dict into one JSON object.

- queue: a lender's work queue (`lender.dashboard`, docs/response-clock.md). One bank with several
  officers and 5,000 open applications (`--quick`: 500) due at spread times, some overdue and
  escalated, some assigned to the officer, some to others, some to nobody; a second bank with 50 open
  applications (the baseline); 20,000 decided applications (`--quick`: 2,000) across eight
  institutions with their subjects, needs, consents, products and events, all written with bulk
  inserts. Then each view of the queue (the officer's scopes 全部待办 / 分配给我 / 未分配 and a status
  filter, the admin's 全部待办 / 未分配 / 超时已上报 with its officers and response times) is requested
  through the Flask test client, logged in, over a few pages and many times: p50 / p95 / max in ms
  and SQL statements per page, against the same views of the baseline bank in the same run.
  Goal (issue #12): p95 ≤ 150 ms for every view of the 5,000-application queue.

- simulate: `flask market simulate` (app/simulation.py) replaying 24 months on a 20,000-firm district
  (`--quick`: 3 months on 1,000 firms) against the demo's 3,000 firms (`--quick`: 500) in the same
  run: wall time and peak memory (the replay runs in a process of its own), needs, applications,
  loans and monthly reports, and the time per application of each. Each district is generated once
  into instance/bench-cache, ingested into a fresh SQLite database (the embedded default the demo
  runs on) with the demo's institutions and products, scored by a model trained on the large one.

PostgreSQL: the database `bench_market` on postgresql://postgres@127.0.0.1:5432 (override with
`--database-url` or BENCH_DATABASE_URL; its name must contain "bench"), made fresh for each section
and dropped after it. Progress goes to stderr.

A new section is a function `<name>_section(args)` added to SECTIONS (its options beside the others in
`main`, named `--<name>-…`).
"""
import argparse
import contextvars
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from sqlalchemy import event, insert, select
from sqlalchemy.engine import make_url

from app import create_app
from app.common import workdays
from app.common.region import town_codes
from app.common.vocab import DECLINE_REASONS, INSTITUTION_KINDS, SUBJECT_KINDS
from app.config import Config
from app.entities import (
    Application,
    ApplicationEvent,
    Consent,
    CreditSubject,
    FinancingNeed,
    Institution,
    Product,
    User,
)
from app.entities.base import utcnow
from app.entities.users import LENDER_ADMIN, LENDER_OFFICER
from app.extensions import db
from app.services import response_clock
from benchmarks.ingest import CACHE, say
from benchmarks.scoring import BenchDatabase

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_market"
GOAL_P95_MS = 150

# Sizes of the queue section: (open applications of the queue's bank, decided applications in all).
QUEUE_SIZES, QUICK_QUEUE_SIZES = (5_000, 20_000), (500, 2_000)
BASELINE_OPEN = 50
OTHER_INSTITUTIONS = 6
OFFICERS = 6
PRODUCTS_PER_INSTITUTION = 4
OPEN_STATUSES = {"submitted": 0.5, "in_review": 0.35, "info_requested": 0.15}
DECIDED_STATUSES = {"declined": 0.35, "approved": 0.05, "offer_declined": 0.05, "expired": 0.05, "disbursed": 0.1,
                    "repaying": 0.2, "repaid": 0.15, "overdue": 0.03, "defaulted": 0.02}
HISTORY_DAYS = 540
# The views timed: name → (whose, query string, pages of the 5,000-application queue). A deep page shows
# what OFFSET costs.
QUEUE_VIEWS = {
    "officer_all": ("officer", "scope=all", (1, 2, 40)),
    "officer_mine": ("officer", "scope=mine", (1, 2, 10)),
    "officer_unassigned": ("officer", "scope=unassigned", (1, 2, 10)),
    "officer_status_declined": ("officer", "status=declined", (1, 2)),
    "admin_all": ("admin", "scope=all", (1, 2, 40)),
    "admin_unassigned": ("admin", "scope=unassigned", (1, 2, 10)),
    "admin_escalated": ("admin", "scope=escalated", (1, 2)),
}


@dataclass
class QueueBank:
    """A bank whose queue is timed: its id and the ids of the officer and the admin who look at it."""

    institution_id: int
    officer_id: int
    admin_id: int
    officer_ids: list


def _insert(session, entity, rows):
    """Insert `rows` (dicts with the same keys) in one executemany; their new ids, in the order of the rows.

    Core's insert of the table, not the ORM's: the ORM splits the rows into a batch per pattern of
    None values, which made writing the market ten times slower."""
    table = entity.__table__
    return list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))


def _institutions(session, rng):
    """The queue's bank, the baseline's bank and the others; their ids in that order."""
    names = ["基准银行", "基准对照银行", *[f"基准机构{k}" for k in range(1, OTHER_INSTITUTIONS + 1)]]
    return _insert(session, Institution, [
        {"name": name, "kind": "bank" if k < 2 else str(rng.choice(INSTITUTION_KINDS)),
         "response_limit_days": 3 if k < 2 else int(rng.integers(2, 6)), "active": True}
        for k, name in enumerate(names)])


def _staff(session, institution_id, officers):
    """An admin and `officers` active officers (and one who has left) of the institution."""
    rows = [{"username": f"admin{institution_id}", "display_name": f"管理员{institution_id}", "role": LENDER_ADMIN}]
    rows += [{"username": f"officer{institution_id}_{k}", "display_name": f"客户经理{institution_id}-{k}",
              "role": LENDER_OFFICER} for k in range(officers + 1)]
    ids = _insert(session, User, [{**row, "institution_id": institution_id, "password_hash": "-",
                                   "active": k <= officers} for k, row in enumerate(rows)])
    return QueueBank(institution_id, officer_id=ids[1], admin_id=ids[0], officer_ids=ids[1:-1])


def _subjects(session, rng, count):
    towns, kinds = town_codes(Config.REGION_CODE), list(SUBJECT_KINDS)
    return _insert(session, CreditSubject, [
        {"kind": str(rng.choice(kinds)), "name": f"基准企业{k}有限公司", "town_code": str(rng.choice(towns)),
         "industry_code": "3074", "status": "active"} for k in range(count)])


def _products(session, institution_ids):
    """Published products of every institution: institution id → product ids."""
    ids = _insert(session, Product, [
        {"institution_id": i, "name": f"基准贷{i}-{k}", "amount_min": Decimal(10_000), "amount_max": Decimal(3_000_000),
         "term_min_months": 3, "term_max_months": 36, "rate_min": Decimal("3.850"), "rate_max": Decimal("8.000"),
         "guarantee_types": ["credit"], "status": "published", "published_at": utcnow() - timedelta(days=HISTORY_DAYS)}
        for i in institution_ids for k in range(PRODUCTS_PER_INSTITUTION)])
    return {i: ids[n * PRODUCTS_PER_INSTITUTION:(n + 1) * PRODUCTS_PER_INSTITUTION]
            for n, i in enumerate(institution_ids)}


def _open_application(rng, bank, now, closes_at):
    """An open application of `bank` submitted in the last two weeks: status, times, officer, escalation."""
    status = str(rng.choice(list(OPEN_STATUSES), p=list(OPEN_STATUSES.values())))
    created = now - timedelta(days=float(rng.uniform(0, 14)))
    due = workdays.due_time(created, 3, closes_at)
    draw = rng.random()
    assigned = bank.officer_id if draw < 0.35 else int(rng.choice(bank.officer_ids)) if draw < 0.7 else None
    late = status in response_clock.RUNNING_STATUSES and due < now
    return {"status": status, "created_at": created, "due_at": due, "assigned_to_id": assigned,
            "escalated_at": min(due + timedelta(hours=16), now) if late and rng.random() < 0.6 else None}


def _decided_application(rng, institution_id, officers, now, closes_at):
    """A decided application of the last HISTORY_DAYS: status, times, officer and reasons."""
    status = str(rng.choice(list(DECIDED_STATUSES), p=list(DECIDED_STATUSES.values())))
    created = now - timedelta(days=float(rng.uniform(10, HISTORY_DAYS)))
    officer = int(rng.choice(officers))
    return {"status": status, "created_at": created, "due_at": workdays.due_time(created, 3, closes_at),
            "decided_at": created + timedelta(days=1.5 + float(rng.exponential(3))), "decided_by_id": officer,
            "assigned_to_id": officer if rng.random() < 0.7 else None,
            "decision_reasons": [str(rng.choice(list(DECLINE_REASONS)))] if status == "declined" else None}


def _events(application_id, row, rng):
    """The events an application of that status and those times has: submitted, review, an information
    request (answered the next day when the application has been decided since), decision."""
    start, end = row["created_at"], row.get("decided_at")
    steps = [(None, "submitted", start)]
    if row["status"] != "submitted":
        steps.append(("submitted", "in_review", start + timedelta(hours=2)))
    if row["status"] == "info_requested" or (end is not None and rng.random() < 0.2):
        steps.append(("in_review", "info_requested", start + timedelta(hours=4)))
        if end is not None:
            steps.append(("info_requested", "in_review", start + timedelta(hours=30)))
    if end is not None:
        steps.append(("in_review", row["status"], end))
    return [{"application_id": application_id, "from_status": before, "to_status": after, "at": at}
            for before, after, at in steps]


def _applications(session, rng, rows, subject_ids):
    """Write each application (dicts with institution_id, product_id and their status and times) with a
    need and a consent of its own and its events."""
    subjects = rng.choice(subject_ids, len(rows)).tolist()
    needs = _insert(session, FinancingNeed, [
        {"subject_id": s, "amount": Decimal(500_000), "term_months": 12, "purpose": "流动资金", "guarantee": "credit",
         "status": "open" if r["status"] in OPEN_STATUSES else "closed", "created_at": r["created_at"]}
        for s, r in zip(subjects, rows, strict=True)])
    consents = _insert(session, Consent, [
        {"subject_id": s, "institution_id": r["institution_id"], "purpose_code": "underwriting",
         "purpose_text": "贷前审核", "data_categories": ["credit_score"], "valid_from": r["created_at"],
         "valid_to": r["created_at"] + timedelta(days=365), "created_at": r["created_at"]}
        for s, r in zip(subjects, rows, strict=True)])
    columns = ("status", "created_at", "due_at", "assigned_to_id", "escalated_at", "decided_at", "decided_by_id",
               "decision_reasons", "institution_id", "product_id")
    ids = _insert(session, Application, [
        {**{c: r.get(c) for c in columns}, "need_id": n, "consent_id": c, "subject_id": s,
         "amount": Decimal(500_000), "term_months": 12}
        for r, n, c, s in zip(rows, needs, consents, subjects, strict=True)])
    events = [e for i, r in zip(ids, rows, strict=True) for e in _events(i, r, rng)]
    session.execute(insert(ApplicationEvent.__table__), events)


def build_queue_market(session, rng, open_count, decided_count, now):
    """The queue's bank (with `open_count` open applications) and the baseline bank (BASELINE_OPEN), among
    other institutions sharing `decided_count` decided applications equally; the two banks."""
    closes_at = response_clock.closes_at()
    institution_ids = _institutions(session, rng)
    banks = [_staff(session, i, OFFICERS if k < 2 else 2) for k, i in enumerate(institution_ids)]
    subject_ids = _subjects(session, rng, max((open_count + decided_count) // 3, 100))
    products = _products(session, institution_ids)
    rows = [{**_open_application(rng, bank, now, closes_at), "institution_id": bank.institution_id}
            for bank, count in ((banks[0], open_count), (banks[1], BASELINE_OPEN)) for _ in range(count)]
    rows += [{**_decided_application(rng, bank.institution_id, bank.officer_ids, now, closes_at),
              "institution_id": bank.institution_id}
             for k in range(decided_count) for bank in [banks[k % len(banks)]]]
    for row in rows:
        row["product_id"] = int(rng.choice(products[row["institution_id"]]))
    _applications(session, rng, rows, subject_ids)
    return banks[0], banks[1]


class StatementCounter:
    """Counts the SQL statements an engine runs while in a `with` block (an executemany counts once)."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args):
        self.count += 1


def logged_in(app, user):
    """A test client holding `user`'s login session, as after a real login."""
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        ident = app.login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session.update({"_user_id": user.get_id(), "_fresh": True, "_id": ident})
    return client


def _request(client, url, counter):
    """GET `url` as a server would (an app context and database session of its own): (seconds, statements)."""
    before = counter.count
    started = time.perf_counter()
    response = contextvars.Context().run(client.get, url)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return seconds, counter.count - before


def deep_pages(pages, open_count):
    """QUEUE_VIEWS' pages for a queue of `open_count`: the deep ones (past 2) moved up in proportion, so
    that a smaller queue is not timed on empty pages."""
    scale = open_count / QUEUE_SIZES[0]
    return sorted({page if page <= 2 else max(1, round(page * scale)) for page in pages})


def time_views(clients, counter, repeats, open_count=None):
    """Each view of QUEUE_VIEWS through `clients` (whose → test client), every page `repeats` times in turn
    after one warm-up round: p50, p95 and max in ms, and the most statements a page ran. With no
    `open_count`, the first page only."""
    figures = {}
    for name, (whose, query, pages) in QUEUE_VIEWS.items():
        pages = deep_pages(pages, open_count) if open_count else [1]
        urls = [f"/lender/?{query}&page={page}" for page in pages]
        for url in urls:
            _request(clients[whose], url, counter)
        seconds, statements = [], []
        for _ in range(repeats):
            for url in urls:
                took, ran = _request(clients[whose], url, counter)
                seconds.append(took * 1000)
                statements.append(ran)
        figures[name] = {"p50_ms": round(float(np.percentile(seconds, 50)), 1),
                         "p95_ms": round(float(np.percentile(seconds, 95)), 1),
                         "max_ms": round(max(seconds), 1), "statements": max(statements)}
    return figures


def vacuum(engine):
    """VACUUM ANALYZE, as autovacuum does after a bulk load: planner statistics, and the visibility map
    without which no index-only scan skips the table."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def queue_figures(app, open_count, decided_count, repeats, seed=12):
    """Build the queue market in `app`'s database, then time every view on the big and the baseline bank."""
    with app.app_context():
        started = time.perf_counter()
        big, small = build_queue_market(db.session, np.random.default_rng(seed), open_count, decided_count, utcnow())
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            vacuum(db.engine)
        say(f"queue: {open_count:,} open and {decided_count:,} decided applications written in "
            f"{time.perf_counter() - started:.1f} s")
        users = {u.id: u for u in db.session.scalars(select(User).where(
            User.id.in_([big.officer_id, big.admin_id, small.officer_id, small.admin_id])))}
        clients = [{"officer": logged_in(app, users[bank.officer_id]), "admin": logged_in(app, users[bank.admin_id])}
                   for bank in (big, small)]
        engine = db.engine
        db.session.remove()
    say(f"queue: timing {len(QUEUE_VIEWS)} views, {repeats} rounds each ...")
    with StatementCounter(engine) as counter:
        views = time_views(clients[0], counter, repeats, open_count)
        baseline = time_views(clients[1], counter, repeats)
    ratios = {name: round(views[name]["p95_ms"] / baseline[name]["p95_ms"], 2) for name in views}
    worst = max(view["p95_ms"] for view in views.values())
    for name, view in views.items():
        say(f"  {name:<24} p50 {view['p50_ms']:6.1f}  p95 {view['p95_ms']:6.1f}  max {view['max_ms']:6.1f} ms  "
            f"{view['statements']} statements   (baseline p95 {baseline[name]['p95_ms']:.1f} ms, "
            f"{baseline[name]['statements']} statements)")
    return {"queue_open": open_count, "queue_decided": decided_count, "queue_baseline_open": BASELINE_OPEN,
            "queue_rounds": repeats, "queue_views": views, "queue_baseline": baseline,
            "queue_p95_ratio_to_baseline": ratios, "queue_worst_p95_ms": worst,
            "queue_goal_p95_ms": GOAL_P95_MS, "queue_goal_met": worst <= GOAL_P95_MS}


def bench_app(url):
    """An app on `url` with its schema built (as the other benchmarks: metadata, not migrations)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
    return app


def queue_section(args):
    """The queue section on a fresh scratch database, dropped afterwards."""
    open_count, decided_count = QUICK_QUEUE_SIZES if args.quick else QUEUE_SIZES
    open_count, decided_count = args.queue_open or open_count, args.queue_decided or decided_count
    database = BenchDatabase(args.database_url)
    try:
        app = bench_app(database.fresh())
        figures = queue_figures(app, open_count, decided_count, repeats=10 if args.quick else 40)
        with app.app_context():
            db.engine.dispose()
    finally:
        database.drop()
    return figures


# Sections by name, run in this order; each takes the parsed arguments and returns its figures.
# --- the simulate section -----------------------------------------------------------------------
# Sizes: (firms of the timed district, firms of the baseline district, months replayed).
SIMULATE_SIZES = (20_000, 3_000, 24)
QUICK_SIMULATE_SIZES = (1_000, 500, 3)
# Both districts end in September 2026; the replay ends with them.
SIMULATE_UNTIL = "2026-10-01"
SIMULATE_SEED = 7

_SIMULATE_CHILD = """
import json, resource, sys, time
from app import create_app
from app.extensions import db
from app.simulation import simulate
from app.cli import _moment
app = create_app()
with app.app_context():
    started = time.perf_counter()
    figures = simulate(db.session, {seed}, {months}, _moment({until!r}), {truth!r})
    figures["wall_seconds"] = round(time.perf_counter() - started, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(figures, ensure_ascii=False))
"""


def _flask(env, *args):
    """`flask --app app ARGS…` with `env`, its stdout (progress and errors go to stderr)."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=env, check=True,
                          stdout=subprocess.PIPE, text=True)
    return done.stdout


def simulate_district(firms, folder, model=None):
    """A demo-like market ready to replay: the district of `firms` firms ingested into a fresh SQLite
    database, the demo's institutions and products, and a model activated (which scores everyone):
    the registered version `model` (folder), else one trained on the district. Returns the replay's
    environment, the district's truth file and the model's folder."""
    district = CACHE / f"market-district-{firms}"
    if not district.is_dir():
        partial = CACHE / f"market-district-{firms}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        say(f"simulate: generating {firms:,} firms ...")
        subprocess.run([sys.executable, "-m", "training.synth", "--firms", str(firms), "--seed", str(SIMULATE_SEED),
                        "--months", "48", "--out", str(partial)], check=True, stdout=subprocess.DEVNULL)
        partial.rename(district)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'market.db'}",
           "MODEL_REGISTRY": str(folder / "models"), "UPLOAD_DIR": str(folder / "uploads"),
           "REJECT_DIR": str(folder / "rejects")}
    say(f"simulate: {firms:,} firms — migrations, ingest, demo, training, activation ...")
    _flask(env, "db", "upgrade")
    _flask(env, "data", "ingest", str(district))
    _flask(env, "platform", "demo")
    if model is None:
        trained = subprocess.run([sys.executable, "-m", "training.train", "--data", str(district), "--out",
                                  str(folder / "models")], env=env, check=True, stdout=subprocess.PIPE, text=True)
        model = Path(json.loads(trained.stdout.strip().splitlines()[-1])["path"])
    else:
        shutil.copytree(model, folder / "models" / model.name)
    _flask(env, "models", "activate", model.name, "--by", "platform", "--reason", "benchmark")
    return env, district / "_truth" / "firms.csv", folder / "models" / model.name


def time_simulation(firms, months, scratch, model=None):
    """Replay `months` months on a fresh district of `firms` firms: the replay's own figures (with its
    time and peak memory) and the model's folder."""
    with tempfile.TemporaryDirectory(prefix="bench-market-", dir=scratch) as folder:
        env, truth, model = simulate_district(firms, Path(folder), model)
        say(f"simulate: replaying {months} months on {firms:,} firms ...")
        code = _SIMULATE_CHILD.format(seed=SIMULATE_SEED, months=months, until=SIMULATE_UNTIL, truth=str(truth))
        done = subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.PIPE, text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        say(f"simulate: {firms:,} firms, {months} months in {figures['wall_seconds']} s, "
            f"peak {figures['peak_rss_mb']} MB")
        kept = Path(scratch) / model.name
        if not kept.exists():
            shutil.copytree(model, kept)
        return figures, kept


def _simulate_summary(figures, firms):
    applications = sum(figures["applications"].values())
    return {"firms": firms, "seconds": figures["wall_seconds"], "peak_rss_mb": figures["peak_rss_mb"],
            "needs": sum(figures["needs"].values()), "applications": applications,
            "loans": sum(figures["loans"].values()), "repayment_reports": figures["repayment_reports"],
            "ms_per_application": round(1000 * figures["wall_seconds"] / max(applications, 1), 1),
            "loans_by_status": figures["loans"]}


def simulate_section(args):
    """`flask market simulate` on a large district against the demo's size, in the same run."""
    firms, baseline_firms, months = QUICK_SIMULATE_SIZES if args.quick else SIMULATE_SIZES
    with tempfile.TemporaryDirectory(prefix="bench-market-") as scratch:
        # The model is trained once, on the large district, and scores both.
        figures, model = time_simulation(firms, months, scratch)
        timed = _simulate_summary(figures, firms)
        baseline = _simulate_summary(time_simulation(baseline_firms, months, scratch, model)[0], baseline_firms)
    return {"simulate_months": months, "simulate": timed, "simulate_baseline": baseline,
            "simulate_time_ratio": round(timed["seconds"] / max(baseline["seconds"], 1e-9), 2),
            "simulate_firm_ratio": round(firms / baseline_firms, 2),
            "simulate_ms_per_application_ratio": round(
                timed["ms_per_application"] / max(baseline["ms_per_application"], 1e-9), 2)}

SECTIONS = {"queue": queue_section, "simulate": simulate_section}


def main(argv=None):
    """Run the sections and print their figures; the last line is the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (well under a minute)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="the PostgreSQL scratch database (its name must contain 'bench'; dropped after each "
                             "section)")
    parser.add_argument("--section", action="append", choices=list(SECTIONS),
                        help="run only this section (repeatable); all by default")
    parser.add_argument("--queue-open", type=int, help=f"open applications of the queue (default {QUEUE_SIZES[0]:,})")
    parser.add_argument("--queue-decided", type=int,
                        help=f"decided applications of every institution together (default {QUEUE_SIZES[1]:,})")
    args = parser.parse_args(argv)
    result = {"quick": args.quick, "database": make_url(args.database_url).database}
    for name in args.section or SECTIONS:
        started = time.perf_counter()
        result.update(SECTIONS[name](args))
        result[f"{name}_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
