"""Bugs found by review, each pinned by a test."""
from decimal import Decimal

import pytest

from app.common.errors import InvalidInput, NotAllowed
from app.common.money import format_rate
from app.extensions import db
from app.services import accounts, applications, products

from .. import factories
from ..conftest import logged_in_client


def test_firm_cannot_push_a_fresh_application_into_review(app, world):
    application = world["application"]
    with app.test_request_context(), pytest.raises(NotAllowed):
        applications.answer_info_request(application, world["users"]["firm"], "补充")
    assert application.status == "submitted"


@pytest.mark.parametrize(("rate", "text"), [("20.000", "20"), ("4.350", "4.35"), ("10", "10"), ("0.5", "0.5")])
def test_rates_read_as_plain_numbers(rate, text):
    assert format_rate(Decimal(rate)) == text


def test_near_miss_sentence_shows_whole_rates_plainly(app, world):
    need = world["need"]
    need.max_rate = Decimal("2.000")
    with app.test_request_context():
        failures = products.failed_rules(db.session, world["product"], need)
    assert any("2%" in str(f) and "E+" not in str(f) for f in failures)


def test_no_applications_to_a_suspended_institution(app, world):
    world["bank_a"].active = False
    db.session.commit()
    with app.test_request_context(), pytest.raises(NotAllowed):
        applications.apply(db.session, world["need"], world["product"], world["users"]["firm"], True)
    db.session.rollback()
    client = logged_in_client(app, world["users"]["firm"])
    assert client.get(f"/firm/needs/{world['need'].id}/apply/{world['product'].id}").status_code == 404


def test_full_width_username_is_stored_as_ascii_and_found(app, world):
    with app.test_request_context():
        user = accounts.create_user(db.session, "ＷＡＮＧ_01", "Secret-2026", "regulator", "王")
        assert user.username == "WANG_01"
        assert accounts.find_user(db.session, "wang_01") is user
        with pytest.raises(InvalidInput):
            accounts.create_user(db.session, "王经理", "Secret-2026", "regulator", "王")


def test_password_needs_letters_and_digits(app):
    with app.test_request_context(), pytest.raises(InvalidInput):
        accounts.check_password_strength("abcdefg!")


def test_approval_note_is_limited_like_the_others(app, world):
    application = world["application"]
    with app.test_request_context():
        applications.start_review(application, world["users"]["officer"])
        with pytest.raises(InvalidInput):
            applications.approve(db.session, application, world["users"]["officer"],
                                 factories.offer(amount=Decimal(100000), rate=Decimal("4.0")), "长" * 501)
    assert application.status == "in_review"


def test_farmer_code_must_belong_to_the_chosen_town(app):
    from app.services import subjects

    with app.test_request_context(), pytest.raises(InvalidInput):
        subjects.register_subject(db.session, "farmer", "王建军", "610203106001020031", "610203100")
