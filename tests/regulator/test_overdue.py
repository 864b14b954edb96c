"""The regulator's 超时未处理申请: overdue applications across institutions and each institution's response times."""
from datetime import timedelta

from app.entities.base import utcnow

from ..conftest import logged_in_client, page_text
from ..services.test_response_clock import application_of


def test_overdue_applications_of_every_institution_are_listed_with_their_days_late(app, world):
    application_of(world, submitted=utcnow() - timedelta(days=40))
    application_of(world, institution=world["bank_b"], submitted=utcnow() - timedelta(days=20))
    application_of(world, submitted=utcnow())  # not due yet
    application_of(world, status="info_requested", submitted=utcnow() - timedelta(days=40))  # the firm's turn
    client = logged_in_client(app, world["users"]["regulator"])
    assert "超时未处理申请（2）" in page_text(client.get("/regulator/"))
    page = page_text(client.get("/regulator/overdue"))
    listed = page[page.index("超时未处理申请（2）"):]
    assert listed.count('<tr class="late">') == 2
    assert listed.index(world["bank_a"].name) < listed.index(world["bank_b"].name)  # the longest overdue first
    assert world["product"].name in listed and "已超时" in listed and "未分配" in listed


def test_each_institution_shows_its_limit_and_figures(app, world):
    application_of(world, status="approved", submitted=utcnow() - timedelta(days=3), decided=utcnow())
    page = page_text(logged_in_client(app, world["users"]["regulator"]).get("/regulator/overdue"))
    table = page[:page.index("超时未处理申请（0）")]
    assert world["bank_a"].name in table and world["bank_b"].name in table
    assert "100%" in table and "目前没有超时未处理的申请" in page
