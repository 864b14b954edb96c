"""Every route × every persona: allowed, sent to login, or refused (403/404).

The table must name every endpoint: adding a route without an entry here fails the test.
"""
import pytest

from app.api.endpoint import ENDPOINTS
from app.entities import (
    ComplianceFlag,
    FeedbackUpload,
    IngestionRun,
    Objection,
    RepairRequest,
    SourceBatch,
    SourceRecord,
)
from app.entities.base import utcnow
from app.extensions import db
from app.services import api_tokens, messages, notifications

from . import factories
from .conftest import logged_in_client, make_app

ANON = "anonymous"
PERSONAS = ["firm", "firm_other", "officer", "officer_other", "lender_admin", "regulator",
            "data_admin", "platform_admin"]
EVERYONE = {ANON, *PERSONAS}
TOKEN_ONLY = frozenset()
LOGGED_IN = set(PERSONAS)

# endpoint → (method, personas allowed). `firm_other` and `officer_other` are real users of the
# right role who do not own the world's records, so they must be refused by ownership checks.
TABLE = {
    "auth.index": ("GET", EVERYONE),
    "auth.login": ("GET", EVERYONE),
    "auth.register": ("GET", EVERYONE),
    "auth.set_language": ("GET", EVERYONE),
    "auth.join": ("GET", EVERYONE),
    "auth.change_password": ("GET", LOGGED_IN),
    "auth.logout": ("POST", LOGGED_IN),
    "auth.report_verify": ("GET", EVERYONE),
    "firm.dashboard": ("GET", {"firm", "firm_other"}),
    "firm.need_new": ("GET", {"firm", "firm_other"}),
    "firm.need_detail": ("GET", {"firm"}),
    "firm.need_withdraw": ("POST", {"firm"}),
    "firm.apply": ("GET", {"firm"}),
    "firm.application_detail": ("GET", {"firm"}),
    "firm.application_withdraw": ("POST", {"firm"}),
    "firm.application_answer": ("POST", {"firm"}),
    "firm.application_accept_offer": ("POST", {"firm"}),
    "firm.application_decline_offer": ("POST", {"firm"}),
    "firm.consent_list": ("GET", {"firm", "firm_other"}),
    "firm.consent_revoke": ("POST", {"firm"}),
    "firm.identity_list": ("GET", {"firm", "firm_other"}),
    "firm.identity_release": ("POST", {"firm", "firm_other"}),
    "firm.identity_revoke": ("POST", {"firm"}),
    "firm.score": ("GET", {"firm", "firm_other"}),
    "firm.score_review": ("POST", {"firm", "firm_other"}),
    "firm.score_objection": ("POST", {"firm", "firm_other"}),
    "firm.report_pdf": ("GET", {"firm", "firm_other"}),
    "firm.score_repair": ("POST", {"firm", "firm_other"}),
    "firm.members_list": ("GET", {"firm", "firm_other"}),
    "firm.member_invite": ("POST", {"firm", "firm_other"}),
    "firm.member_remove": ("POST", set()),  # the URL names bank A's officer: no firm's member (tests/firm)
    "firm.member_make_owner": ("POST", set()),  # the same: tests/firm/test_routes_members.py
    "lender.dashboard": ("GET", {"officer", "officer_other", "lender_admin"}),
    "lender.application_assign": ("POST", {"lender_admin"}),
    "lender.application_detail": ("GET", {"officer", "lender_admin"}),
    "lender.application_score": ("GET", {"officer", "lender_admin"}),
    "lender.application_report": ("GET", {"officer", "lender_admin"}),
    "lender.applicant_ranking": ("GET", {"officer", "officer_other", "lender_admin"}),
    "lender.application_review": ("POST", {"officer"}),
    "lender.application_request_info": ("POST", {"officer"}),
    "lender.application_approve": ("POST", {"officer"}),
    "lender.application_decline": ("POST", {"officer"}),
    "lender.application_disburse": ("POST", {"officer"}),
    "lender.application_repayment": ("POST", {"officer"}),
    "lender.product_list": ("GET", {"lender_admin"}),
    "lender.product_new": ("GET", {"lender_admin"}),
    "lender.product_retire": ("POST", {"lender_admin"}),
    "lender.product_edit": ("GET", {"lender_admin"}),
    "lender.product_versions": ("GET", {"lender_admin"}),
    "lender.screening": ("GET", {"officer", "officer_other", "lender_admin"}),
    "lender.feedback_upload": ("GET", {"officer", "officer_other", "lender_admin"}),
    "lender.feedback_template": ("GET", {"officer", "officer_other", "lender_admin"}),
    "lender.feedback_detail": ("GET", {"officer", "lender_admin"}),
    "lender.officers": ("GET", {"lender_admin"}),
    "lender.officer_set_active": ("POST", {"lender_admin"}),
    "lender.api_token_list": ("GET", {"lender_admin"}),
    "lender.api_token_revoke": ("POST", {"lender_admin"}),
    "regulator.dashboard": ("GET", {"regulator"}),
    "regulator.figures_export": ("GET", {"regulator"}),
    "regulator.model_monitoring": ("GET", {"regulator"}),
    "regulator.audit_log": ("GET", {"regulator"}),
    "regulator.audit_verify": ("GET", {"regulator"}),
    "regulator.audit_export": ("GET", {"regulator"}),
    "regulator.unmatched_needs": ("GET", {"regulator"}),
    "regulator.odds_reliability": ("GET", {"regulator"}),
    "regulator.overdue_applications": ("GET", {"regulator"}),
    "regulator.objection_queue": ("GET", {"regulator", "data_admin"}),
    "regulator.objection_answer": ("GET", {"regulator", "data_admin"}),
    "regulator.repair_queue": ("GET", {"regulator"}),
    "regulator.repair_decision": ("GET", {"regulator"}),
    "regulator.list_entries": ("GET", {"regulator"}),
    "regulator.list_add": ("POST", {"regulator"}),
    "regulator.list_entry": ("GET", {"regulator"}),
    "regulator.compliance_flags": ("GET", {"regulator"}),
    "regulator.compliance_acknowledge": ("POST", {"regulator"}),
    "regulator.scoreboard_page": ("GET", {"regulator"}),
    "regulator.scoreboard_csv": ("GET", {"regulator"}),
    "dataadmin.dashboard": ("GET", {"data_admin"}),
    "dataadmin.upload": ("GET", {"data_admin"}),
    "dataadmin.batch_rejects": ("GET", {"data_admin"}),
    "dataadmin.upload_run": ("GET", {"data_admin"}),
    "platform.users": ("GET", {"platform_admin"}),
    "platform.audit_log": ("GET", {"platform_admin"}),
    "platform.user_set_active": ("POST", {"platform_admin"}),
    "platform.user_reset": ("POST", {"platform_admin"}),
    "platform.subject_search": ("GET", {"platform_admin"}),
    "platform.subject_code": ("POST", {"platform_admin"}),
    "platform.audit_verify": ("GET", {"platform_admin"}),
    "platform.audit_export": ("GET", {"platform_admin"}),
    "platform.model_list": ("GET", {"regulator", "platform_admin"}),
    "platform.model_activate": ("POST", {"regulator", "platform_admin"}),
    "platform.scores_refresh": ("POST", {"regulator", "platform_admin"}),
    "messages.inbox": ("GET", {"firm", "firm_other", "officer", "officer_other", "lender_admin"}),
    "messages.thread": ("GET", {"firm", "officer", "lender_admin"}),
    "messages.need_question": ("GET", {"officer"}),
    "messages.application_thread": ("GET", {"firm", "officer", "lender_admin"}),
    "messages.attachment": ("GET", {"firm", "officer", "lender_admin"}),
    "messages.faq_page": ("GET", EVERYONE),
    "notifications.index": ("GET", LOGGED_IN),
    "notifications.read": ("POST", {"firm"}),
    "notifications.read_all": ("POST", LOGGED_IN),
    "notifications.contacts": ("POST", LOGGED_IN),
    "api.health": ("GET", EVERYONE),
    "ops.healthz": ("GET", EVERYONE),
    "ops.readyz": ("GET", EVERYONE),
    "ops.metrics_page": ("GET", EVERYONE),  # from this machine (the test client's address); tests/ops for others
    "api.product_list": ("GET", LOGGED_IN),
    "api.need_products": ("GET", {"firm"}),
    "api.market_summary": ("GET", {"regulator"}),
    "api.product_screening": ("GET", {"officer", "lender_admin"}),
    "api.odds_reliability": ("GET", {"regulator"}),
    "api.openapi_json": ("GET", EVERYONE),
    "api.api_docs": ("GET", EVERYONE),
}
# The token API (tests/api): a session is no token, so every persona's request is 401.
TOKEN_ENDPOINTS = {f"api.{spec.view.__name__}": (spec.method, TOKEN_ONLY) for spec in ENDPOINTS}
TABLE.update(TOKEN_ENDPOINTS)


