"""Two people at the same moment, on real threads with their own database connections: one
decision wins and the other is refused with nothing written; a form submitted twice at once
makes one record."""
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.common.errors import NotAllowed
from app.entities import (
    Application,
    ApplicationEvent,
    AuditEntry,
    Consent,
    CreditSubject,
    FinancingNeed,
    Product,
    User,
)
from app.extensions import db
from app.services import applications, needs, products

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text

CONFLICT = "已被他人处理，请刷新后查看。"


def race(app, *steps):
    """Run each `step(session)` on its own thread, app context and connection; all start together
    once each has read what it needs. Returns ("ok", value) or ("refused", message) per step."""
    barrier = threading.Barrier(len(steps), timeout=30)
    results = [None] * len(steps)

    def run(index, step):
        with app.app_context():
            try:
                act = step(db.session)  # reads; returns the action to take once both have read
                barrier.wait()
                value = act()
                db.session.commit()
                results[index] = ("ok", value)
            except NotAllowed as refusal:
                db.session.rollback()
                results[index] = ("refused", refusal.message)
            except Exception as error:  # noqa: BLE001  (reported in the results, not lost on the thread)
                db.session.rollback()
                results[index] = ("error", repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, step)) for i, step in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    return results


def count(entity, *where):
    return db.session.scalar(select(func.count(entity.id)).where(*where))


def decision(kind, application_id, officer_id, seen_version=1):
    """A step that loads the application and the officer, then approves or declines."""
    def step(session):
        application, officer = session.get(Application, application_id), session.get(User, officer_id)
        application.product  # noqa: B018  (read before the start, as a page would have)
        if kind == "approve":
            return lambda: applications.approve(session, application, officer, factories.offer(),
                                                seen_version=seen_version)
        return lambda: applications.decline(session, application, officer, ["tax_arrears"],
                                            seen_version=seen_version)
    return step


@pytest.mark.parametrize(("first", "second"), [("approve", "decline"), ("decline", "approve"),
                                               ("approve", "approve")])
@pytest.mark.parametrize("seen", [1, None], ids=["page-version", "just-read"])
def test_two_decisions_at_once_give_exactly_one(app, world, first, second, seen):
    application = factories.put_in_status(world, "in_review")
    second_officer = factories.UserFactory(role="lender_officer", institution=world["bank_a"])
    db.session.commit()
    results = race(app, decision(first, application.id, world["users"]["officer"].id, seen),
                   decision(second, application.id, second_officer.id, seen))
    assert sorted(kind for kind, _value in results) == ["ok", "refused"], results
    assert [value for kind, value in results if kind == "refused"] == [CONFLICT]
    winner = (first, second)[[kind for kind, _value in results].index("ok")]
    stored = db.session.get(Application, application.id)
    assert stored.version == 2
    assert count(ApplicationEvent, ApplicationEvent.application_id == application.id,
                 ApplicationEvent.to_status.in_(("approved", "declined"))) == 1
    assert count(AuditEntry) == 1
    if winner == "approve":
        assert stored.status == "approved" and stored.decision_reasons is None
        assert stored.approved_amount == Decimal("400000.00")
    else:
        assert stored.status == "declined" and stored.decision_reasons == ["tax_arrears"]
        assert stored.approved_amount is None and stored.offer_valid_until is None


def test_accepting_an_offer_while_it_expires_gives_one_outcome(app, world):
    application = factories.put_in_status(world, "approved")
    firm_id = world["users"]["firm"].id

    def accept(session):
        row, user = session.get(Application, application.id), session.get(User, firm_id)
        return lambda: applications.accept_offer(session, row, user, seen_version=1)

    def expire(session):
        row = session.get(Application, application.id)
        return lambda: applications.advance(row, "expired", None)

    results = race(app, accept, expire)
    assert sorted(kind for kind, _value in results) == ["ok", "refused"], results
    stored = db.session.get(Application, application.id)
    assert stored.status in ("offer_accepted", "expired") and stored.version == 2
    assert len(stored.events) == 2


def apply_step(world, product_id, token):
    def step(session):
        need = session.get(FinancingNeed, world["need"].id)
        product = session.get(Product, product_id)
        user = session.get(User, world["users"]["firm"].id)
        product.institution  # noqa: B018

        def act():
            try:
                return applications.apply(session, need, product, user, True, form_token=token).id
            except NotAllowed:
                session.rollback()
                earlier = applications.submitted_with(session, user.subject_id, token)
                if earlier is None:
                    raise
                return earlier.id
        return act
    return step


@pytest.mark.parametrize("tokens", [("t" * 32, "t" * 32), ("a" * 32, "b" * 32), (None, None)],
                         ids=["same-form", "two-tabs", "no-token"])
def test_two_submits_of_an_application_at_once_make_one(app, world, tokens):
    product = factories.ProductFactory(institution=world["bank_b"])
    products.current_version(db.session, product)  # as publishing records it
    db.session.commit()
    before = count(Consent)
    results = race(app, *(apply_step(world, product.id, token) for token in tokens))
    made = count(Application, Application.product_id == product.id)
    assert made == 1, results
    assert count(Consent) == before + 1  # the refused submit's consent was rolled back with it
    ids = {value for kind, value in results if kind == "ok"}
    if tokens[0] == tokens[1] and tokens[0]:
        assert [kind for kind, _value in results] == ["ok", "ok"] and len(ids) == 1, results
    else:
        assert sorted(kind for kind, _value in results) == ["ok", "refused"]


def test_two_submits_of_the_need_form_at_once_post_one_need(app, world):
    subject_id, user_id = world["firm"].id, world["users"]["firm"].id
    before = count(FinancingNeed)

    def post(session):
        subject, user = session.get(CreditSubject, subject_id), session.get(User, user_id)

        def act():
            try:
                return needs.post_need(session, subject, user, Decimal("300000"), 12, "购置设备", "credit",
                                       form_token="n" * 32).id
            except NotAllowed:
                session.rollback()
                return needs.posted_with_token(session, subject_id, "n" * 32).id
        return act

    results = race(app, post, post)
    assert [kind for kind, _value in results] == ["ok", "ok"]
    assert len({value for _kind, value in results}) == 1
    assert count(FinancingNeed) == before + 1


def test_a_double_click_on_the_apply_page_makes_one_application(app, world):
    """Through the pages: two posts of the same rendered form, from two threads, both land on the one application."""
    product = factories.ProductFactory(institution=world["bank_b"])
    products.current_version(db.session, product)
    db.session.commit()
    url = f"/firm/needs/{world['need'].id}/apply/{product.id}"
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get(url))
    token = csrf_token(page)
    form_token = page.split('name="form_token" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": token, "form_token": form_token, "consent": "y"}
    responses = [None, None]

    def post(index):
        responses[index] = client.post(url, data=data)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    application = db.session.scalars(select(Application).where(Application.product_id == product.id)).one()
    assert [r.status_code for r in responses] == [302, 302]
    assert {r.headers["Location"] for r in responses} == {f"/firm/applications/{application.id}"}
