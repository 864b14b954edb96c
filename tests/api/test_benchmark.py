"""The API benchmark's bank and measurement, at a tiny size on the test databases."""
import numpy as np

from app.entities import Application, DataAccessLog
from app.entities.base import utcnow
from app.extensions import db
from benchmarks.api import build_bank, measure


def test_the_bank_is_decided_and_profiled_through_the_api(app):
    admin, application_ids = build_bank(db.session, 12, utcnow())
    db.session.commit()
    figures = measure(app, admin, application_ids, decisions=4, profiles=6, rng=np.random.default_rng(1))
    assert figures["decisions"] == figures["decided_in_db"] == 4 and figures["decisions_per_s"] > 0
    assert 0 < figures["profile_api_p50_ms"] <= figures["profile_api_p95_ms"]
    assert 0 < figures["profile_service_p50_ms"] <= figures["profile_service_p95_ms"]
    # Every profile call, through the API (6 timed, warm-up included) and in process, is in 查询记录.
    assert db.session.query(DataAccessLog).count() == 6 + 6 + 6
    assert db.session.query(Application).filter(Application.status == "approved").count() == 2
