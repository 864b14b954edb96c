"""Attachments of messages: the type read from the content (never from the name or the browser's
word), a size limit, a cleaned name for display, and storage outside the web root under a random name.

Only documents a firm and a lender exchange are taken: PDF, PNG, JPEG, and Word/Excel files (zip
archives whose parts say which). Anything else, HTML and SVG above all, is refused, so nothing the
platform hands back can run in a browser; downloads are sent as attachments besides (docs/messages.md).
"""
import hashlib
import io
import secrets
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import current_app
from flask_babel import gettext as _

from app.common.errors import InvalidInput
from app.entities import MessageAttachment

# Detected type → (content type, the extension a download gets).
TYPES = {
    "pdf": ("application/pdf", ".pdf"),
    "png": ("image/png", ".png"),
    "jpeg": ("image/jpeg", ".jpg"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
}
SIGNATURES = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))
ZIP_SIGNATURE = b"PK\x03\x04"
# The part that makes an Office Open XML package a Word document or a workbook.
OFFICE_PARTS = (("word/document.xml", "docx"), ("xl/workbook.xml", "xlsx"))
MAX_NAME = 100
# Characters that change how a name reads without being seen (bidirectional overrides, zero widths).
INVISIBLE = {"Cf", "Cc", "Cs", "Co", "Cn", "Zl", "Zp"}


def display_name(raw, extension):
    """A file name safe to show and to offer as a download name: no folders, no control or bidi
    characters, no leading dots, at most MAX_NAME characters, ending in the detected type's extension."""
    name = PureWindowsPath(PurePosixPath(str(raw or "")).name).name
    name = "".join(" " if unicodedata.category(ch) in INVISIBLE or ch in '<>:"/\\|?*' else ch
                   for ch in unicodedata.normalize("NFC", name))
    stem = " ".join(name.split()).strip(" .")
    if stem.lower().endswith(extension) or (extension == ".jpg" and stem.lower().endswith(".jpeg")):
        stem = stem.rsplit(".", 1)[0].strip(" .")
    stem = stem[:MAX_NAME - len(extension)] or _("附件")
    return stem + extension


def _office_kind(data):
    """'docx' or 'xlsx' when the zip holds that package's main part; only its directory is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return next((kind for part, kind in OFFICE_PARTS if part in names), None)


def detect(data):
    """The kind of a file's content (a key of TYPES) read from its bytes; InvalidInput for any other."""
    kind = next((kind for signature, kind in SIGNATURES if data.startswith(signature)), None)
    if kind is None and data.startswith(ZIP_SIGNATURE):
        kind = _office_kind(data)
    if kind is None:
        raise InvalidInput(_("附件只能是 PDF、PNG、JPEG 图片或 Word（.docx）、Excel（.xlsx）文件。"), "attachment")
    return kind


def _folder():
    folder = current_app.config["MESSAGE_ATTACHMENT_DIR"]
    if not folder:
        raise RuntimeError("MESSAGE_ATTACHMENT_DIR is not set")
    return Path(folder)


def store(upload, message):
    """Check and keep an uploaded file (a werkzeug FileStorage) as an attachment of `message`; the
    row is returned unstaged. InvalidInput when it is empty, too large or of a type not taken."""
    limit = current_app.config["MESSAGE_ATTACHMENT_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    if not data:
        raise InvalidInput(_("附件是空文件。"), "attachment")
    if len(data) > limit:
        raise InvalidInput(_("附件不能超过 %(mb)s MB。", mb=f"{limit / (1024 * 1024):g}"), "attachment")
    kind = detect(data)
    content_type, extension = TYPES[kind]
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16) + extension
    (folder / stored_name).write_bytes(data)
    return MessageAttachment(message=message, file_name=display_name(upload.filename, extension),
                             stored_name=stored_name, content_type=content_type, size=len(data),
                             sha256=hashlib.sha256(data).hexdigest())


def path_of(attachment):
    """Where the attachment's file is kept."""
    return _folder() / attachment.stored_name
