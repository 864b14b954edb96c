"""The lender's 贷后反馈批量上传 page: the upload, its result and reject list, the template, who may."""
import io
import re

from sqlalchemy import func, select

from app.entities import FeedbackUpload, RepaymentOutcome
from app.extensions import db

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text
from ..services.test_feedback import HEADER, month


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig"):
    text = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    return text.encode(encoding)


def upload(client, content, name="贷后反馈.csv", **kwargs):
    token = csrf_token(page_text(client.get("/lender/feedback")))
    return client.post("/lender/feedback", data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", **kwargs)


def uploads():
    return db.session.scalar(select(func.count(FeedbackUpload.id)))


def test_the_officer_uploads_a_file_and_sees_the_result_and_the_rejects(app, world):
    factories.add_loan(world, "L-1")
    factories.add_loan(world, "L-2")
    db.session.commit()
    client = logged_in_client(app, world["users"]["officer"])
    assert 'href="/lender/feedback"' in page_text(client.get("/lender/"))  # linked from the lender's pages
    rows = [["L-1", month(4), "12", "380000", "", "电话催收"], ["L-2", month(4), "0", "500000", "", ""],
            ["NO-SUCH", month(4), "0", "1", "", ""]]
    response = upload(client, csv_bytes(rows), follow_redirects=True)
    page = page_text(response)
    assert response.status_code == 200 and "载入 1 行，未变 0 行，拒收 2 行" in page
    assert "贷款余额应在 0 与放款金额之间" in page and "本机构没有贷款账号为“NO-SUCH”的贷款" in page
    assert re.search(r'<td class="num">3</td><td>L-2</td>', page) and "逾期 1–30 天" in page and "38" in page
    record = db.session.scalars(select(FeedbackUpload)).one()
    assert (record.file_name, record.rows_loaded, record.rows_rejected) == ("贷后反馈.csv", 1, 2)
    assert record.uploaded_by_id == world["users"]["officer"].id
    listing = page_text(client.get("/lender/feedback"))
    assert "贷后反馈.csv" in listing and f"/lender/feedback/{record.id}" in listing


def test_the_reject_reasons_are_in_english_for_an_english_user(app, world):
    factories.add_loan(world, "L-1")
    db.session.commit()
    client = logged_in_client(app, world["users"]["lender_admin"])
    client.get("/lang/en")
    page = page_text(upload(client, csv_bytes([["L-1", "三月", "0", "1", "", ""]]), follow_redirects=True))
    assert "rejected 1" in page and "YYYY-MM" in page and "报送月份应写作" not in page


def test_a_file_with_a_wrong_header_is_refused_on_the_page(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    response = upload(client, csv_bytes([["L-1", month(4)]], header=["贷款账号", "报送月份"]))
    assert response.status_code == 400 and "缺少列：逾期天数" in page_text(response)
    response = upload(client, b"PK\x03\x04", name="feedback.zip")
    assert response.status_code == 400 and "只接受 CSV 或 Excel" in page_text(response)
    assert uploads() == 0


def test_an_upload_without_the_csrf_token_is_refused(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    response = client.post("/lender/feedback", data={"file": (io.BytesIO(csv_bytes([])), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and uploads() == 0


def test_a_firm_user_may_not_upload(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    assert client.get("/lender/feedback").status_code == 403
    token = csrf_token(page_text(client.get("/firm/")))
    response = client.post("/lender/feedback", data={"csrf_token": token, "file": (io.BytesIO(csv_bytes([])), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and uploads() == 0


def test_another_institutions_officer_neither_sees_the_upload_nor_reaches_its_loans(app, world):
    loan = factories.add_loan(world, "L-1")
    db.session.commit()
    ours = logged_in_client(app, world["users"]["officer"])
    upload(ours, csv_bytes([["L-1", month(4), "0", "350000", "", ""]]))
    record = db.session.scalars(select(FeedbackUpload)).one()
    theirs = logged_in_client(app, world["users"]["officer_other"])
    assert theirs.get(f"/lender/feedback/{record.id}").status_code == 404
    assert "贷后反馈.csv" not in page_text(theirs.get("/lender/feedback"))
    page = page_text(upload(theirs, csv_bytes([["L-1", month(3), "90", "350000", "", ""]]), follow_redirects=True))
    assert "本机构没有贷款账号为“L-1”的贷款" in page
    db.session.expire_all()
    assert [o.days_past_due for o in loan.outcomes] == [0]
    assert db.session.scalar(select(func.count(RepaymentOutcome.id))) == 1


def test_the_template_lists_the_institutions_loans_to_report(app, world):
    factories.add_loan(world, "L-1")
    factories.add_loan(world, "B-1", institution=world["bank_b"])
    db.session.commit()
    response = logged_in_client(app, world["users"]["officer"]).get("/lender/feedback/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert lines == [",".join(HEADER), f"L-1,{month(0)},,,,"]


def test_a_nul_character_in_a_cell_is_a_rejected_row(app, world):
    factories.add_loan(world, "L-1")
    factories.add_loan(world, "L-2")
    db.session.commit()
    client = logged_in_client(app, world["users"]["officer"])
    rows = [["L-1", month(4), "0", "380000", "", "已\x00还"], ["L-2", month(4), "0", "390000", "", ""]]
    page = page_text(upload(client, csv_bytes(rows), follow_redirects=True))
    assert "载入 1 行，未变 0 行，拒收 1 行" in page and "含有空字符（NUL），无法保存" in page
    assert db.session.scalar(select(func.count(RepaymentOutcome.id))) == 1
