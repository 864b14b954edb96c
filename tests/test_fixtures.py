"""The suite's own mechanics: tables emptied between tests, and what each pytest-xdist worker owns."""
import pytest
from sqlalchemy import func, select

from app.entities import Institution, User
from app.extensions import db

from . import conftest, factories


def test_emptied_tables_give_ids_from_one_again(app):
    factories.build_world()
    assert db.session.scalar(select(func.count(User.id))) > 1
    conftest._empty_tables()
    assert db.session.scalar(select(func.count(User.id))) == 0
    world = factories.build_world()
    assert min(user.id for user in world["users"].values()) == 1  # as after TRUNCATE … RESTART IDENTITY
    assert min(db.session.scalars(select(Institution.id))) == 1


def test_tables_over_the_delete_limit_are_emptied_too(app, monkeypatch):
    monkeypatch.setattr(conftest, "DELETE_ROWS_AT_MOST", 1)  # PostgreSQL: the TRUNCATE path
    factories.build_world()
    conftest._empty_tables()
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert min(user.id for user in factories.build_world()["users"].values()) == 1


@pytest.mark.parametrize(("number", "expected"), [
    (0, "postgresql://postgres@127.0.0.1:5432/test"),
    (1, "postgresql://postgres@127.0.0.1:5432/test_gw1"),
    (3, "postgresql://postgres@127.0.0.1:5432/test_gw3"),
])
def test_each_worker_has_a_database_of_its_own(number, expected):
    assert conftest.worker_database_url("postgresql://postgres@127.0.0.1:5432/test", number) == expected
    assert conftest.worker_database_url(None, number) is None


@pytest.mark.parametrize(("number", "expected"), [(0, "redis://127.0.0.1:6379/15"), (1, "redis://127.0.0.1:6379/14"),
                                                  (5, "redis://127.0.0.1:6379/10")])
def test_each_worker_has_a_redis_database_of_its_own(number, expected):
    assert conftest.worker_redis_url("redis://127.0.0.1:6379/15", number) == expected


def test_a_worker_without_a_redis_database_left_is_an_error():
    with pytest.raises(RuntimeError, match="too few Redis databases"):
        conftest.worker_redis_url("redis://127.0.0.1:6379/1", 2)
