"""The regulator's matching pages: needs that found nothing and why; honest approval odds."""
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.extensions import db
from app.services import matches

from .. import factories
from ..conftest import logged_in_client, page_text


def test_needs_that_found_nothing_are_listed_with_their_failed_rules(app, world):
    stranded = factories.NeedFactory(subject=world["other_firm"], amount=Decimal("90000000"), term_months=240)
    matches.rematch_all(db.session)
    db.session.commit()
    page = page_text(logged_in_client(app, world["users"]["regulator"]).get("/regulator/matching"))
    assert world["other_firm"].name in page and world["firm"].name not in page
    assert "期限（1/1）" in page and "金额（1/1）" in page
    assert "需求期限 240 个月不在产品期限 3–36 个月之内" in page
    assert stranded.id


def test_reliability_table_for_the_regulator(app, world):
    firms = [factories.SubjectFactory() for _ in range(8)]
    for k in range(200):
        firm = firms[k % 8]
        decision = "approved" if (k % 8 < 4) == (k % 5 != 0) else "declined"
        factories.add_records(firm, "application_history", [(
            date(2024, 1, 1) + timedelta(days=k), {"institution": world["bank_a"].name, "decision": decision})])
    for k, firm in enumerate(firms):
        factories.add_score(firm, "A" if k < 4 else "D", 0.02 if k < 4 else 0.2, as_of=date(2023, 12, 1))
    db.session.commit()
    client = logged_in_client(app, world["users"]["regulator"])
    report = client.get("/api/v1/matching/reliability").get_json()
    assert report["train"] == 150 and report["test"] == 50 and report["predicted"] == 50
    assert {round(b["predicted"], 1) for b in report["bins"]} == {0.2, 0.8}
    assert all(b["honest"] for b in report["bins"])
    assert "获批可能估计的可靠性" in page_text(client.get("/regulator/matching/reliability"))


def test_reliability_by_product_for_the_regulator(app, world):
    """A product with enough later decisions is judged; one with too few says so."""
    firm = world["other_firm"]
    consent = factories.ConsentFactory(subject_id=firm.id, institution_id=world["bank_b"].id)
    busy = factories.ProductFactory(institution=world["bank_b"], name="陶瓷周转贷")
    quiet = factories.ProductFactory(institution=world["bank_b"], name="果业小额贷")
    for product, count, day0 in ((busy, 120, 0), (quiet, 4, 200)):
        for k in range(count):
            factories.ApplicationFactory(
                need=factories.NeedFactory(subject=firm), product=product, subject_id=firm.id,
                institution_id=world["bank_b"].id, consent_id=consent.id,
                status="declined" if k % 3 == 0 else "approved",
                decided_at=datetime(2025, 1, 1) + timedelta(days=day0 + k))
    db.session.commit()
    client = logged_in_client(app, world["users"]["regulator"])
    rows = {r["name"]: r for r in client.get("/api/v1/matching/reliability").get_json()["products"]}
    assert rows["陶瓷周转贷"]["enough"] and rows["陶瓷周转贷"]["honest"] and rows["陶瓷周转贷"]["n"] == 27
    assert rows["果业小额贷"] | {"n": 4, "train": 0, "enough": False, "basis": "institution"} == rows["果业小额贷"]
    page = page_text(client.get("/regulator/matching/reliability"))
    table = page.partition("按产品检验")[2]
    assert "陶瓷周转贷" in table and "果业小额贷" in table and "记录过少，无法判断" in table
    client.get("/lang/en")
    assert "Too few decisions to judge" in page_text(client.get("/regulator/matching/reliability"))
