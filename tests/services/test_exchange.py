"""Signed batches with the 信易贷 node: anonymised export, verified and idempotent import, per-record rejects."""
import json

import pytest

from app.common.errors import InvalidInput
from app.entities import ExchangeBatch, FinancingNeed, Institution, Product
from app.entities.base import utcnow
from app.extensions import db
from app.services import exchange

from .. import factories


def node_batch(app, batch_id="node-0001", **records):
    """A batch as the node would sign it, with the app's key (its records copied: a test may tamper with them)."""
    batch = {"format": exchange.FORMAT, "batch_id": batch_id, "region": "610200", "created_at": "2026-12-01T00:00:00Z",
             "needs": [], "products": [], **json.loads(json.dumps(records))}
    batch["signature"] = exchange.sign(batch, app.config["EXCHANGE_KEY"])
    return batch


NODE_PRODUCT = {"institution": "铜川市丙农商银行", "institution_uscc": None, "institution_kind": "bank",
                "name": "果农贷", "amount_min_wan": 1, "amount_max_wan": 30, "term_min_months": 6,
                "term_max_months": 24, "rate_min": 3.9, "rate_max": 5.5, "guarantee_types": ["credit"]}


def test_export_is_signed_and_anonymises_needs_unless_released(app, world):
    batch = exchange.export(db.session, world["users"]["platform_admin"])
    assert batch["signature"] == exchange.sign(batch, app.config["EXCHANGE_KEY"])
    need = batch["needs"][0]
    assert not need["identified"] and "subject_name" not in need and "uscc" not in json.dumps(need)
    assert world["firm"].name not in json.dumps(batch, ensure_ascii=False)
    assert [p["id"] for p in batch["products"]] == [world["product"].id]
    factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                             purpose_code="screening", granted_by_id=world["users"]["firm"].id)
    db.session.commit()
    released = exchange.export(db.session, world["users"]["platform_admin"])["needs"][0]
    assert released["identified"] and released["subject_name"] == world["firm"].name
    assert released["handle"] == need["handle"]


def test_export_carries_outcomes(app, world):
    factories.put_in_status(world, "declined")
    world["application"].decision_reasons = ["tax_arrears"]
    world["application"].decided_at = utcnow()
    db.session.commit()
    outcomes = exchange.export(db.session, world["users"]["platform_admin"])["outcomes"]
    assert [(o["status"], o["reasons"]) for o in outcomes] == [("declined", ["tax_arrears"])]


def test_a_tampered_or_unsigned_batch_is_refused_whole(app, world):
    batch = node_batch(app, products=[NODE_PRODUCT])
    batch["products"][0]["rate_min"] = 0.1
    with pytest.raises(InvalidInput):
        exchange.import_batch(db.session, batch, world["users"]["platform_admin"])
    assert db.session.scalars(db.select(Product).where(Product.name == "果农贷")).all() == []


def test_import_takes_good_records_reports_bad_ones_and_is_idempotent(app, world):
    world["firm"].uscc = "91610203MA6X000001"
    db.session.commit()
    bad_product = {**NODE_PRODUCT, "name": "坏产品", "rate_min": 9, "rate_max": 2}
    needs = [{"node_id": "N-1", "uscc": world["firm"].uscc, "amount_wan": 20, "term_months": 12,
              "purpose": "购置窑炉", "guarantee": "credit"},
             {"node_id": "N-2", "uscc": "91610203MA6X999999", "amount_wan": 20, "term_months": 12,
              "purpose": "x", "guarantee": "credit"}]
    batch = node_batch(app, products=[NODE_PRODUCT, bad_product], needs=needs)
    record, new = exchange.import_batch(db.session, batch, world["users"]["platform_admin"])
    db.session.commit()
    assert new and record.counts == {"products": 1, "needs": 1, "rejected": 2}
    assert [(r["kind"], r["index"]) for r in record.rejects] == [("products", 1), ("needs", 1)]
    product = db.session.scalars(db.select(Product).where(Product.name == "果农贷")).one()
    assert product.institution.name == "铜川市丙农商银行" and product.status == "published"
    counts = (db.session.query(Product).count(), db.session.query(FinancingNeed).count(),
              db.session.query(Institution).count())
    again, new_again = exchange.import_batch(db.session, batch, world["users"]["platform_admin"])
    db.session.commit()
    assert not new_again and again.id == record.id
    assert (db.session.query(Product).count(), db.session.query(FinancingNeed).count(),
            db.session.query(Institution).count()) == counts
    resent = node_batch(app, batch_id="node-0002", needs=needs[:1])
    exchange.import_batch(db.session, resent, world["users"]["platform_admin"])
    db.session.commit()
    assert db.session.query(FinancingNeed).count() == counts[1]  # the node's need N-1 is posted once


def test_cli_round_trip(app, world, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "batch.json"
    exported = runner.invoke(args=["exchange", "export", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output.strip().splitlines()[-1])["needs"] == 1
    node = tmp_path / "node.json"
    node.write_text(json.dumps(node_batch(app, products=[NODE_PRODUCT]), ensure_ascii=False), encoding="utf-8")
    first = json.loads(runner.invoke(args=["exchange", "import", str(node)]).output.strip().splitlines()[-1])
    second = json.loads(runner.invoke(args=["exchange", "import", str(node)]).output.strip().splitlines()[-1])
    assert (first["new"], first["products"]) == (True, 1) and second["new"] is False
    assert db.session.query(ExchangeBatch).count() == 2
