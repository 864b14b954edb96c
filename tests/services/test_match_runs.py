"""The district's full re-match (`flask matches refresh`): a recorded run with its progress, one at a time."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.common.errors import NotAllowed
from app.entities import Match, MatchRun
from app.entities.base import utcnow
from app.extensions import db
from app.services import match_runs, matches, runs

from .. import factories


@pytest.fixture
def district(app):
    """Five open needs, a withdrawn one and two published products (one fits every open need)."""
    fits = factories.ProductFactory()
    short = factories.ProductFactory(term_max_months=6)
    open_needs = [factories.NeedFactory() for _ in range(5)]
    withdrawn = factories.NeedFactory(status="withdrawn")
    db.session.commit()
    return {"fits": fits, "short": short, "open": open_needs, "withdrawn": withdrawn}


def stored():
    """{(need id, product id): (eligible, failed rules)} of every stored match."""
    return {(m.need_id, m.product_id): (m.eligible, [r["rule"] for r in m.rule_results if not r["passed"]])
            for m in db.session.scalars(select(Match))}


def refresh(app):
    result = app.test_cli_runner().invoke(args=["matches", "refresh"])
    return result, (json.loads(result.stdout.strip().splitlines()[-1]) if result.exit_code == 0 else None)


def test_refresh_records_a_run_and_prints_its_figures_last(app, district):
    result, figures = refresh(app)
    assert result.exit_code == 0, result.output
    run = db.session.scalars(select(MatchRun)).one()
    assert (run.trigger, run.status, run.needs_total, run.needs_done, run.products) == ("cli", "done", 5, 5, 2)
    assert run.pairs == 10 and run.matches_stored == 10 and run.finished_at is not None
    assert figures == {"run": run.id, "status": "done", "needs": 5, "products": 2, "pairs": 10,
                       "matches_stored": 10, "seconds": figures["seconds"]}
    rows = stored()
    for need in district["open"]:
        assert rows[(need.id, district["fits"].id)] == (True, [])
        assert rows[(need.id, district["short"].id)] == (False, ["term"])


def test_refresh_stores_what_the_re_matches_of_each_need_store(app, district):
    for need in district["open"]:
        matches.rematch_need(db.session, need)
    db.session.commit()
    one_by_one = stored()
    db.session.execute(Match.__table__.delete())
    db.session.commit()
    refresh(app)
    assert stored() == one_by_one


def test_refresh_removes_matches_of_closed_needs_and_retired_products(app, district):
    matches.rematch_all(db.session)
    stale_need, retired = district["open"][0], district["short"]
    stale_need.status = "closed"
    retired.status = "retired"
    db.session.commit()
    assert any(need_id == stale_need.id for need_id, _ in stored())
    refresh(app)
    assert not any(need_id == stale_need.id or product_id == retired.id for need_id, product_id in stored())


def test_progress_is_committed_after_each_batch(app, district, monkeypatch):
    monkeypatch.setattr(matches, "REMATCH_BATCH", 2)
    seen = []
    run = match_runs.start(db.session, "cli")
    match_runs.execute(db.session, run, on_progress=lambda r: seen.append((r.needs_done, r.needs_total,
                                                                           r.matches_stored)))
    assert seen == [(2, 5, 4), (4, 5, 8), (5, 5, 10)]
    db.session.expire_all()
    assert db.session.get(MatchRun, run.id).status == "done"


def test_a_second_full_re_match_is_refused_while_one_runs(app, district):
    db.session.add(MatchRun(trigger="cli", status="running"))
    db.session.commit()
    with pytest.raises(NotAllowed):
        match_runs.start(db.session, "cli")
    result, _ = refresh(app)
    assert result.exit_code != 0 and "正在重新匹配" in result.output
    assert db.session.scalar(select(func.count(Match.id))) == 0


def test_a_run_whose_process_stopped_does_not_block_the_next(app, district):
    long_ago = utcnow() - runs.STALE_AFTER - timedelta(minutes=1)
    db.session.add(MatchRun(trigger="cli", status="running", started_at=long_ago, heartbeat_at=long_ago))
    db.session.commit()
    result, figures = refresh(app)
    assert result.exit_code == 0 and figures["matches_stored"] == 10


def test_a_failed_run_says_why_and_does_not_look_running(app, district, monkeypatch):
    def broken(session, on_batch=None):
        raise RuntimeError("facts unavailable")

    monkeypatch.setattr(matches, "rematch_all", broken)
    result, _ = refresh(app)
    assert result.exit_code != 0 and "facts unavailable" in result.output
    run = db.session.scalars(select(MatchRun)).one()
    assert (run.status, run.error) == ("failed", "facts unavailable") and run.finished_at is not None
