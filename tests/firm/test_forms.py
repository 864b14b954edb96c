"""The firm's forms take their limits from the services (and so from the configuration)."""
import pytest

from app.firm.forms import NeedForm, ObjectionForm, ReviewForm
from app.services.needs import MAX_PURPOSE
from app.services.objections import MAX_TEXT

from ..conftest import logged_in_client, page_text

NEED = {"amount_wan": "50", "term_months": "12", "purpose": "购置设备", "guarantee": "credit", "urgency": "normal"}


def errors(app, form_class, data):
    """The form's errors on `data` (CSRF off: this is about the fields)."""
    with app.test_request_context(method="POST", data=data):
        form = form_class(meta={"csrf": False})
        form.validate()
        return form.errors


@pytest.mark.parametrize(("limit", "months", "accepted"), [(360, 360, True), (360, 361, False),
                                                            (120, 120, True), (120, 121, False), (120, 0, False)])
def test_the_need_form_accepts_terms_up_to_the_configured_maximum(app, limit, months, accepted):
    app.config["MAX_TERM_MONTHS"] = limit
    found = errors(app, NeedForm, {**NEED, "term_months": str(months)})
    assert ("term_months" not in found) == accepted
    if not accepted:
        assert found["term_months"] == [f"期限应在 1 到 {limit} 个月之间。"]


def test_the_need_forms_purpose_limit_is_the_services(app):
    assert "purpose" not in errors(app, NeedForm, {**NEED, "purpose": "用" * MAX_PURPOSE})
    assert errors(app, NeedForm, {**NEED, "purpose": "用" * (MAX_PURPOSE + 1)})["purpose"] == [
        f"资金用途不能超过 {MAX_PURPOSE} 个字符。"]


@pytest.mark.parametrize("form_class", [ReviewForm, ObjectionForm])
def test_review_and_objection_texts_are_as_long_as_the_objection_service_accepts(app, form_class):
    assert "description" not in errors(app, form_class, {"record_id": "1", "description": "说" * MAX_TEXT})
    assert errors(app, form_class, {"record_id": "1", "description": "说" * (MAX_TEXT + 1)})["description"] == [
        f"请说明理由（不超过 {MAX_TEXT} 字）。"]


def test_text_limits_on_the_page_are_the_services(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get("/firm/needs/new"))
    assert f'maxlength="{MAX_PURPOSE}"' in page and page.count("maxlength=") == 1
