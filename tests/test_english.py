"""English everywhere: every page a role reaches, read in English on a small generated district, holds no
Chinese but the proper names and texts that are data (firm, institution and product names, what people
and departments wrote)."""
import re

import pytest
from flask import url_for
from sqlalchemy import select

from app import entities as e
from app.extensions import db
from app.services import notifications

from . import factories
from .conftest import logged_in_client, pdf_text
from .test_access import PERSONAS, TABLE, batch_with_rejects, identity_release, url_args

# CJK ideographs and the full-width punctuation that goes with them (，。：（）、；〔〕).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
# Data, not interface: names people and departments gave, and what they wrote.
DATA_COLUMNS = (
    e.CreditSubject.name, e.Institution.name, e.Product.name, e.Product.description, e.FinancingNeed.purpose,
    e.Message.body, e.MessageAttachment.file_name, e.User.display_name, e.Objection.description,
    e.RepairRequest.description, e.ListEntry.reason, e.ListEntry.removed_reason, e.ModelVersion.activation_reason,
    e.SourceBatch.file_name, e.IngestionRun.upload_name, e.FeedbackUpload.file_name, e.Application.decision_note,
    e.ApplicationEvent.note, e.ApiToken.name,
)
# Text in Chinese on purpose: the switch back to Chinese names its language in its own script.
NAMES_OF_LANGUAGES = {"中文"}


def more_states(world):
    """A loan past due (with its application and offer), and a notification of every kind for the firm."""
    firm_user, bank = world["users"]["firm"], world["bank_a"].name
    firm = db.session.get(e.CreditSubject, firm_user.subject_id)
    loan = factories.add_loan({**world, "firm": firm}, "YT-EN-0001", status="overdue")
    entry = factories.add_list_entry(firm, "black")
    about = {"institution": bank, "application": loan.application_id}
    for kind, params in {
        "info_requested": about, "decision": {**about, "outcome": "approved"},
        "offer_expiring": {**about, "date": "2026-12-31"}, "message": {"sender": bank, "topic": "need"},
        "consent_expiring": {"institution": bank, "purpose": "underwriting", "date": "2026-12-31"},
        "objection_answered": {"objection": 1}, "repair_decided": {"request": 1, "outcome": "rejected"},
        "listed": {"list": entry.list_name, "list_kind": entry.list_kind, "list_type": entry.list_type},
        "delisted": {"list": entry.list_name, "list_kind": entry.list_kind},
    }.items():
        notifications.notify(db.session, firm_user, kind, **params)
    db.session.commit()
    return {"firm": [f"/firm/applications/{loan.application_id}"],
            "officer": [f"/lender/applications/{loan.application_id}"]}


def visible_text(html):
    """A page's text as a reader meets it: tags, scripts and styles dropped; the `lang="zh"` parts (the
    literal column names of a file format, marked as Chinese) and the `translate="no"` examples of machine data
    dropped too."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r'(?is)<(code|span|td|th|li)\b[^>]*\blang="zh"[^>]*>.*?</\1>', " ", html)
    # Examples of machine data (the API reference's JSON), marked not to be translated.
    html = re.sub(r'(?is)<(pre|code)\b[^>]*\btranslate="no"[^>]*>.*?</\1>', " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def data_texts(session):
    """Every text stored in a data column, and the department records' text cells."""
    texts = set(NAMES_OF_LANGUAGES)
    for column in DATA_COLUMNS:
        texts.update(v for v in session.scalars(select(column).distinct()) if v)
    for payload in session.scalars(select(e.SourceRecord.payload)):
        texts.update(v for v in payload.values() if isinstance(v, str))
    return texts


def chinese_left(html, allowed):
    """The runs of Chinese on a page that are not part of a data text."""
    return sorted({run for run in CJK.findall(visible_text(html)) if not any(run in text for text in allowed)})


def test_visible_text_ignores_markup_and_marked_chinese():
    html = '<p title="标题">Hello <code lang="zh">贷款账号</code> 世界</p><script>var a="脚本";</script>'
    assert chinese_left(html, set()) == ["世界"]
    assert chinese_left(html, {"你好世界"}) == []
    assert chinese_left('<pre translate="no">{"name": "陶瓷贷"}</pre><pre>示例</pre>', set()) == ["示例"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_of_a_role_is_english(app, scored_world, persona, tmp_path):
    world = scored_world
    user = world["users"][persona]
    user.locale = "en"
    db.session.commit()
    args = url_args(world, batch_with_rejects(tmp_path / "rejects"), identity_release(world))
    extra = more_states(world)
    with app.test_request_context():
        urls = [url_for(r.endpoint, **{k: args[k] for k in r.arguments}) for r in app.url_map.iter_rules()
                if r.endpoint != "static" and "GET" in r.methods and persona in TABLE[r.endpoint][1]]
    urls += extra.get(persona, [])
    allowed = data_texts(db.session)
    client = logged_in_client(app, user)
    left = {}
    for url in urls:
        response = client.get(url, follow_redirects=True)
        if response.status_code == 200 and response.mimetype == "text/html":
            found = chinese_left(response.get_data(as_text=True), allowed)
            if found:
                left[url] = found
    report = "\n".join(f"{url}: {' | '.join(runs)}" for url, runs in left.items())
    assert not left, f"Chinese left on English pages:\n{report}"


def test_the_credit_report_is_english(app, scored_world):
    firm_user = scored_world["users"]["firm"]
    firm_user.locale = "en"
    more_states(scored_world)
    response = logged_in_client(app, firm_user).get("/firm/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Credit report" in text or "credit report" in text
    assert chinese_left(text, data_texts(db.session)) == []