def url_args(world, batch, release):
    """Values for every URL variable, all pointing at records of the world's firm and bank A."""
    return {"need_id": world["need"].id, "product_id": world["product"].id,
            "application_id": world["application"].id, "consent_id": world["consent"].id,
            "batch_id": batch.id, "institution_id": world["bank_a"].id, "release_id": release.id,
            "upload_id": feedback_upload(world).id, "run_id": upload_run(world).id,
            "user_id": world["users"]["officer"].id, "subject_id": world["firm"].id, "code": "en",
            "filename": "css/app.css", "version": "20260101-000000-0000", "name": "funnel", "fmt": "csv",
            "flag_id": compliance_flag(world).id, "token_id": api_token(world).id, **credit_requests(world),
            **conversation(world)}


def api_token(world):
    """An API token of bank A."""
    token, _plain = api_tokens.create(db.session, world["users"]["lender_admin"], world["users"]["lender_admin"],
                                      "信贷系统", ["applications:read"], 30)
    db.session.commit()
    return token


def credit_requests(world):
    """An objection to one of the world firm's records, a repair request on it, and a list entry."""
    firm = world["firm"]
    factories.add_records(firm, "penalty", [(None, {"decision_no": "测罚〔2026〕1号", "severity": "general"})])
    record = db.session.scalars(db.select(SourceRecord).where(SourceRecord.subject_id == firm.id)).first()
    objection = Objection(subject_id=firm.id, source_record_id=record.id, kind="data", description="不对",
                          due_on=utcnow().date())
    repair = RepairRequest(subject_id=firm.id, source_record_id=record.id, description="已整改")
    db.session.add_all([objection, repair])
    entry = factories.add_list_entry(firm, "black")
    db.session.commit()
    return {"objection_id": objection.id, "request_id": repair.id, "entry_id": entry.id}


