"""Credit repair (信用修复): publicity by severity, repair requests and decisions, and a repaired or
expired penalty no longer counting in the firm's score from that day."""
import json
from datetime import date, timedelta
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from sqlalchemy import select

from app.common import clock
from app.common.dates import local_date
from app.common.errors import InvalidInput, NotAllowed
from app.credit import registry
from app.credit.penalties import PublicityRules
from app.credit.scoring import latest_score
from app.entities import SourceBatch, SourceRecord
from app.entities.base import utcnow
from app.extensions import db
from app.ingest.runner import export_files
from app.services import activation, ingestion, repairs, rescoring, scores, scoring_runs

from ..conftest import _made_up_rows
from ..ingest.exports import write_csv

PENALTY_VERSION = "20990101-000000-penalties"
MONTHS = {"minor": {"min": 0, "max": 3, "default": 0}, "general": {"min": 3, "max": 12, "default": 12},
          "serious": {"min": 12, "max": 36, "default": 36}}


def test_publicity_follows_the_severity_and_is_capped():
    rules = PublicityRules(MONTHS, date(2026, 12, 5))
    minor = {"decided_on": "2026-11-01", "severity": "minor", "repaired": False}
    assert rules.state(minor) == "unpublished" and rules.repairable_from(minor) == date(2026, 11, 1)
    assert rules.end({**minor, "publicity_until": "2027-06-01"}) == date(2027, 2, 1)  # at most 3 months
    general = {"decided_on": "2026-03-15", "severity": "general", "repaired": False}
    assert rules.end(general) == date(2027, 3, 15) and rules.state(general) == "published"
    assert rules.repairable_from(general) == date(2026, 6, 15)
    assert rules.state({**general, "publicity_until": "2026-12-04"}) == "expired"
    assert rules.state({**general, "repaired": True}) == "repaired"
    assert rules.used([general, {**general, "repaired": True}]) == [{**general, "publicity_until": "2027-03-15"}]


@pytest.fixture(scope="session")
def penalty_model(trained_model, tmp_path_factory):
    """A registered version whose risk rises with penalties in publicity (the small district's own model
    hardly sees a penalty): the folder."""
    result, _ = trained_model
    source = Path(result["path"])
    metadata = json.loads((source / "metadata.json").read_text(encoding="utf-8"))
    metadata["calibration"] = {"method": "none", "slope": 1.0, "intercept": 0.0}
    matrix, _labels = _made_up_rows(metadata, seed=11)
    names = [spec["name"] for spec in metadata["features"]]
    matrix[:, names.index("penalty_serious_active")] = np.random.default_rng(3).integers(0, 2, len(matrix))
    logit = -2.5 + 2.0 * matrix[:, names.index("penalty_serious_active")]
    labels = np.random.default_rng(5).random(len(matrix)) < 1 / (1 + np.exp(-logit))
    categorical = [i for i, spec in enumerate(metadata["features"]) if spec["kind"] == "cat"]
    params = {**metadata["parameters"], "num_leaves": 4, "max_depth": 2, "learning_rate": 0.1}
    params.pop("num_boost_round", None)
    booster = lgb.train(params, lgb.Dataset(matrix, labels.astype(float), feature_name=names,
                                            categorical_feature=categorical), num_boost_round=60)
    return registry.write_version(tmp_path_factory.mktemp("penalties"), PENALTY_VERSION, booster, metadata,
                                  json.loads((source / "metrics.json").read_text(encoding="utf-8")),
                                  (source / "card.md").read_text(encoding="utf-8"))


