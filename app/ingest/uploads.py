"""Receiving uploaded department files: CSV, Excel, or a zip of them, with bomb and size guards.

Each upload is kept in a folder of its own under UPLOAD_DIR until its retention ends (retention.py)."""
import re
import shutil
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .archives import too_expansive
from .loading import FileResult
from .reading import CSV_SUFFIXES, EXCEL_SUFFIXES

ACCEPTED = (*CSV_SUFFIXES, *EXCEL_SUFFIXES)
MAX_MEMBERS = 500
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')
# What reading a damaged zip member raises: a false size or a bad CRC (BadZipFile), a cut deflate
# stream (EOFError, zlib.error), an unknown compression method or a password (NotImplementedError,
# RuntimeError).
_DAMAGED = (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError)


@dataclass
class Received:
    """An upload as saved: the export files to load, and the archive members refused as damaged."""

    paths: list
    refused: list = field(default_factory=list)


class UploadRefused(Exception):
    """An upload the platform will not unpack or keep; messages in Chinese and English."""

    def __init__(self, message, message_en):
        super().__init__(message)
        self.message = message
        self.message_en = message_en


def safe_name(name):
    """A file name without folders or characters that file systems refuse; Chinese is kept."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip(". ")
    return base[:150] or "upload"


def _member_name(info):
    """Zip member names without the UTF-8 flag were written by Windows tools in GBK."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _copy_capped(source, target, cap):
    written = 0
    with open(target, "wb") as out:
        while block := source.read(1 << 20):
            written += len(block)
            if written > cap:
                raise UploadRefused("压缩包解压后超过允许大小，已拒收", "the archive expands beyond the allowed size")
            out.write(block)
    return written


def _extract(archive_path, folder, max_bytes, max_ratio):
    try:
        archive = zipfile.ZipFile(archive_path)
    except zipfile.BadZipFile:
        raise UploadRefused("压缩包已损坏或不是 zip 文件", "the archive is damaged or not a zip file") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise UploadRefused(f"压缩包内文件超过 {MAX_MEMBERS} 个", f"more than {MAX_MEMBERS} files in the archive")
        if too_expansive(members, max_bytes, max_ratio):
            raise UploadRefused("压缩包解压后过大或压缩比异常（疑似压缩炸弹），已拒收",
                                "the archive expands too much (a zip bomb?) and was refused")
        received, budget = Received([]), max_bytes
        for member in members:
            name = safe_name(_member_name(member))
            if not name.lower().endswith(ACCEPTED):
                continue
            try:
                with archive.open(member) as stream:
                    budget -= _copy_capped(stream, folder / name, min(budget, member.file_size))
            except _DAMAGED:
                # Half a file must not load as if it were whole: it is dropped and named as refused.
                (folder / name).unlink(missing_ok=True)
                received.refused.append(FileResult(
                    name, None, "refused", message="压缩包中的该文件已损坏（大小或校验值不符），未载入",
                    message_en="this file in the archive is damaged (wrong size or checksum) and was not loaded"))
                continue
            received.paths.append(folder / name)
    return received


def receive(storage, upload_dir, max_unzipped, max_ratio):
    """Save an uploaded file (werkzeug FileStorage): the export files it holds, and the damaged
    members of a zip, refused one by one while the others load (a Received)."""
    name = safe_name(storage.filename or "")
    suffix = Path(name).suffix.lower()
    if suffix not in (*ACCEPTED, ".zip"):
        raise UploadRefused("只接受 CSV、Excel（.xlsx）或 zip 文件",
                            "only CSV, Excel (.xlsx) or zip files are accepted")
    folder = Path(upload_dir) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    saved = folder / name
    storage.save(saved)
    if suffix != ".zip":
        return Received([saved])
    try:
        unpacked = folder / "unpacked"
        unpacked.mkdir()
        received = _extract(saved, unpacked, max_unzipped, max_ratio)
        if not received.paths and received.refused:
            raise UploadRefused(f"{received.refused[0].file}：{received.refused[0].message}",
                                f"{received.refused[0].file}: {received.refused[0].message_en}")
        if not received.paths:
            raise UploadRefused("压缩包中没有 CSV 或 Excel 文件", "the archive holds no CSV or Excel file")
    except UploadRefused:
        shutil.rmtree(folder, ignore_errors=True)  # a refused upload is not kept
        raise
    return received
