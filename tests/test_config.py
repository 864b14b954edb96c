"""Settings: a real run reads the environment when the app is built; tests never do."""
import pytest

from app import create_app
from app.config import Config, TestConfig

from .conftest import make_app

DEVELOPER_ENVIRONMENT = {"DATABASE_URL": "postgresql://someone@db.example/production",
                         "SECRET_KEY": "from-the-shell", "RATELIMIT_STORAGE_URI": "redis://cache.example:6379",
                         "MODEL_REGISTRY": "/srv/models", "REJECT_DIR": "/srv/rejects", "UPLOAD_DIR": "/srv/uploads"}


@pytest.fixture
def developer_environment(monkeypatch):
    """The variables a developer's shell may hold, set for the test."""
    for name, value in DEVELOPER_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def test_a_test_app_takes_nothing_from_the_environment(developer_environment, database_url):
    app = make_app(database_url)
    assert app.config["SECRET_KEY"] == "test" and app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert "example" not in app.config["SQLALCHEMY_DATABASE_URI"]
    assert not {app.config[name] for name in ("MODEL_REGISTRY", "REJECT_DIR", "UPLOAD_DIR")} & {
        "/srv/models", "/srv/rejects", "/srv/uploads"}


def test_the_test_config_alone_is_an_in_memory_app_without_folders(developer_environment):
    app = create_app(TestConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://" and app.config["TESTING"]
    assert app.config["MODEL_REGISTRY"] is None and app.config["REJECT_DIR"] is None


def test_a_mapping_is_taken_over_the_defaults_without_the_environment(developer_environment):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "given"})
    assert app.config["SECRET_KEY"] == "given"
    assert app.config["MODEL_REGISTRY"] == Config.MODEL_REGISTRY
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_real_run_reads_the_environment_when_the_app_is_built(monkeypatch, developer_environment):
    settings = Config.from_environment()
    assert settings["SQLALCHEMY_DATABASE_URI"] == DEVELOPER_ENVIRONMENT["DATABASE_URL"]
    assert settings["RATELIMIT_STORAGE_URI"] == DEVELOPER_ENVIRONMENT["RATELIMIT_STORAGE_URI"]
    assert settings["UPLOAD_DIR"] == "/srv/uploads" and settings["REJECT_DIR"] == "/srv/rejects"
    # Changed after import, read when the app is built (a database and limiter storage this machine has).
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert app.config["SECRET_KEY"] == "from-the-shell" and app.config["MODEL_REGISTRY"] == "/srv/models"


def test_without_the_environment_a_real_run_uses_the_project_folders(monkeypatch):
    for name in DEVELOPER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    settings = Config.from_environment()
    assert settings == Config.settings()
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("/instance/yintai.db")
    assert settings["MODEL_REGISTRY"].endswith("/models") and settings["REJECT_DIR"].endswith("/instance/rejects")
