"""Red and black lists: entries change matching only as their list's measures say (过惩相当), exits
restore it, and 失信被执行人 court records list and delist the firm."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.common.dates import local_date
from app.common.errors import InvalidInput
from app.entities import AuditEntry, ListEntry, Match, Notification
from app.extensions import db
from app.services import ingestion, lists, matches

from .. import factories
from ..ingest.exports import write_csv


def _eligible(need):
    """The products the stored matches find eligible for `need`."""
    return {m.product_id for m in db.session.scalars(select(Match).where(Match.need_id == need.id, Match.eligible))}


@pytest.fixture
def catalogue(world):
    """The world's firm with a credit need and a mortgage need, and products of four guarantee mixes."""
    firm = world["firm"]
    needs = {"credit": factories.NeedFactory(subject=firm, guarantee="credit"),
             "mortgage": factories.NeedFactory(subject=firm, guarantee="mortgage")}
    world["product"].status = "retired"
    mixes = {"credit_only": ["credit"], "credit_or_guarantor": ["credit", "guarantor"],
             "mortgage_only": ["mortgage"], "credit_or_mortgage": ["credit", "mortgage"]}
    products = {name: factories.ProductFactory(institution=world["bank_a"], guarantee_types=types)
                for name, types in mixes.items()}
    db.session.flush()
    matches.rematch_subject(db.session, firm.id)
    return {**world, "needs": needs, "products": {k: p.id for k, p in products.items()}}


def test_a_black_list_entry_removes_exactly_the_products_its_measures_name(catalogue):
    needs, p = catalogue["needs"], catalogue["products"]
    before = {kind: _eligible(need) for kind, need in needs.items()}
    assert before == {"credit": {p["credit_only"], p["credit_or_guarantor"], p["credit_or_mortgage"]},
                      "mortgage": {p["mortgage_only"], p["credit_or_mortgage"]}}
    entry = lists.add_entry(db.session, catalogue["users"]["regulator"], catalogue["firm"], "court_dishonest",
                            "案件（2026）陕0203执100号被列为失信被执行人")
    # The measure restricts pure credit loans: the credit need loses every product, the mortgage need none.
    assert _eligible(needs["credit"]) == set() and _eligible(needs["mortgage"]) == before["mortgage"]
    stored = db.session.scalars(select(Match).where(Match.need_id == needs["credit"].id)).all()
    assert {m.product_id for m in stored if "blacklist" in {r["rule"] for r in m.rule_results}} == before["credit"]
    lists.remove_entry(db.session, catalogue["users"]["regulator"], entry, "已履行生效法律文书确定的义务")
    assert {kind: _eligible(need) for kind, need in needs.items()} == before
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "ListEntry")).all()
    assert actions == ["list.add", "list.remove"]


def test_a_list_without_a_restricting_measure_removes_nothing(app, catalogue):
    app.config["LIST_KINDS"] = {**app.config["LIST_KINDS"], "watch": {
        "type": "black", "name": "重点关注名单", "measures": [], "basis": "测试依据", "exit": "期满"}}
    before = {kind: _eligible(need) for kind, need in catalogue["needs"].items()}
    lists.add_entry(db.session, catalogue["users"]["regulator"], catalogue["firm"], "watch", "测试")
    assert {kind: _eligible(need) for kind, need in catalogue["needs"].items()} == before


def test_an_entry_needs_a_known_list_a_reason_and_sensible_dates(world):
    regulator, firm = world["users"]["regulator"], world["firm"]
    with pytest.raises(InvalidInput):
        lists.add_entry(db.session, regulator, firm, "no_such_list", "测试")
    with pytest.raises(InvalidInput):
        lists.add_entry(db.session, regulator, firm, "trustworthy", " ")
    entry = lists.add_entry(db.session, regulator, firm, "trustworthy", "连续三年纳税信用A级")
    with pytest.raises(InvalidInput):
        lists.add_entry(db.session, regulator, firm, "trustworthy", "再列一次")
    with pytest.raises(InvalidInput):
        lists.remove_entry(db.session, regulator, entry, "提前移出", entry.listed_on.replace(year=2000))
    assert lists.subject_by_code(db.session, firm.uscc.lower()) == firm
    with pytest.raises(InvalidInput):
        lists.subject_by_code(db.session, "91610203XXXXXXXXXX")


def test_court_records_flagged_dishonest_list_and_delist_the_firm(world, tmp_path):
    firm = world["firm"]
    case = ["（2026）陕0203执100号", firm.uscc, "被执行人", "买卖合同纠纷", "12", "2026-03-02", "执行中"]
    first = write_csv(tmp_path / "司法_涉诉案件_1.csv", "court_case", [case + ["是"]])
    ingestion.ingest(db.session, [first], "610203")
    db.session.commit()
    [entry] = lists.entries_of(db.session, firm.id)
    assert (entry.list_kind, entry.source, entry.status) == ("court_dishonest", "court_case", "active")
    assert "陕0203执100号" in entry.reason and entry.source_record_id is not None
    corrected = write_csv(tmp_path / "司法_涉诉案件_2.csv", "court_case", [case[:-1] + ["已结案", "否"]])
    ingestion.ingest(db.session, [corrected], "610203")
    db.session.commit()
    db.session.expire_all()
    entry = db.session.get(ListEntry, entry.id)
    assert entry.status == "removed" and entry.removed_on is not None and "不再" in entry.removed_reason


def test_an_entry_past_its_term_leaves_its_list_on_its_last_day(catalogue):
    """Matching already ignores an entry past its term; the daily close records the exit, tells the firm and
    re-matches it, and leaves an entry still in its term alone."""
    regulator, firm, needs = catalogue["users"]["regulator"], catalogue["firm"], catalogue["needs"]
    before = {kind: _eligible(need) for kind, need in needs.items()}
    today = local_date()
    ended = lists.add_entry(db.session, regulator, firm, "court_dishonest", "案件（2026）陕0203执7号被列为失信被执行人",
                            listed_on=today - timedelta(days=30), ends_on=today + timedelta(days=1))
    lasting = lists.add_entry(db.session, regulator, firm, "trustworthy", "连续三年纳税信用A级",
                              listed_on=today - timedelta(days=30), ends_on=today + timedelta(days=2))
    assert _eligible(needs["credit"]) == set()
    assert lists.close_expired(db.session, today) == []
    assert lists.close_expired(db.session, today + timedelta(days=1)) == [firm.id]
    assert (ended.status, ended.removed_on) == ("removed", today + timedelta(days=1))
    assert ended.removed_reason == "名单期限届满"
    assert lasting.status == "active"
    assert {kind: _eligible(need) for kind, need in needs.items()} == before
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "ListEntry",
                                                                 AuditEntry.target_id == ended.id)).all()
    assert actions == ["list.add", "list.remove"]
    told = db.session.scalars(select(Notification).where(Notification.kind == "delisted")).all()
    assert [n.params["list_kind"] for n in told] == ["court_dishonest"]
    assert lists.close_expired(db.session, today + timedelta(days=1)) == []