@pytest.fixture
def penalised(app, world, small_district, penalty_model, tmp_path):
    """The small district scored by the penalty model; the world's firm is one of its subjects, with a
    serious penalty decided 16 months ago and published until 30 days from today."""
    root = tmp_path / "registry"
    root.mkdir()
    (root / PENALTY_VERSION).symlink_to(penalty_model, target_is_directory=True)
    app.config["MODEL_REGISTRY"] = str(root)
    ingestion.ingest(db.session, export_files(small_district), "610203")
    run = activation.activate(db.session, root, PENALTY_VERSION, world["users"]["platform_admin"], "测试", via="test",
                              override="小样本测试模型")
    db.session.commit()
    scoring_runs.execute(db.session, run, root, "610203")
    subject_id = db.session.scalars(select(SourceRecord.subject_id).where(SourceRecord.source == "tax_filing")).first()
    world["users"]["firm"].subject_id = subject_id
    db.session.commit()
    firm = world["users"]["firm"].subject
    decided = local_date() - timedelta(days=480)
    path = write_csv(tmp_path / "行政处罚_处罚决定_测试.csv", "penalty", [
        ["铜印市监罚〔2025〕88号", firm.identifier, "印台区市场监督管理局", decided.isoformat(), "严重", "50000",
         (local_date() + timedelta(days=30)).isoformat(), "否"]])
    ingestion.ingest(db.session, [path], "610203")
    db.session.commit()
    record = db.session.scalars(select(SourceRecord).where(SourceRecord.subject_id == subject_id,
                                                           SourceRecord.source == "penalty")).one()
    return {**world, "firm_subject": firm, "record": record, "score": rescoring.refresh_subject(db.session, subject_id)}


def test_an_expired_penalty_stops_counting_in_the_score(penalised):
    with_penalty = penalised["score"]
    assert any(r["feature"] == "penalty_serious_active" for r in with_penalty.reasons)
    with clock.frozen(utcnow() + timedelta(days=31)):
        expired = rescoring.refresh_subject(db.session, penalised["firm_subject"].id)
        assert repairs.penalties_of(db.session, penalised["firm_subject"].id)[0].state == "expired"
        assert scores.source_table(db.session, penalised["firm_subject"].id, "penalty")["rows"] == []
    assert expired.score > with_penalty.score
    assert not any(r["feature"] == "penalty_serious_active" for r in expired.reasons)


def test_a_repaired_penalty_stops_counting_in_the_score(penalised):
    users, firm, record = penalised["users"], penalised["firm_subject"], penalised["record"]
    [standing] = repairs.penalties_of(db.session, firm.id)
    assert standing.state == "published" and standing.may_request
    request = repairs.request_repair(db.session, firm, users["firm"], record.id, "罚款已缴清，违法行为已整改")
    with pytest.raises(InvalidInput):  # one open request per penalty
        repairs.request_repair(db.session, firm, users["firm"], record.id, "再申请一次")
    db.session.commit()
    repaired = repairs.decide(db.session, request, users["regulator"], "approved", "已履行处罚决定，同意修复")
    db.session.commit()
    assert repaired.score > penalised["score"].score
    db.session.expire_all()
    correction = db.session.get(SourceRecord, request.correction_record_id)
    assert correction.payload["repaired"] is True and db.session.get(SourceRecord, record.id).superseded_by_id
    assert db.session.get(SourceBatch, correction.batch_id).file_name == f"repair #{request.id}"
    assert repairs.penalties_of(db.session, firm.id)[0].state == "repaired"
    assert latest_score(db.session, firm.id).id == repaired.id
    with pytest.raises(NotAllowed):
        repairs.decide(db.session, request, users["regulator"], "rejected", "改主意")


def test_repair_is_refused_before_the_shortest_publicity(world, tmp_path):
    firm = world["firm"]
    decided = local_date() - timedelta(days=40)
    path = write_csv(tmp_path / "行政处罚_处罚决定_新.csv", "penalty", [
        ["铜印税罚〔2026〕5号", firm.identifier, "印台区税务局", decided.isoformat(), "一般", "2000", "", "否"]])
    ingestion.ingest(db.session, [path], "610203")
    db.session.commit()
    [standing] = repairs.penalties_of(db.session, firm.id)
    assert standing.state == "published" and not standing.may_request
    with pytest.raises(InvalidInput) as refused:
        repairs.request_repair(db.session, firm, world["users"]["firm"], standing.record.id, "已缴清罚款")
    assert standing.repairable_from.isoformat() in refused.value.message
