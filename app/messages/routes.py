"""Routes of 银企线上沟通问答: a firm's and a lender's threads on needs and applications, attachments as
downloads, and the public FAQ. Only the thread's firm and institution see a thread (404 for others)."""
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import (
    attachment_or_404,
    party_application_or_404,
    role_required,
    screened_need_or_404,
    thread_or_404,
)
from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import LENDER_ROLES
from app.entities.users import FIRM, LENDER_OFFICER
from app.errors import refuse
from app.extensions import db
from app.forms import MessageForm, show_error
from app.services import attachments, faq, screening
from app.services import messages as service

bp = Blueprint("messages", __name__)

parties_only = role_required(FIRM, *LENDER_ROLES)
officer_only = role_required(LENDER_OFFICER)


@bp.app_context_processor
def unread_messages_helper():
    """`unread_messages()` in templates: the current user's unread messages (the nav and dashboards);
    `need_handle(id)`: a need's handle in the lender user's links."""
    def unread_messages():
        if not current_user.is_authenticated:
            return 0
        return service.unread_count(db.session, current_user)

    def need_handle(need_id):
        return service.need_handle(need_id, current_user.institution_id)

    return {"unread_messages": unread_messages, "need_handle": need_handle}


@bp.get("/messages/")
@parties_only
def inbox():
    """The threads of the user's firm or institution, latest first, with their unread messages."""
    return render_template("messages/inbox.html", rows=service.threads_of(db.session, current_user))


def _send(form, write):
    """Validate the form and run `write(body, upload, publish)`; True when written and committed, else the
    error is on the form and nothing is written."""
    if not form.validate_on_submit():
        return False
    try:
        write(form.body.data, form.attachment.data, form.publish.data)
    except InvalidInput as error:
        db.session.rollback()
        show_error(form, error)
        return False
    except NotAllowed as error:
        db.session.rollback()
        form.body.errors = [*form.body.errors, error.message]
        return False
    db.session.commit()
    flash(_("消息已发送。"), "success")
    return True


def _show(thread, form):
    """The thread page (marking it read and logging a lender's reading of firm data), 400 after a refused post."""
    view = service.read(db.session, thread, current_user)
    page = render_template("messages/thread.html", view=view, form=form, bands=screening,
                           firm_side=service.side_of(current_user) == service.FIRM_SIDE)
    db.session.commit()
    return page, 400 if form.is_submitted() else 200


@bp.route("/messages/<id:thread_id>", methods=["GET", "POST"])
@parties_only
def thread(thread_id):
    """One thread with its messages, and the form to write in it."""
    record = thread_or_404(thread_id)
    form = MessageForm()
    if _send(form, lambda body, upload, publish: service.post(db.session, record, current_user, body, upload,
                                                               publish)):
        return redirect(url_for("messages.thread", thread_id=record.id))
    return _show(record, form)


@bp.route("/messages/needs/<handle>", methods=["GET", "POST"])
@officer_only
def need_question(handle):
    """Ask the firm behind an (anonymised) need of the screening a question (the need named by its handle,
    not its id); once asked, its thread."""
    need = screened_need_or_404(handle)
    existing = service.need_thread(db.session, need, current_user.institution_id)
    if existing is not None and request.method == "GET":
        return redirect(url_for("messages.thread", thread_id=existing.id))
    form = MessageForm()
    written = {}
    if _send(form, lambda body, upload, _publish: written.update(
            message=service.ask_about_need(db.session, need, current_user, body, upload))):
        return redirect(url_for("messages.thread", thread_id=written["message"].thread_id))
    return render_template("messages/new.html", form=form, profile=screening.need_profile(db.session, need),
                           bands=screening, application=None, firm_side=False), 400 if form.is_submitted() else 200


@bp.route("/messages/applications/<id:application_id>", methods=["GET", "POST"])
@parties_only
def application_thread(application_id):
    """The thread on an application between its firm and the institution; opened by the first message."""
    application = party_application_or_404(application_id)
    existing = service.application_thread(db.session, application)
    if existing is not None and request.method == "GET":
        return redirect(url_for("messages.thread", thread_id=existing.id))
    form = MessageForm()
    written = {}
    if _send(form, lambda body, upload, publish: written.update(message=service.write_on_application(
            db.session, application, current_user, body, upload, publish))):
        return redirect(url_for("messages.thread", thread_id=written["message"].thread_id))
    return render_template("messages/new.html", form=form, profile=None, application=application, bands=screening,
                           firm_side=current_user.role == FIRM), 400 if form.is_submitted() else 200


@bp.get("/messages/attachments/<id:attachment_id>")
@parties_only
def attachment(attachment_id):
    """An attachment, always as a download of its checked type (never shown inline)."""
    record = attachment_or_404(attachment_id)
    path = attachments.path_of(record)
    if not path.is_file():
        refuse(404, _("附件文件已不存在。"))
    service.log_attachment_view(db.session, record, current_user)
    db.session.commit()
    response = send_file(path, mimetype=record.content_type, as_attachment=True, download_name=record.file_name,
                         max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/faq")
def faq_page():
    """常见问答: lenders' questions and the answers firms allowed to publish, searchable in Chinese."""
    query = request.args.get("q", "")
    try:
        entries = faq.search(db.session, query)
    except InvalidInput as error:
        refuse(400, error.message)
    return render_template("messages/faq.html", entries=entries, query=query.strip())
