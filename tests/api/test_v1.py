"""The token API: each scope opens exactly its endpoints, other institutions' ids are 404, the services'
rules hold, writes are idempotent, bulk uploads reject bad rows and write the good ones once."""
import logging
import threading
from datetime import timedelta

import pytest

from app.api.endpoint import ENDPOINTS
from app.common.dates import local_date
from app.common.vocab import API_SCOPES, LENDER_API_SCOPES
from app.entities import ApplicationEvent, DataAccessLog, IdempotencyKey, Loan, Product
from app.entities.base import utcnow
from app.extensions import db

from .. import factories
from .conftest import bearer, make_token

BODIES = {
    "application_request_info": {"note": "请补充银行流水"},
    "application_approve": {"amount_wan": 40, "rate": 4.5, "term_months": 12, "repayment": "annuity",
                            "guarantee": "credit", "valid_until": "2099-12-31"},
    "application_decline": {"reasons": ["tax_arrears"]},
    "loan_disbursements": {"rows": [{"application_id": 1, "amount_wan": 1, "disbursed_on": "2026-01-01",
                                     "reference": "R1"}]},
    "loan_repayments": {"rows": [{"reference": "R1", "month": "2026-01", "days_past_due": 0,
                                  "outstanding_yuan": 1}]},
    "product_publish": {"name": "新产品", "amount_min_wan": 1, "amount_max_wan": 50, "term_min_months": 6,
                        "term_max_months": 24, "rate_min": 4, "rate_max": 6, "guarantee_types": ["credit"]},
}
BODIES["product_update"] = BODIES["product_publish"]


def _url(spec, world):
    return "/api/v1" + spec.path.format(application_id=world["application"].id, product_id=world["product"].id)


def _call(client, spec, world, plain, key="k"):
    body = BODIES.get(spec.view.__name__, {})
    return client.open(_url(spec, world), method=spec.method, json=body, headers=bearer(plain, key))


@pytest.mark.parametrize("spec", ENDPOINTS, ids=lambda s: s.view.__name__)
def test_each_scope_opens_exactly_its_endpoints(app, world, spec):
    holder = world["users"]["regulator" if spec.scope == "market:read" else "lender_admin"]
    own = LENDER_API_SCOPES if spec.scope != "market:read" else ()
    others = [s for s in own if s != spec.scope]
    client = app.test_client()
    if others:
        _token, without = make_token(holder, others)
        refused = _call(client, spec, world, without)
        assert refused.status_code == 403 and refused.get_json()["scope"] == spec.scope
    _token, only = make_token(holder, [spec.scope])
    allowed = _call(client, spec, world, only, key="k2")
    assert allowed.status_code not in (401, 403, 404, 405), allowed.get_json()
    assert allowed.headers["X-Request-ID"]


def test_scopes_vocabulary_is_what_the_endpoints_use():
    assert {spec.scope for spec in ENDPOINTS} == set(API_SCOPES)


@pytest.mark.parametrize("path", ["/applications/{a}", "/applications/{a}/profile"])
def test_another_institutions_ids_are_404(app, world, path):
    _token, plain = make_token(world["users"]["officer_other"])
    response = app.test_client().get("/api/v1" + path.format(a=world["application"].id), headers=bearer(plain))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_another_institutions_writes_are_404(app, world):
    _token, plain = make_token(world["users"]["officer_other"])
    client = app.test_client()
    review = client.post(f"/api/v1/applications/{world['application'].id}/review", json={}, headers=bearer(plain, "x"))
    retire = client.post(f"/api/v1/products/{world['product'].id}/retire", json={}, headers=bearer(plain, "y"))
    assert review.status_code == retire.status_code == 404
    assert world["application"].status == "submitted" and world["product"].status == "published"


