"""Who may see what: the few helpers every route uses; each aborts with 403 or 404."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from app.common.ids import is_record_id
from app.credit.registry import versions
from app.entities import (
    ApiToken,
    Application,
    ComplianceFlag,
    Consent,
    CreditSubject,
    FeedbackUpload,
    FinancingNeed,
    Institution,
    ListEntry,
    MessageAttachment,
    MessageThread,
    Notification,
    Objection,
    Product,
    RepairRequest,
    User,
)
from app.entities.users import FIRM, LENDER_OFFICER
from app.extensions import db
from app.services import messages
from app.services.consents import SCREENING
from app.services.objections import may_handle


def role_required(*roles):
    """Require a logged-in user of one of `roles`; others get 403, anonymous users the login."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def _get_or_404(model, record_id, visible, options=()):
    """The record, when it exists and `visible(record)` holds; 404 otherwise (no hint it exists).

    An id no primary key can hold (from a form or a query string) is not looked up at all. `options`:
    loader options (the relations the caller reads, in the same statement)."""
    record = db.session.get(model, record_id, options=list(options)) if is_record_id(record_id) else None
    if record is None or not visible(record):
        abort(404)
    return record


def _firms_own(record):
    return record.subject_id == current_user.subject_id


def _institutions_own(record):
    return record.institution_id == current_user.institution_id


def own_need_or_404(need_id):
    """The current firm user's need."""
    return _get_or_404(FinancingNeed, need_id, _firms_own)


def own_application_or_404(application_id):
    """The current firm user's application."""
    return _get_or_404(Application, application_id, _firms_own)


def own_consent_or_404(consent_id):
    """One of the current firm user's consents."""
    return _get_or_404(Consent, consent_id, _firms_own)


def own_release_or_404(release_id):
    """One of the current firm user's identity releases (its consents for the screening purpose)."""
    return _get_or_404(Consent, release_id, lambda c: _firms_own(c) and c.purpose_code == SCREENING)


def institution_application_or_404(application_id):
    """An application made to the current lender user's institution."""
    return _get_or_404(Application, application_id, _institutions_own)


def institution_officer_or_404(user_id):
    """An active loan officer of the current lender user's institution."""
    return _get_or_404(User, user_id, lambda u: u.role == LENDER_OFFICER and u.active and _institutions_own(u))


def institution_staff_or_404(user_id):
    """A loan officer of the current lender user's institution, active or not."""
    return _get_or_404(User, user_id, lambda u: u.role == LENDER_OFFICER and _institutions_own(u))


def subject_member_or_404(user_id):
    """A user of the current firm user's subject."""
    return _get_or_404(User, user_id, lambda u: u.role == FIRM and _firms_own(u))


def user_or_404(user_id):
    """Any user (for the platform admin)."""
    return _get_or_404(User, user_id, lambda u: True)


def subject_or_404(subject_id):
    """Any credit subject (for the platform admin)."""
    return _get_or_404(CreditSubject, subject_id, lambda s: True)


def institution_product_or_404(product_id):
    """A product of the current lender user's institution."""
    return _get_or_404(Product, product_id, _institutions_own)


def institution_feedback_upload_or_404(upload_id):
    """A 贷后反馈 file uploaded by the current lender user's institution."""
    return _get_or_404(FeedbackUpload, upload_id, _institutions_own)


def published_product_or_404(product_id):
    """A published product of an active institution (retired or suspended ones are not found)."""
    return _get_or_404(Product, product_id, lambda p: p.status == "published" and p.institution.active)


def active_institution_or_404(institution_id):
    """An active institution."""
    return _get_or_404(Institution, institution_id, lambda i: i.active)


def handled_objection_or_404(objection_id):
    """A review request or objection the current user answers (data admins: objections to data items)."""
    return _get_or_404(Objection, objection_id, lambda o: may_handle(current_user, o))


def repair_request_or_404(request_id):
    """A credit repair request (the regulator decides every one)."""
    return _get_or_404(RepairRequest, request_id, lambda _r: True)


def list_entry_or_404(entry_id):
    """A red or black list entry (the regulator keeps the lists)."""
    return _get_or_404(ListEntry, entry_id, lambda _e: True)
def compliance_flag_or_404(flag_id):
    """A compliance flag (the regulator's: every flag of every institution)."""
    return _get_or_404(ComplianceFlag, flag_id, lambda f: True)


def registered_version_or_404(root, version):
    """A model version folder of the registry; 404 for any other name."""
    if version not in versions(root):
        abort(404)
    return version


def _in_thread(thread):
    return messages.can_see(thread, current_user)


def thread_or_404(thread_id):
    """A thread of 银企线上沟通问答 the current user is a party to (its firm's user or its institution's staff)."""
    return _get_or_404(MessageThread, thread_id, _in_thread)


def attachment_or_404(attachment_id):
    """An attachment of a thread the current user is a party to."""
    return _get_or_404(MessageAttachment, attachment_id, lambda a: _in_thread(a.message.thread))


def screened_need_or_404(handle):
    """The need behind a handle of the current lender user's institution (messages.need_handle), when the
    institution may ask about it: its screening shows it, or its thread exists."""
    institution_id = current_user.institution_id
    return _get_or_404(FinancingNeed, messages.need_id_of(handle, institution_id),
                       lambda n: messages.need_thread(db.session, n, institution_id) is not None
                       or messages.need_in_screening(db.session, n, institution_id))


def party_application_or_404(application_id):
    """An application of the current firm user, or one made to the current lender user's institution."""
    return _get_or_404(Application, application_id,
                       lambda a: _firms_own(a) if current_user.role == "firm" else _institutions_own(a))


def own_notification_or_404(notification_id):
    """One of the current user's notifications."""
    return _get_or_404(Notification, notification_id, lambda n: n.user_id == current_user.id)


def token_application_or_404(token, application_id):
    """An application made to the institution of the API token `token` (with its applicant and product,
    which every answer shows)."""
    return _get_or_404(Application, application_id, lambda a: a.institution_id == token.institution_id,
                       options=(joinedload(Application.subject), joinedload(Application.product)))


def token_product_or_404(token, product_id):
    """A product of the institution of the API token `token`."""
    return _get_or_404(Product, product_id, lambda p: p.institution_id == token.institution_id)


def institution_token_or_404(token_id):
    """An API token of the current lender admin's institution."""
    return _get_or_404(ApiToken, token_id, _institutions_own)
