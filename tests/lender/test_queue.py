"""The officer's work queue: due first, overdue in red, scopes, and the admin's assignments."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.common.errors import NotAllowed
from app.entities import AuditEntry
from app.entities.base import utcnow
from app.extensions import db
from app.services import queues, response_clock

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text
from ..services.test_response_clock import application_of


def names_in_order(page, names):
    """`names` sorted by where they first appear on `page`."""
    return sorted(names, key=page.index)


def queue_with_three(world):
    """Three applications to bank A from three firms: due in a week, overdue by weeks, due in a day."""
    rows = {}
    for name, submitted in (("远期企业", utcnow() + timedelta(days=4)), ("超时企业", utcnow() - timedelta(days=30)),
                            ("近期企业", utcnow())):
        rows[name] = application_of(world, submitted=submitted)
        rows[name].subject = factories.SubjectFactory(name=name)
    world["application"].status = "approved"
    db.session.commit()
    return rows


def test_the_queue_puts_the_most_urgent_first_and_marks_the_overdue(app, world):
    rows = queue_with_three(world)
    page = page_text(logged_in_client(app, world["users"]["officer"]).get("/lender/"))
    assert names_in_order(page, list(rows)) == ["超时企业", "近期企业", "远期企业"]
    late = re.search(r'<tr class="late">.*?</tr>', page, re.S).group(0)
    assert "超时企业" in late and re.search(r'class="overdue">已超时 \d+ 个工作日', late)
    assert page.count("已超时") == 1
    assert page.count('class="late"') == 1


def test_another_institutions_officer_sees_none_of_it(app, world):
    queue_with_three(world)
    page = page_text(logged_in_client(app, world["users"]["officer_other"]).get("/lender/"))
    assert "超时企业" not in page and "暂无申请" in page


def assign(client, application, officer_id):
    token = csrf_token(page_text(client.get("/lender/")))
    return client.post(f"/lender/applications/{application.id}/assign",
                       data={"csrf_token": token, "officer_id": officer_id or ""})


def test_the_admin_assigns_and_the_officer_sees_it_as_mine(app, world):
    application = world["application"]
    second = factories.UserFactory(username="officer2", display_name="王经理", role="lender_officer",
                                   institution=world["bank_a"])
    db.session.commit()
    admin = logged_in_client(app, world["users"]["lender_admin"])
    response = assign(admin, application, world["users"]["officer"].id)
    assert response.status_code == 302
    db.session.expire_all()
    assert application.assigned_to_id == world["users"]["officer"].id
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "application.assign")).all()
    assert entry.actor_id == world["users"]["lender_admin"].id and entry.details == {"officer": "officer"}

    officer = logged_in_client(app, world["users"]["officer"])
    assert world["firm"].name in page_text(officer.get("/lender/?scope=mine"))
    assert world["firm"].name not in page_text(officer.get("/lender/?scope=unassigned"))
    other = logged_in_client(app, second)
    assert world["firm"].name not in page_text(other.get("/lender/?scope=mine"))
    assert "分配给我（0）" in page_text(other.get("/lender/")) and "未分配（0）" in page_text(other.get("/lender/"))

    assign(admin, application, None)
    db.session.expire_all()
    assert application.assigned_to_id is None
    assert world["firm"].name in page_text(officer.get("/lender/?scope=unassigned"))


def test_the_admins_page_offers_only_its_own_officers(app, world):
    page = page_text(logged_in_client(app, world["users"]["lender_admin"]).get("/lender/"))
    assert f'<option value="{world["users"]["officer"].id}">officer</option>' in page
    assert "officer_other" not in page and "分配给我" not in page


def test_assignment_across_institutions_is_refused(app, world):
    admin = logged_in_client(app, world["users"]["lender_admin"])
    # An officer of bank B, for bank A's application: not found among bank A's officers.
    assert assign(admin, world["application"], world["users"]["officer_other"].id).status_code == 404
    # Bank B's application, by bank A's admin: not found.
    foreign = application_of(world, institution=world["bank_b"])
    assert assign(admin, foreign, world["users"]["officer"].id).status_code == 404
    # An officer may not assign at all.
    officer = logged_in_client(app, world["users"]["officer"])
    assert assign(officer, world["application"], world["users"]["officer"].id).status_code == 403
    db.session.expire_all()
    assert world["application"].assigned_to_id is None and foreign.assigned_to_id is None


def test_the_service_refuses_what_the_page_cannot_send(world):
    application, admin = world["application"], world["users"]["lender_admin"]
    with pytest.raises(NotAllowed, match="本机构在岗的客户经理"):
        queues.assign(db.session, application, world["users"]["officer_other"], admin)
    with pytest.raises(NotAllowed, match="本机构在岗的客户经理"):
        queues.assign(db.session, application, admin, admin)
    with pytest.raises(NotAllowed, match="只有本机构的管理员"):
        queues.assign(db.session, application, world["users"]["officer"], world["users"]["officer"])
    application.status = "declined"
    with pytest.raises(NotAllowed, match="已办结"):
        queues.assign(db.session, application, world["users"]["officer"], admin)


def test_the_admin_sees_the_escalated_and_the_institutions_response_times(app, world):
    late = application_of(world, submitted=utcnow() - timedelta(days=30))
    application_of(world, status="approved", submitted=utcnow() - timedelta(days=10), decided=utcnow())
    response_clock.escalate_overdue(db.session, utcnow())
    db.session.commit()
    admin = logged_in_client(app, world["users"]["lender_admin"])
    page = page_text(admin.get("/lender/?scope=escalated"))
    assert "超时已上报（1）" in page and "已上报机构管理员" in page and page.count('class="late"') == 1
    assert "按时办结率" in page and "已办结 1 件，超时未办 1 件" in page
    assert late.id


def test_decided_applications_are_listed_latest_decision_first(app, world):
    older = application_of(world, status="approved", decided=utcnow() - timedelta(days=2))
    newer = application_of(world, status="approved", decided=utcnow() - timedelta(days=1))
    rows = queues.officer_queue(db.session, world["users"]["officer"], utcnow(), status="approved").rows
    assert [row.application.id for row in rows] == [newer.id, older.id]
    assert not any(row.is_open or row.days_late for row in rows)


def test_the_latest_decisions_follow_the_queue_with_the_late_ones_marked(app, world):
    late = application_of(world, status="declined", submitted=utcnow() - timedelta(days=30), decided=utcnow())
    late.subject = factories.SubjectFactory(name="迟办企业")
    db.session.commit()
    client = logged_in_client(app, world["users"]["officer"])
    page = page_text(client.get("/lender/"))
    recent = page[page.index("最近办结"):]
    assert "迟办企业" in recent and "超时办结" in recent and "迟办企业" not in page[:page.index("最近办结")]
    assert "最近办结" not in page_text(client.get("/lender/?scope=mine"))


@pytest.mark.parametrize("query", ["scope=everything", "status=lost", "status=submitted&scope=x"])
def test_an_unknown_scope_or_status_is_refused_with_a_message(app, world, query):
    response = logged_in_client(app, world["users"]["officer"]).get(f"/lender/?{query}")
    assert response.status_code == 400 and "这一项，请从列表中选择" in page_text(response)
