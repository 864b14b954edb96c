"""The regulator's audit page: readable actions in both languages, filters by who, what, institution and
dates, paging, CSV export (formula cells neutralised) and the tamper check; the platform admin sees the same
page, everyone else is refused."""
import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import select

from app.entities import AuditEntry
from app.extensions import db
from app.services import audit

from ..conftest import logged_in_client, page_text
from ..services.test_audit import tamper


def entry(actor, action, at, target=None, **details):
    """Commit one entry with its time set."""
    row = audit.record(db.session, actor, action, target, target_type="Test")
    row.at, row.details = at, {k: str(v) for k, v in details.items()}
    db.session.commit()
    return row.id


@pytest.fixture
def logged(world):
    users = world["users"]
    return {
        "officer": entry(users["officer"], "application.approve", datetime(2026, 3, 2, 2), note="=1+1"),
        "other": entry(users["officer_other"], "product.publish", datetime(2026, 3, 10, 2)),
        "firm": entry(users["firm"], "consent.grant", datetime(2026, 3, 20, 2), holder="610203199001011234"),
    }


def test_actions_read_as_words_in_chinese_and_english(app, world, logged):
    client = logged_in_client(app, world["users"]["regulator"])
    page = page_text(client.get("/regulator/audit"))
    assert "批准申请" in page and "产品发布" in page and "授权查询" in page and "共 3 条记录" in page
    client.get("/lang/en")
    english = page_text(client.get("/regulator/audit"))
    assert "Application approved" in english and "Consent granted" in english


@pytest.mark.parametrize(("query", "expected"), [
    ("username=OFFICER", {"officer", "other"}),
    ("username=officer_o", {"other"}),
    ("username=%25", set()),
    ("action=consent.grant", {"firm"}),
    ("from=2026-03-05&to=2026-03-15", {"other"}),
    ("from=2026-03-20", {"firm"}),
    ("to=2026-03-02", {"officer"}),
])
def test_filters_narrow_the_entries(app, world, logged, query, expected):
    page = page_text(logged_in_client(app, world["users"]["regulator"]).get(f"/regulator/audit?{query}"))
    shown = {name for name, entry_id in logged.items() if f"<code>{_action(entry_id)}</code>" in page}
    assert shown == expected


def _action(entry_id):
    return db.session.get(AuditEntry, entry_id).action


def test_the_institution_filter_keeps_that_tenants_staff(app, world, logged):
    client = logged_in_client(app, world["users"]["regulator"])
    page = page_text(client.get(f"/regulator/audit?institution={world['bank_b'].id}"))
    assert "产品发布" in page and "<code>application.approve</code>" not in page and "共 1 条记录" in page


@pytest.mark.parametrize(("query", "message"), [
    ("action=nothing.here", "没有“nothing.here”这种操作"),
    ("institution=99999", "没有这个机构"),
    ("institution=abc", "没有这个机构"),
    ("from=2026-13-01", "格式不对"),
    ("from=2026-03-10&to=2026-03-01", "结束日期不能早于开始日期"),
])
def test_bad_filters_are_refused_with_a_message(app, world, logged, query, message):
    response = logged_in_client(app, world["users"]["regulator"]).get(f"/regulator/audit?{query}")
    assert response.status_code == 400 and message in page_text(response)


def test_pages_of_fifty_newest_first(app, world):
    for number in range(55):
        audit.record(db.session, world["users"]["officer"], "loan.report", None, target_type="Loan", target_id=number)
    db.session.commit()
    client = logged_in_client(app, world["users"]["regulator"])
    first, second = page_text(client.get("/regulator/audit")), page_text(client.get("/regulator/audit?page=2"))
    assert "Loan #54<" in first and "Loan #5<" in first and "Loan #4<" not in first and "下一页" in first
    assert "Loan #4<" in second and "Loan #0<" in second and "Loan #5<" not in second and "下一页" not in second
    assert client.get("/regulator/audit?page=0").status_code == 200  # a bad page number is page 1


def test_export_is_the_filtered_log_with_formulas_neutralised_and_ids_masked(app, world, logged):
    client = logged_in_client(app, world["users"]["regulator"])
    response = client.get("/regulator/audit/export.csv?username=officer")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["编号", "时间（UTC）", "操作人", "所属机构", "操作"]
    assert [row[5] for row in rows[1:]] == ["application.approve", "product.publish"]
    assert rows[1][8] == "note==1+1"  # details start with their key: no formula
    everyone = page_text(client.get("/regulator/audit/export.csv"))
    assert "610203199001011234" not in everyone and "610203********1234" in everyone


def test_export_neutralises_a_cell_that_starts_like_a_formula(app, world):
    tricky = world["users"]["officer"]
    tricky.display_name = "=cmd"
    tricky.username = "@evil"
    db.session.commit()
    entry(tricky, "product.update", datetime(2026, 3, 2, 2))
    rows = list(csv.reader(io.StringIO(page_text(logged_in_client(app, world["users"]["regulator"])
                                                 .get("/regulator/audit/export.csv")).lstrip("\ufeff"))))
    assert rows[1][2] == "'@evil"


def test_the_tamper_check_on_the_page(app, world, logged):
    client = logged_in_client(app, world["users"]["regulator"])
    assert "校验通过：3 条记录" in page_text(client.get("/regulator/audit/verify"))
    tamper("UPDATE audit_log SET action = 'application.decline' WHERE id = :id", id=logged["officer"])
    page = page_text(client.get("/regulator/audit/verify"))
    assert f"自第 {logged['officer']} 条记录起哈希链断裂" in page


@pytest.mark.parametrize("path", ["/platform/audit", "/platform/audit/verify", "/platform/audit/export.csv"])
def test_the_platform_admin_has_the_same_page(app, world, logged, path):
    assert logged_in_client(app, world["users"]["platform_admin"]).get(path).status_code == 200


@pytest.mark.parametrize("role", ["firm", "officer", "lender_admin", "data_admin"])
@pytest.mark.parametrize("path", ["/regulator/audit", "/regulator/audit/verify", "/regulator/audit/export.csv"])
def test_nobody_else_sees_the_log(app, world, role, path):
    assert logged_in_client(app, world["users"][role]).get(path).status_code == 403


def test_viewing_the_page_writes_nothing(app, world, logged):
    logged_in_client(app, world["users"]["regulator"]).get("/regulator/audit")
    assert len(db.session.scalars(select(AuditEntry)).all()) == 3
