"""The data admin's pages: upload (CSV, Excel, zip), refusals, source health, reject reports."""
import io
import zipfile

from sqlalchemy import func, select

from app import jobs
from app.entities import SourceBatch, SourceRecord
from app.extensions import db

from ..conftest import csrf_token, logged_in_client, make_app, page_text
from ..ingest import exports


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
    small = make_app(database_url, MAX_CONTENT_LENGTH=1024, REJECT_DIR=str(tmp_path / "r"),
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
