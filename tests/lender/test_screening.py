"""在线优企筛选: anonymised unless the firm released its identity to the lender (a screening consent in
force); each view logged under that consent; own products only."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.entities import AuditEntry, Consent, DataAccessLog
from app.entities.base import utcnow
from app.extensions import db
from app.services import matches

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text

PURPOSE = "购置电窑专用设备甲"
PROFILE_KEYS = {"industry_section", "town", "size_class", "grade", "amount_band_wan", "term_band_months",
                "fit_band", "priority"}


def other_firms_need(world):
    """An open need of the firm that has no consent for bank A, matched."""
    need = factories.NeedFactory(subject=world["other_firm"], amount=Decimal("1234500.00"), purpose=PURPOSE,
                                 created_by_id=world["users"]["firm_other"].id)
    factories.add_score(world["other_firm"], "B", 0.03)
    matches.rematch_all(db.session)
    db.session.commit()
    return need


def screening(app, world, persona="officer", **args):
    client = logged_in_client(app, world["users"][persona])
    query = "&".join(f"{k}={v}" for k, v in {"product_id": world["product"].id, **args}.items())
    return client.get(f"/lender/screening?{query}"), client.get(f"/api/v1/products/{world['product'].id}/screening")


def test_anonymised_profile_leaks_no_identifying_field(app, world):
    need = other_firms_need(world)
    page, api = screening(app, world)
    html, body = page_text(page), api.get_data(as_text=True)
    firm = world["other_firm"]
    for secret in (firm.name, firm.uscc, PURPOSE, "123.45", "1234500", f"/needs/{need.id}"):
        assert secret not in html and secret not in body, secret
    assert "匿名企业" in html and "100–300 万元" in html and "红土镇" in html
    rows = api.get_json()["firms"]
    assert not [r for r in rows if r["identified"]]  # neither firm released its identity to bank A
    anonymous = [r for r in rows if r["profile"]["town"] == firm.town_code]
    assert len(anonymous) == 1 and set(anonymous[0]) == {"identified", "profile"}
    assert set(anonymous[0]["profile"]) == PROFILE_KEYS
    assert anonymous[0]["profile"]["amount_band_wan"] == [100, 300] and anonymous[0]["profile"]["grade"] == "B"


def screening_consent(world, **values):
    """A consent of the world's firm to bank A for the screening purpose."""
    consent = factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                                       purpose_code="screening", purpose_text="在线优企筛选", **values)
    db.session.commit()
    return consent


def shows_the_firm(app, world):
    """Whether bank A's screening, as a page and by the API, names the world's firm and its need."""
    page, api = screening(app, world)
    html = page_text(page)
    named = [row for row in api.get_json()["firms"] if row["identified"]]
    page_names = world["firm"].name in html and world["need"].purpose in html
    assert page_names == bool(named)
    return page_names


def test_a_screening_consent_shows_the_firm_by_name_and_each_view_is_logged_under_it(app, world):
    other_firms_need(world)
    consent = screening_consent(world)
    assert shows_the_firm(app, world)
    logged = db.session.execute(select(DataAccessLog.subject_id, DataAccessLog.consent_id, DataAccessLog.purpose,
                                       DataAccessLog.what)).all()
    assert logged == [(world["firm"].id, consent.id, "screening", f"screening:product:{world['product'].id}")] * 2


def test_a_screening_view_without_a_screening_consent_shows_no_firm(app, world):
    # The world's firm has an underwriting consent to bank A for its application: it covers that
    # application, not the screening of its needs.
    other_firms_need(world)
    assert not shows_the_firm(app, world)
    screening_consent(world, valid_from=utcnow() - timedelta(days=40), valid_to=utcnow() - timedelta(minutes=1))
    screening_consent(world, status="revoked")
    assert not shows_the_firm(app, world)
    assert db.session.scalars(select(DataAccessLog)).all() == []


def test_release_identifies_the_firm_until_it_is_revoked(app, world):
    other_firms_need(world)
    firm = logged_in_client(app, world["users"]["firm_other"])
    token = csrf_token(page_text(firm.get("/firm/identity")))
    assert firm.post(f"/firm/identity/{world['bank_a'].id}/release", data={"csrf_token": token}).status_code == 302
    html = page_text(screening(app, world)[0])
    assert world["other_firm"].name in html and PURPOSE in html
    assert page_text(screening(app, world, "officer_other")[0]).count(PURPOSE) == 0
    release = db.session.scalars(select(Consent).where(Consent.subject_id == world["other_firm"].id)).one()
    assert (release.purpose_code, release.institution_id, release.status) == ("screening", world["bank_a"].id, "active")
    assert "在线优企筛选" in page_text(firm.get("/firm/consents"))
    assert firm.post(f"/firm/identity/releases/{release.id}/revoke", data={"csrf_token": token}).status_code == 302
    html = page_text(screening(app, world)[0])
    assert world["other_firm"].name not in html and PURPOSE not in html
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    # The firm shown once on the page and once through the API: each view audited.
    assert actions[-4:] == ["identity.release", "firm_data.view", "firm_data.view", "consent.revoke"]
    logged = db.session.execute(select(DataAccessLog.subject_id, DataAccessLog.consent_id)).all()
    assert logged == [(world["other_firm"].id, release.id)] * 2


def test_another_firm_cannot_revoke_a_release(app, world):
    release = screening_consent(world)
    other = logged_in_client(app, world["users"]["firm_other"])
    token = csrf_token(page_text(other.get("/firm/identity")))
    assert other.post(f"/firm/identity/releases/{release.id}/revoke", data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert release.status == "active"


def test_a_lender_sees_only_its_own_products_screening(app, world):
    other_firms_need(world)
    page, api = screening(app, world, "officer_other")
    assert page.status_code == 404 and api.status_code == 404


def test_filters_use_bands(app, world):
    other_firms_need(world)
    assert "匿名企业" not in page_text(screening(app, world, amount_band=1)[0])
    assert "匿名企业" in page_text(screening(app, world, amount_band=3, town="610203101", grade="C")[0])
    assert "匿名企业" not in page_text(screening(app, world, grade="A")[0])


@pytest.mark.parametrize(("name", "value"), [("grade", "Z"), ("town", "110101001"), ("industry", "ZZ"),
                                             ("amount_band", "99"), ("grade", "b")])
def test_an_unknown_filter_code_is_refused_with_a_message_on_the_page_and_the_api(app, world, name, value):
    other_firms_need(world)
    client = logged_in_client(app, world["users"]["officer"])
    page = client.get(f"/lender/screening?product_id={world['product'].id}&{name}={value}")
    assert page.status_code == 400 and f"没有“{value}”这一项，请从列表中选择" in page_text(page)
    api = client.get(f"/api/v1/products/{world['product'].id}/screening?{name}={value}")
    assert api.status_code == 400 and f"“{value}”" in api.get_json()["error"]["message"]
    assert db.session.scalars(select(DataAccessLog)).all() == []


def test_a_known_grade_still_filters(app, world):
    other_firms_need(world)
    page, _api = screening(app, world, grade="A")
    assert page.status_code == 200 and "匿名企业" not in page_text(page)
    assert "匿名企业" in page_text(screening(app, world, grade="B")[0])
