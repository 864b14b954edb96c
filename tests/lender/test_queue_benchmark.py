"""The market benchmark's queue section: the market it writes, and every view of the queue timed on it."""
import numpy as np
from sqlalchemy import func, select

from app.common.vocab import OPEN_APPLICATION_STATUSES
from app.entities import Application, User
from app.entities.base import utcnow
from app.extensions import db
from app.services import queues
from benchmarks.market import BASELINE_OPEN, QUEUE_VIEWS, build_queue_market, queue_figures


def test_the_market_has_the_queue_the_issue_describes(app):
    big, small = build_queue_market(db.session, np.random.default_rng(1), 300, 160, utcnow())
    db.session.commit()
    officer = db.session.get(User, big.officer_id)
    counts = queues.officer_queue(db.session, officer, utcnow()).counts
    assert counts["all"] == 300 and 0 < counts["mine"] < counts["all"] and 0 < counts["unassigned"] < counts["all"]
    assert 0 < counts["escalated"] < counts["all"]
    late = sum(row.days_late > 0 for row in queues.officer_queue(db.session, officer, utcnow(), page_size=300).rows)
    assert 0 < late < 300
    open_small = db.session.scalar(select(func.count(Application.id)).where(
        Application.institution_id == small.institution_id, Application.status.in_(OPEN_APPLICATION_STATUSES)))
    decided = db.session.scalar(select(func.count(Application.id)).where(Application.decided_at.is_not(None)))
    assert (open_small, decided) == (BASELINE_OPEN, 160)


def test_every_view_is_timed_and_runs_as_many_statements_as_on_the_baseline(app):
    figures = queue_figures(app, open_count=120, decided_count=80, repeats=1)
    assert set(figures["queue_views"]) == set(figures["queue_baseline"]) == set(QUEUE_VIEWS)
    for name, view in figures["queue_views"].items():
        assert 0 < view["p50_ms"] <= view["p95_ms"] <= view["max_ms"]
        # A page that ran more statements with more rows would be loading them one by one.
        assert view["statements"] == figures["queue_baseline"][name]["statements"], name
    assert figures["queue_worst_p95_ms"] == max(view["p95_ms"] for view in figures["queue_views"].values())
