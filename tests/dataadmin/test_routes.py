"""The data admin's pages: upload (CSV, Excel, zip), refusals, source health, reject reports."""
import io
import struct
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app import jobs
from app.entities import AuditEntry, SourceBatch, SourceRecord
from app.entities.base import utcnow
from app.extensions import db

from ..conftest import csrf_token, logged_in_client, make_app, page_text
from ..ingest import exports
from ..ingest.test_reading import bomb


def upload(client, name, content):
    """Upload a file as the data admin does; a file taken is loaded by a job (a thread in the tests): wait
    for it and return the upload's page as it then reads, else the refusal."""
    token = csrf_token(page_text(client.get("/data/upload")))
    response = client.post("/data/upload", data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    if response.status_code != 303:
        return response
    jobs.wait()
    return client.get(response.headers["Location"])


class GbkNamedInfo(zipfile.ZipInfo):
    """A member name stored as GBK bytes without the UTF-8 flag, as older Windows tools write."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gb18030"), self.flag_bits & ~0x800


def district_zip(tmp_path, gbk_names=False):
    folder = exports.write_district(tmp_path / "district")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            info = (GbkNamedInfo if gbk_names else zipfile.ZipInfo)(path.name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def test_upload_a_single_csv(app, world, tmp_path):
    client = logged_in_client(app, world["users"]["data_admin"])
    folder = exports.write_district(tmp_path / "d")
    response = upload(client, "市场监管_主体登记_2025.csv", (folder / "市场监管_主体登记_2025.csv").read_bytes())
    assert response.status_code == 200
    assert "载入结果" in page_text(response)
    assert db.session.scalar(select(func.count(SourceRecord.id))) == 3
    uploaded = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "data.upload")).one()
    assert uploaded.actor_id == world["users"]["data_admin"].id and uploaded.target_type == "IngestionRun"
    assert uploaded.details == {"file": "市场监管_主体登记_2025.csv", "files": "1", "refused": "0"}


def test_upload_a_zip_written_by_windows_tools(app, world, tmp_path):
    client = logged_in_client(app, world["users"]["data_admin"])
    response = upload(client, "district.zip", district_zip(tmp_path, gbk_names=True))
    page = page_text(response)
    assert "税务_月度申报_2025.csv" in page
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 3


def test_zip_bomb_is_refused(app, world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("税务_月度申报_炸弹.csv", b"0" * (50 * 1024 * 1024))
    client = logged_in_client(app, world["users"]["data_admin"])
    response = upload(client, "bomb.zip", buffer.getvalue())
    assert response.status_code == 400 and "压缩炸弹" in page_text(response)
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 0


def test_oversized_upload_is_refused(database_url, world, tmp_path):
    small = make_app(database_url, MAX_UPLOAD_BYTES=1024, REJECT_DIR=str(tmp_path / "r"),
                     UPLOAD_DIR=str(tmp_path / "u"))
    client = logged_in_client(small, world["users"]["data_admin"])
    token = csrf_token(page_text(client.get("/data/upload")))
    response = client.post("/data/upload", data={"csrf_token": token, "file": (io.BytesIO(b"x" * 4096), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "上传的文件过大" in page_text(response)


def test_wrong_file_type_is_refused(app, world):
    client = logged_in_client(app, world["users"]["data_admin"])
    response = upload(client, "税务_月度申报.exe", b"MZ")
    assert response.status_code == 400 and "只接受 CSV" in page_text(response)


def test_health_and_reject_report(app, world, tmp_path):
    client = logged_in_client(app, world["users"]["data_admin"])
    upload(client, "district.zip", district_zip(tmp_path))
    bad = exports.write_csv(tmp_path / "税务_月度申报_坏.csv", "tax_filing",
                            [[exports.FIRM_A, "2025-13", "1", "1", "1", "是", "0"]])
    upload(client, bad.name, bad.read_bytes())
    page = page_text(client.get("/data/"))
    assert "月度纳税申报" in page and "格式不正确（1）" in page and "25.00%" in page
    batch = db.session.scalars(select(SourceBatch).where(SourceBatch.file_name == bad.name)).one()
    report = client.get(f"/data/batches/{batch.id}/rejects")
    assert report.status_code == 200 and "2025-13" in report.get_data().decode("utf-8-sig")


def damaged(archive_bytes, name):
    """The archive with member `name` given a false size and a wrong CRC in both of its headers."""
    raw = bytearray(archive_bytes)
    encoded = name.encode("utf-8")
    local = raw.find(b"PK\x03\x04")
    while local != -1 and raw[local + 30:local + 30 + len(encoded)] != encoded:
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while central != -1 and raw[central + 46:central + 46 + len(encoded)] != encoded:
        central = raw.find(b"PK\x01\x02", central + 4)
    size = struct.unpack_from("<I", raw, local + 22)[0] + 1000
    for offset, crc_at, size_at in ((local, 14, 22), (central, 16, 24)):
        struct.pack_into("<I", raw, offset + crc_at, 0xDEADBEEF)
        struct.pack_into("<I", raw, offset + size_at, size)
    return bytes(raw)


def test_a_damaged_member_of_a_zip_is_refused_and_the_others_load(app, world, tmp_path):
    client = logged_in_client(app, world["users"]["data_admin"])
    response = upload(client, "district.zip", damaged(district_zip(tmp_path), "税务_月度申报_2025.csv"))
    page = page_text(response)
    assert response.status_code == 200 and "载入结果" in page
    assert "税务_月度申报_2025.csv" in page and "已损坏（大小或校验值不符），未载入" in page
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 2
    assert set(db.session.scalars(select(SourceBatch.source))) == {"registration", "tax_grade"}


def test_a_zip_whose_only_member_is_damaged_is_refused(app, world, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("税务_月度申报_2025.csv", "纳税人识别号,所属期\n" * 40)
    client = logged_in_client(app, world["users"]["data_admin"])
    response = upload(client, "one.zip", damaged(buffer.getvalue(), "税务_月度申报_2025.csv"))
    assert response.status_code == 400 and "已损坏（大小或校验值不符），未载入" in page_text(response)
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 0


def test_an_excel_bomb_upload_is_refused_with_its_reason(app, world, tmp_path):
    client = logged_in_client(app, world["users"]["data_admin"])
    path = bomb(tmp_path, megabytes=32)
    page = page_text(upload(client, path.name, path.read_bytes()))
    assert "整文件拒收" in page and "疑似压缩炸弹" in page
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 0


def test_an_upload_removes_files_past_retention_and_the_page_says_so(app, world, tmp_path):
    client = logged_in_client(app, world["users"]["data_admin"])
    assert f"保留 {app.config['UPLOAD_RETENTION_DAYS']} 天后自动删除" in page_text(client.get("/data/upload"))
    bad = exports.write_csv(tmp_path / "市场监管_主体登记_旧.csv", "registration",
                            [*exports.registration_rows(), ["91610203ABC", "坏", "企业", "610203100", "1", "", "",
                                                            "存续", "", "", ""]])
    upload(client, bad.name, bad.read_bytes())
    old = db.session.scalars(select(SourceBatch)).one()
    kept, report = Path(old.kept_file), Path(old.reject_file)
    assert kept.exists() and report.exists()
    assert client.get(f"/data/batches/{old.id}/rejects").status_code == 200
    old.received_at = utcnow() - timedelta(days=app.config["UPLOAD_RETENTION_DAYS"] + 1)
    db.session.commit()
    fresh = exports.write_district(tmp_path / "d") / "税务_月度申报_2025.csv"
    upload(client, fresh.name, fresh.read_bytes())
    assert not kept.exists() and not report.exists()
    db.session.expire_all()
    old = db.session.get(SourceBatch, old.id)
    assert old.files_removed_at is not None and old.rows_rejected == 1 and len(old.file_sha256) == 64
    assert "原件及拒收报告已按保留期删除" in page_text(client.get("/data/"))
    assert client.get(f"/data/batches/{old.id}/rejects").status_code == 404
    [new] = db.session.scalars(select(SourceBatch).where(SourceBatch.id != old.id)).all()
    assert Path(new.kept_file).exists()  # the upload just made is kept