def test_list_filters_and_pages_with_a_cursor(app, world, lender_token):
    for _ in range(4):
        other_need = factories.NeedFactory(subject=world["firm"], created_by_id=world["users"]["firm"].id)
        extra = factories.ApplicationFactory(need=other_need, product=world["product"], subject_id=world["firm"].id,
                                             institution_id=world["bank_a"].id, consent_id=world["consent"].id,
                                             status="in_review")
        extra.events.append(ApplicationEvent(to_status="submitted", actor_id=world["users"]["firm"].id,
                                             at=utcnow() - timedelta(days=3)))
    db.session.commit()
    client = app.test_client()
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/applications", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=bearer(lender_token)).get_json()
        seen += [a["id"] for a in page["applications"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 5
    reviewing = client.get("/api/v1/applications?status=in_review", headers=bearer(lender_token)).get_json()
    assert len(reviewing["applications"]) == 4
    since = (utcnow() - timedelta(days=1)).isoformat() + "Z"
    recent = client.get("/api/v1/applications", query_string={"updated_since": since},
                        headers=bearer(lender_token)).get_json()
    assert [a["id"] for a in recent["applications"]] == [world["application"].id]
    bad = client.get("/api/v1/applications?cursor=zzz", headers=bearer(lender_token))
    assert bad.status_code == 422


def test_profile_needs_the_consent_and_is_logged(app, world, lender_token):
    client = app.test_client()
    url = f"/api/v1/applications/{world['application'].id}/profile"
    assert client.get(url, headers=bearer(lender_token)).status_code == 200
    logged = db.session.scalars(db.select(DataAccessLog).where(DataAccessLog.subject_id == world["firm"].id)).all()
    assert [entry.what for entry in logged] == [f"api:profile:application:{world['application'].id}"]
    world["consent"].status = "revoked"
    db.session.commit()
    refused = client.get(url, headers=bearer(lender_token))
    assert refused.status_code == 409
    assert refused.get_json()["detail"] and refused.get_json()["detail_en"]
    assert len(db.session.scalars(db.select(DataAccessLog)).all()) == 1


def test_decisions_go_through_the_state_machine(app, world, lender_token):
    client = app.test_client()
    base = f"/api/v1/applications/{world['application'].id}"
    early = client.post(base + "/approve", json=BODIES["application_approve"], headers=bearer(lender_token, "a1"))
    assert early.status_code == 409
    assert client.post(base + "/review", json={"version": 1}, headers=bearer(lender_token, "a2")).status_code == 200
    stale = client.post(base + "/decline", json={"reasons": ["tax_arrears"], "version": 1},
                        headers=bearer(lender_token, "a3"))
    assert stale.status_code == 409
    bad = client.post(base + "/approve", json={**BODIES["application_approve"], "rate": 30},
                      headers=bearer(lender_token, "a4"))
    assert bad.status_code == 422 and bad.get_json()["field"] == "rate"
    approved = client.post(base + "/approve", json=BODIES["application_approve"], headers=bearer(lender_token, "a5"))
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["offer"]["amount_wan"] == 40.0 and approved.get_json()["status"] == "approved"
    event = world["application"].events[-1]
    assert event.to_status == "approved" and event.actor_id == world["users"]["lender_admin"].id


def test_a_replay_returns_the_first_response_without_acting(app, world, lender_token):
    client = app.test_client()
    url = f"/api/v1/applications/{world['application'].id}/review"
    first = client.post(url, json={}, headers=bearer(lender_token, "same"))
    again = client.post(url, json={}, headers=bearer(lender_token, "same"))
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(world["application"].events) == 2
    other = client.post(url, json={"note": "另一个请求"}, headers=bearer(lender_token, "same"))
    assert other.status_code == 422
    missing = client.post(url, json={}, headers=bearer(lender_token))
    assert missing.status_code == 400


def test_keys_expire_after_a_day(app, world, lender_token):
    client = app.test_client()
    url = f"/api/v1/products/{world['product'].id}/retire"
    assert client.post(url, headers=bearer(lender_token, "old")).status_code == 200
    row = db.session.scalars(db.select(IdempotencyKey)).one()
    row.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    again = client.post(url, headers=bearer(lender_token, "old"))
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers  # acted again: already retired
    purged = app.test_cli_runner().invoke(args=["api", "purge-keys"])
    assert purged.output.strip().splitlines()[-1] == '{"purged": 1}'
    assert db.session.scalars(db.select(IdempotencyKey)).all() == []


def test_concurrent_replays_act_once(app, world, lender_token, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL")
    url = f"/api/v1/applications/{world['application'].id}/review"
    barrier = threading.Barrier(4)
    answers = []

    def send():
        client = app.test_client()
        barrier.wait()
        with app.app_context():
            answers.append(client.post(url, json={}, headers=bearer(lender_token, "race")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.get_data() for a in answers}) == 1
    db.session.expire_all()
    reviews = db.session.scalars(db.select(ApplicationEvent).where(ApplicationEvent.to_status == "in_review")).all()
    assert len(reviews) == 1


def test_bulk_repayments_reject_a_bad_row_and_write_the_good_ones_once(app, world, lender_token):
    world["application"].status = "offer_accepted"
    db.session.commit()
    factories.put_in_status(world, "disbursed")
    month = (local_date() - timedelta(days=40)).strftime("%Y-%m")
    rows = [{"reference": "YT-TEST-0001", "month": month, "days_past_due": 0, "outstanding_yuan": 300000},
            {"reference": "NO-SUCH-LOAN", "month": month, "days_past_due": 0, "outstanding_yuan": 1}]
    client = app.test_client()
    first = client.post("/api/v1/loans/repayments", json={"rows": rows}, headers=bearer(lender_token, "m1"))
    body = first.get_json()
    assert first.status_code == 200, body
    assert (body["loaded"], body["rejected"]) == (1, 1) and body["rejects"][0]["index"] == 1
    assert "NO-SUCH-LOAN" in body["rejects"][0]["error"]
    replay = client.post("/api/v1/loans/repayments", json={"rows": rows}, headers=bearer(lender_token, "m1"))
    assert replay.get_json() == body
    resent = client.post("/api/v1/loans/repayments", json={"rows": rows}, headers=bearer(lender_token, "m2"))
    assert (resent.get_json()["loaded"], resent.get_json()["unchanged"]) == (0, 1)
    loan = db.session.scalars(db.select(Loan)).one()
    assert len(loan.outcomes) == 1 and loan.status == "repaying"


def test_bulk_disbursements_write_the_good_rows(app, world, lender_token):
    factories.put_in_status(world, "offer_accepted")
    rows = [{"application_id": world["application"].id, "amount_wan": 40, "disbursed_on": local_date().isoformat(),
             "reference": "YT-API-1"},
            {"application_id": 999999, "amount_wan": 1, "disbursed_on": local_date().isoformat(),
             "reference": "YT-API-2"}]
    response = app.test_client().post("/api/v1/loans/disbursements", json={"rows": rows},
                                      headers=bearer(lender_token, "d1"))
    body = response.get_json()
    assert (body["written"], body["rejected"]) == (1, 1) and body["rows"][1]["error"]
    assert [loan.reference for loan in db.session.scalars(db.select(Loan))] == ["YT-API-1"]


def test_products_publish_update_retire(app, world, lender_token):
    client = app.test_client()
    made = client.post("/api/v1/products", json=BODIES["product_publish"], headers=bearer(lender_token, "p1"))
    assert made.status_code == 201, made.get_json()
    product_id = made.get_json()["id"]
    changed = client.put(f"/api/v1/products/{product_id}", json={**BODIES["product_publish"], "rate_max": 7},
                         headers=bearer(lender_token, "p2"))
    assert changed.get_json()["version"] == 2
    assert client.post(f"/api/v1/products/{product_id}/retire", headers=bearer(lender_token, "p3")).status_code == 200
    assert db.session.get(Product, product_id).status == "retired"
    unknown_rule = client.post("/api/v1/products", json={**BODIES["product_publish"], "rules": {"x": 1}},
                               headers=bearer(lender_token, "p4"))
    assert unknown_rule.status_code == 422


def test_market_figures_for_a_regulator_token(app, world):
    _token, plain = make_token(world["users"]["regulator"], ["market:read"])
    body = app.test_client().get("/api/v1/market/figures", headers=bearer(plain)).get_json()
    assert {row["stage"]: row["count"] for row in body["funnel"]}["applied"] == 1


def test_problems_carry_both_languages_and_the_request_id(app, world, lender_token):
    response = app.test_client().get("/api/v1/applications/999999", headers={**bearer(lender_token),
                                                                            "X-Request-ID": "client-req-0001"})
    body = response.get_json()
    assert response.status_code == 404 and response.headers["X-Request-ID"] == "client-req-0001"
    assert body["request_id"] == "client-req-0001" and body["title"] != body["title_en"]
    assert "not exist" in body["detail_en"].lower() or "not found" in body["title_en"].lower()


def test_rate_limit_per_token_answers_429_with_retry_after(app, world, lender_token):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    codes = [client.get("/api/v1/applications", headers=bearer(lender_token)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.get("/api/v1/applications", headers=bearer(lender_token))
    assert int(limited.headers["Retry-After"]) >= 1 and limited.mimetype == "application/problem+json"
    _token, other = make_token(world["users"]["officer"])
    assert client.get("/api/v1/applications", headers=bearer(other)).status_code == 200


def test_log_lines_carry_the_request_id(app, world, lender_token, caplog):
    caplog.set_level(logging.INFO, logger=app.logger.name)
    app.test_client().get("/api/v1/applications", headers={**bearer(lender_token), "X-Request-ID": "trace-00000042"})
    lines = [record.getMessage() for record in caplog.records if "/api/v1/applications" in record.getMessage()]
    assert lines and all(line.startswith("[trace-00000042]") for line in lines)