def conversation(world):
    """A thread on the world's application with an attachment, the need in bank A's screening, and a
    notification of the world's firm user."""
    factories.show_in_screening(world["need"], world["product"])
    message = messages.write_on_application(db.session, world["application"], world["users"]["firm"], "您好",
                                            factories.upload(factories.PDF_BYTES))
    note = notifications.notify(db.session, world["users"]["firm"], "objection_answered", objection=1)[0]
    db.session.commit()
    return {"thread_id": message.thread_id, "attachment_id": message.attachments[0].id, "notification_id": note.id,
            "handle": messages.need_handle(world["need"].id, world["bank_a"].id)}


def identity_release(world):
    """The world's firm has released its identity to bank A."""
    release = factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                                       purpose_code="screening", granted_by_id=world["users"]["firm"].id)
    db.session.commit()
    return release


def compliance_flag(world):
    """A flag of the decline-reasons rule on the world's application."""
    found = ComplianceFlag(rule="decline_reasons", target_type="Application", target_id=world["application"].id,
                           institution_id=world["bank_a"].id, details={"reasons": []})
    db.session.add(found)
    db.session.commit()
    return found


def feedback_upload(world):
    """A 贷后反馈 file uploaded by bank A's officer."""
    upload = FeedbackUpload(institution_id=world["bank_a"].id, uploaded_by_id=world["users"]["officer"].id,
                            file_name="贷后反馈.csv", file_sha256="0" * 64, rejects=[])
    db.session.add(upload)
    db.session.commit()
    return upload


def upload_run(world):
    """A data admin's upload, loaded."""
    run = IngestionRun(trigger="upload", status="done", upload_name="税务_月度申报_2025.csv", paths=[],
                       summary={"totals": {}, "files": []}, started_by_id=world["users"]["data_admin"].id)
    db.session.add(run)
    db.session.commit()
    return run


def batch_with_rejects(reject_dir):
    """A loaded batch whose reject report exists."""
    reject_dir.mkdir(parents=True, exist_ok=True)
    report = reject_dir / "batch-rejects.csv"
    report.write_text("行号 row\n2\n", encoding="utf-8")
    batch = SourceBatch(source="tax_filing", file_name="税务_月度申报_2025.csv", file_sha256="0" * 64,
                        status="loaded", reject_file=str(report))
    db.session.add(batch)
    db.session.commit()
    return batch


def test_every_route_has_an_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert endpoints - TABLE.keys() == set(), "new routes need an access entry"
    assert TABLE.keys() - endpoints == set(), "table names routes that no longer exist"


def _request(client, method, url):
    return client.get(url) if method == "GET" else client.open(url, method=method, data={})


@pytest.mark.parametrize("persona", [ANON, *PERSONAS])
def test_route_access(app, world, persona, database_url, tmp_path):
    # CSRF is checked by its own tests; here a POST must reach the access check.
    unchecked = make_app(database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                         REJECT_DIR=str(tmp_path / "rejects"), UPLOAD_DIR=str(tmp_path / "uploads"),
                         MESSAGE_ATTACHMENT_DIR=str(tmp_path / "attachments"))
    user = None if persona == ANON else world["users"][persona]
    args = url_args(world, batch_with_rejects(tmp_path / "rejects"), identity_release(world))
    rules = sorted(unchecked.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout",
                                                                  "POST" in r.methods))
    with unchecked.test_request_context():
        from flask import url_for

        urls = [(r.endpoint, url_for(r.endpoint, **{k: args[k] for k in r.arguments}))
                for r in rules if r.endpoint != "static"]
    client = logged_in_client(unchecked, user)
    for endpoint, url in urls:
        method, allowed = TABLE[endpoint]
        response = _request(client, method, url)
        where = f"{persona} {method} {url} → {response.status_code}"
        if endpoint in TOKEN_ENDPOINTS:
            assert response.status_code == 401, where
        elif persona in allowed:
            assert response.status_code not in (401, 403, 404, 405), where
            assert "/login" not in response.headers.get("Location", "") or endpoint == "auth.logout", where
        elif persona == ANON:
            if url.startswith("/api/"):
                assert response.status_code == 401, where
            else:
                assert response.status_code == 302 and "/login" in response.headers["Location"], where
        else:
            assert response.status_code in (403, 404), where
    with unchecked.app_context():
        db.engine.dispose()  # no connection of this second app outlives the test
