"""Registration rows and subjects registered on the platform: the keyed ID hash and the household link."""
from sqlalchemy import func, select
from stdnum.cn import ric

from app.common import idnumbers
from app.entities import CreditSubject
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from app.services import subjects

from . import exports

TOWNS = ["610203001", "610203100", "610203101", "610203106"]
BODY = "61020319750505321"
HEAD_ID = BODY + ric.calc_check_digit(BODY + "0")


def load(tmp_path, rows, name="市场监管_主体登记_2025.csv"):
    path = exports.write_csv(tmp_path / name, "registration", rows)
    return ingest_paths(db.session, export_files(path), TOWNS)


def farmer_row(code=exports.FARMER, id_number=HEAD_ID):
    return [code, "王建军", "农户", "610203106", "0151", "", "", "存续", "", "王建军", id_number]


def test_registration_stores_a_keyed_hash_of_the_id_number(app, tmp_path):
    load(tmp_path, [farmer_row()])
    farmer = db.session.scalars(select(CreditSubject)).one()
    assert farmer.legal_rep_id_hash == idnumbers.keyed_hash(HEAD_ID, app.config["ID_HASH_KEY"])
    assert farmer.legal_rep_id_masked == idnumbers.mask(HEAD_ID)


def test_a_farmer_registered_by_id_gets_the_household_code_a_department_brings(app, tmp_path):
    registered = subjects.register_farmer_by_id(db.session, "王建军", HEAD_ID, "610203106", "阿庄村",
                                                app.config["ID_HASH_KEY"])
    db.session.commit()
    summary = load(tmp_path, [farmer_row()])
    assert summary["totals"]["inserted"] == 1  # the row is stored; the subject is updated, not duplicated
    assert db.session.scalar(select(func.count(CreditSubject.id))) == 1
    db.session.refresh(registered)
    assert registered.household_id == exports.FARMER and registered.village == "阿庄村"
    assert registered.legal_rep_id_hash == idnumbers.keyed_hash(HEAD_ID, app.config["ID_HASH_KEY"])


def test_another_persons_household_is_a_new_subject(app, tmp_path):
    subjects.register_farmer_by_id(db.session, "王建军", HEAD_ID, "610203106", "阿庄村", app.config["ID_HASH_KEY"])
    db.session.commit()
    other = "61020319800101123"
    load(tmp_path, [farmer_row(id_number=other + ric.calc_check_digit(other + "0"))])
    assert db.session.scalar(select(func.count(CreditSubject.id))) == 2
    assert db.session.scalar(select(func.count(CreditSubject.id)).where(CreditSubject.household_id.is_(None))) == 1
