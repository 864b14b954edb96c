"""Attachments: the type read from the content, the size limit, the cleaned name, storage outside the web root."""
import pytest

from app.common.errors import InvalidInput
from app.entities import Message
from app.services import attachments

from ..factories import PDF_BYTES, PNG_BYTES, office_file, upload


@pytest.mark.parametrize("data, kind", [
    (PDF_BYTES, "pdf"), (PNG_BYTES, "png"), (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "jpeg"),
    (office_file("word/document.xml"), "docx"), (office_file("xl/workbook.xml"), "xlsx"),
])
def test_detects_the_type_from_the_content(data, kind):
    assert attachments.detect(data) == kind


@pytest.mark.parametrize("data", [
    b"<html><script>alert(1)</script></html>", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    b"MZ\x90\x00 an executable", office_file("payload.js"), b"PK\x03\x04 not really a zip", b"plain text",
])
def test_refuses_every_other_content(app, data):
    with pytest.raises(InvalidInput) as refused:
        attachments.detect(data)
    assert "PDF" in refused.value.message and refused.value.field == "attachment"


@pytest.mark.parametrize("raw, shown", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\王\\Desktop\\报表.pdf", "报表.pdf"),
    ("invoice\u202efdp.exe", "invoice fdp.exe.pdf"),
    ("<script>alert(1)</script>.pdf", "script.pdf"),
    ("<b>报表 ?.pdf", "b 报表.pdf"),
    ("   ...", "附件.pdf"),
    ("", "附件.pdf"),
    ("report.html", "report.html.pdf"),
    ("营业执照.PDF", "营业执照.pdf"),
    ("a" * 300 + ".pdf", "a" * 96 + ".pdf"),
])
def test_display_names_are_cleaned(app, raw, shown):
    with app.test_request_context():
        assert attachments.display_name(raw, ".pdf") == shown


def test_a_file_is_kept_under_a_random_name_outside_the_web_root(app, tmp_path):
    message = Message(body="x", from_firm=True, sender_id=1, thread_id=1)
    with app.test_request_context():
        stored = attachments.store(upload(PDF_BYTES, "../年报.html"), message)
    assert stored.content_type == "application/pdf" and stored.file_name == "年报.html.pdf"
    assert stored.size == len(PDF_BYTES) and len(stored.sha256) == 64
    path = attachments.path_of(stored)
    assert path.parent == tmp_path / "attachments" and path.read_bytes() == PDF_BYTES
    assert "年报" not in path.name and path.suffix == ".pdf"


def test_refuses_an_empty_and_an_oversized_file(app):
    app.config["MESSAGE_ATTACHMENT_MAX_BYTES"] = 1000
    message = Message(body="x", from_firm=True, sender_id=1, thread_id=1)
    with app.test_request_context():
        with pytest.raises(InvalidInput, match="空文件"):
            attachments.store(upload(b""), message)
        with pytest.raises(InvalidInput, match="不能超过"):
            attachments.store(upload(PDF_BYTES + b"0" * 1000), message)
        attachments.store(upload(PDF_BYTES + b"0" * (1000 - len(PDF_BYTES))), message)
