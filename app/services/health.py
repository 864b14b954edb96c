"""Is this process ready to serve: the database answers, Redis answers (where configured), the active
model loads. Each check gives "ok" or what is wrong, in a few words an operator reads in a probe."""
import logging

from sqlalchemy import select

from app.credit.registry import RegistryError

from . import models

log = logging.getLogger(__name__)
# A probe must answer quickly: a Redis that does not answer within this is not ready.
REDIS_TIMEOUT_SECONDS = 2


def database(session):
    """"ok" when the database answers a query."""
    try:
        session.execute(select(1))
    except Exception as error:
        session.rollback()
        log.warning("readiness: database check failed", exc_info=True)
        return f"unavailable ({type(error).__name__})"
    return "ok"


def redis(url):
    """"ok" when the Redis at `url` answers a ping."""
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        client.ping()
    except Exception as error:
        log.warning("readiness: Redis check failed", exc_info=True)
        return f"unavailable ({type(error).__name__})"
    finally:
        client.close()
    return "ok"


def model(session, root):
    """"ok" when the active model version loads with every registry check ("none active" is ready too:
    the pages work before a first model is activated)."""
    if models.active_version(session) is None:
        return "ok (none active)"
    try:
        models.active_scorer(session, root)
    except (RegistryError, OSError, ValueError) as error:
        log.warning("readiness: the active model does not load: %s", error)
        return "does not load"
    return "ok"


def redis_urls(config):
    """The Redis servers this deployment uses: the job queue's and the rate limits' (when on Redis)."""
    urls = [config.get("REDIS_URL"), config.get("RATELIMIT_STORAGE_URI")]
    return sorted({url for url in urls if url and url.startswith(("redis://", "rediss://", "unix://"))})


NOT_CHECKED = "not checked"


def readiness(session, config):
    """(failing part names, every part's state by name): ready when none fails. The model is checked
    only when the database answers (the active version is written there)."""
    checks = {"database": database(session)}
    for number, url in enumerate(redis_urls(config)):
        checks["redis" if number == 0 else f"redis{number + 1}"] = redis(url)
    checks["model"] = model(session, config["MODEL_REGISTRY"]) if checks["database"] == "ok" else NOT_CHECKED
    failing = sorted(name for name, state in checks.items() if not state.startswith("ok") and state != NOT_CHECKED)
    return failing, checks
