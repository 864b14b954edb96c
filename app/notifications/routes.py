"""Routes of the notifications: the list, marking one or all read, and the addresses for e-mail/SMS copies."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.access import own_notification_or_404
from app.common.errors import InvalidInput
from app.extensions import db
from app.forms import ActionForm, ContactForm, show_error
from app.services import notifications as service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def unread_notifications_helper():
    """`unread_notifications()` in templates: the bell's count."""
    def unread_notifications():
        return service.unread_count(db.session, current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}


def _page(contact_form, status=200):
    if not contact_form.is_submitted():
        contacts = service.contacts_of(db.session, current_user)
        contact_form.email.data, contact_form.phone.data = contacts.get("email"), contacts.get("sms")
    return render_template("notifications/list.html", items=service.notifications_of(db.session, current_user),
                           text_of=service.text_of, form=ActionForm(), contact_form=contact_form), status


@bp.get("/")
@login_required
def index():
    """The user's notifications, newest first, unread ones marked."""
    return _page(ContactForm())


@bp.post("/<id:notification_id>/read")
@login_required
def read(notification_id):
    """Mark one notification read and go where it points (the list when it points nowhere of ours)."""
    notification = own_notification_or_404(notification_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("notifications.index"))
    service.mark_read(notification)
    db.session.commit()
    link = notification.link or ""
    return redirect(link if link.startswith("/") and not link.startswith("//") else url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    """Mark every notification of the user read."""
    if ActionForm().validate_on_submit():
        count = service.mark_all_read(db.session, current_user)
        db.session.commit()
        flash(_("已将 %(n)d 条通知标为已读。", n=count), "success")
    return redirect(url_for("notifications.index"))


@bp.post("/contacts")
@login_required
def contacts():
    """Keep the e-mail address and mobile number notifications are also sent to."""
    form = ContactForm()
    if form.validate_on_submit():
        try:
            service.set_contacts(db.session, current_user, form.email.data, form.phone.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
            return _page(form, 400)
        db.session.commit()
        flash(_("通知方式已保存。"), "success")
        return redirect(url_for("notifications.index"))
    return _page(form, 400)
