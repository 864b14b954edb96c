"""Configuration classes: `create_app()` reads the environment over Config; tests pass their own settings."""
import os
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
PROJECT_DIR = APP_DIR.parent
INSTANCE_DIR = PROJECT_DIR / "instance"
# Settings a deployment may give in the environment: setting → variable.
ENVIRONMENT_VARIABLES = {
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL", "SECRET_KEY": "SECRET_KEY", "REJECT_DIR": "REJECT_DIR",
    "UPLOAD_DIR": "UPLOAD_DIR", "MODEL_REGISTRY": "MODEL_REGISTRY", "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "PRODUCTION": "PRODUCTION", "TRUSTED_PROXIES": "TRUSTED_PROXIES", "BEHIND_TLS": "BEHIND_TLS",
    "SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE": "REMEMBER_COOKIE_SECURE",
    "JOBS_BACKEND": "JOBS_BACKEND", "REDIS_URL": "REDIS_URL", "METRICS_TOKEN": "METRICS_TOKEN",
    "SCORING_THREADS": "SCORING_THREADS", "REPORT_FONT_PATH": "REPORT_FONT_PATH",
    "REPORT_FONT_INDEX": "REPORT_FONT_INDEX",
    "MESSAGE_ATTACHMENT_DIR": "MESSAGE_ATTACHMENT_DIR", "OUTBOX_SENDER": "OUTBOX_SENDER",
    "ID_HASH_KEY": "ID_HASH_KEY", "EXCHANGE_KEY": "EXCHANGE_KEY", "API_RATE_LIMIT": "API_RATE_LIMIT",
    "SNAPSHOT_DIR": "SNAPSHOT_DIR",
}
# What a production run (PRODUCTION=1 in the environment) has unless the environment says otherwise:
# cookies only over HTTPS.
PRODUCTION_DEFAULTS = {"SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True}
TRUE_WORDS = ("1", "true", "yes", "on")


DEVELOPMENT_SECRET_KEY = "dev-only-change-me"
DEVELOPMENT_ID_HASH_KEY = "dev-only-id-key-change-me"
DEVELOPMENT_EXCHANGE_KEY = "dev-only-exchange-key-change-me"


class Config:
    """Defaults shared by every environment."""

    # A production run (PRODUCTION=1, docs/security.md) refuses to start with this key, none, or one
    # shorter than MIN_SECRET_KEY_LENGTH characters; the demo runs with it.
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    MIN_SECRET_KEY_LENGTH = 32
    PRODUCTION = False
    # The embedded default; PostgreSQL in production (DATABASE_URL).
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'yintai.db'}"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # How long a write on SQLite waits for another writer (an ingestion commits per file) before the
    # request is answered "busy, try again" (503): longer than any one file's write in the demo district.
    SQLITE_BUSY_TIMEOUT_SECONDS = 15
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Cookies sent over HTTPS only: on in production (PRODUCTION_DEFAULTS); the demo serves plain HTTP.
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # Proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port are believed. 0: the socket
    # address is the client's and those headers are ignored (anyone can send them).
    TRUSTED_PROXIES = 0
    # The site is served over HTTPS by something in front of it: send HSTS even on a request that
    # reached the app over plain HTTP (without this, only requests that came over TLS get it).
    BEHIND_TLS = False
    HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    # Failed logins per client address, and per account whatever the address (flask-limiter syntax):
    # guessing slows down, and spreading the guesses over many addresses does not help.
    LOGIN_RATE_LIMIT = "10 per minute"
    LOGIN_ACCOUNT_RATE_LIMIT = "5 per 15 minutes"
    # Registration attempts per client address (each one checks a code and a username).
    REGISTER_RATE_LIMIT = "20 per hour"
    # The key of the HMAC under which ID numbers are stored (with a mask, never whole: PIPL art. 28 makes
    # them sensitive). Kept apart from SECRET_KEY so that rotating sessions' key does not orphan the
    # stored hashes; a production run refuses the development key (docs/security.md).
    ID_HASH_KEY = DEVELOPMENT_ID_HASH_KEY
    # How long an invitation code stays usable: a subject's first code (issued by the platform admin and
    # handed over in person or by post) and a firm owner's invitation of a colleague.
    SUBJECT_CODE_DAYS = 14
    MEMBER_INVITATION_DAYS = 7
    # Counters in the process (demo); production keeps them in Redis, shared by every worker and kept
    # across restarts (RATELIMIT_STORAGE_URI=redis://host:6379/0; a production run refuses memory://).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis unreachable: the limits go on in the worker's memory (a warning in the log) until it answers
    # again, rather than every login failing with a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # The region this deployment serves (code of a file in app/regions/); the training and
    # benchmark commands default to it too.
    REGION_CODE = "610203"
    # Upper bound of a single financing need, in 元 (1 亿元): larger figures are typing errors.
    MAX_NEED_AMOUNT_YUAN = 100_000_000
    MAX_TERM_MONTHS = 360
    # Working days an institution has to decide an application (江苏 practice: about 3).
    DEFAULT_RESPONSE_LIMIT_DAYS = 3
    # Close of business, Beijing time, for the response clock (docs/response-clock.md): an application
    # submitted later, or on a non-working day, is received on the next working day, and a due time
    # falls at this hour. Bank counters and government offices in China close between 17:00 and 17:30.
    RESPONSE_DAY_CLOSES_AT = "17:30"
    # Institutions' response times (median, p90, share decided on time; also the matching's speed) are
    # measured over decisions of this many days, about a quarter.
    RESPONSE_TIME_WINDOW_DAYS = 90
    # The JSON API (docs/api.md). A token lives at most this many days (a lender's system rotates it
    # yearly at the latest); its requests are limited per token, so one runaway script does not slow
    # every other lender; an Idempotency-Key's first response is kept a day (Stripe's practice: a
    # client retries within minutes, not days).
    API_TOKEN_MAX_DAYS = 365
    API_TOKEN_DEFAULT_DAYS = 90
    API_RATE_LIMIT = "300 per minute"
    IDEMPOTENCY_KEY_HOURS = 24
    # Pages of the applications list: the default and the most a client may ask for.
    API_PAGE_SIZE = 50
    API_MAX_PAGE_SIZE = 200
    # The HMAC-SHA256 key shared with the city/province 信易贷 node for signed batches (docs/exchange.md);
    # a production run refuses the development key.
    EXCHANGE_KEY = DEVELOPMENT_EXCHANGE_KEY
    # Underwriting consents are short-lived (Account Aggregator practice: about a month).
    UNDERWRITING_CONSENT_DAYS = 30
    # A release of identity to a lender's screening is a consent too, and every consent ends: half a
    # year outlasts a financing need's search, after which the firm renews it with one click.
    SCREENING_CONSENT_DAYS = 180
    # Where reject reports and uploaded department files are kept.
    REJECT_DIR = str(INSTANCE_DIR / "rejects")
    UPLOAD_DIR = str(INSTANCE_DIR / "uploads")
    # The Parquet snapshot of the department records that the Dask path reads (`flask data snapshot`,
    # `flask scores refresh --engine dask`); on a cluster, a folder every worker can read (docs/scale.md).
    SNAPSHOT_DIR = str(INSTANCE_DIR / "snapshot")
    # Exports larger than this are loaded STREAM_ROWS rows at a time, in flat memory (docs/ingestion.md):
    # the whole-file path holds a file's cells several times over (a 1 GB export would need ~10 GB).
    STREAM_EXPORT_BYTES = 256 * 1024 * 1024
    STREAM_ROWS = 500_000
    # Days an uploaded original and a reject report are kept before `flask data purge-uploads` (daily)
    # or the next upload removes them; the batch keeps its checksum and counts. Originals hold
    # legal representatives' full ID numbers: kept no longer than re-loading a fixed file needs (PIPL
    # art. 19 and 47: personal information is kept for the shortest time its purpose needs).
    UPLOAD_RETENTION_DAYS = 30
    # Data-admin uploads: the largest file, and the most a zip may expand to (zip-bomb guard).
    MAX_UPLOAD_BYTES = 512 * 1024 * 1024
    MAX_UNZIPPED_BYTES = 4 * 1024 * 1024 * 1024
    MAX_ZIP_RATIO = 100
    # An Excel workbook is a zip of XML that openpyxl parses whole: at most this much XML (and at most
    # MAX_ZIP_RATIO times each part's compressed size). A full sheet (1,048,576 rows) of a four-column
    # export is about 250 MB and parses in about a minute; larger exports come as CSV.
    MAX_XLSX_UNZIPPED_BYTES = 256 * 1024 * 1024
    # The largest request body a page takes (forms); the upload pages take MAX_UPLOAD_BYTES
    # (app/security.py). A bigger body is refused with 413 before it is read.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # 银企线上沟通问答 (docs/messages.md): attachments are kept here, outside the web root, under random
    # names; at most this large (a scanned licence or a statement), one per message; a message at most
    # this many characters (a long answer, not a document: those go as an attachment).
    MESSAGE_ATTACHMENT_DIR = str(INSTANCE_DIR / "attachments")
    MESSAGE_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    MESSAGE_MAX_CHARS = 2000
    # Notifications that also go out by e-mail or SMS, per channel, to users who gave an address for
    # it; `flask outbox send` hands them to OUTBOX_SENDER (a name of app/services/outbox.SENDERS;
    # "log" writes them to the log and marks them sent, until a real gateway is plugged in).
    NOTIFICATION_CHANNELS = {
        "email": ("info_requested", "decision", "offer_expiring", "message", "consent_expiring", "objection_answered"),
        "sms": ("info_requested", "decision", "offer_expiring"),
    }
    OUTBOX_SENDER = "log"
    # `flask notifications remind` warns of an offer or a consent ending within this many days.
    REMIND_OFFER_DAYS = 3
    REMIND_CONSENT_DAYS = 7
    # The model registry folder.
    MODEL_REGISTRY = str(PROJECT_DIR / "models")
    # The CJK font embedded in credit reports (信用报告, app/services/report_pdf.py): an OpenType/TrueType
    # file or collection, and the face in a collection (Noto Sans CJK's collection holds JP, KR, SC, TC, HK:
    # 2 is Simplified Chinese). The default is what Debian's fonts-noto-cjk installs (`make browser`).
    REPORT_FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    REPORT_FONT_INDEX = 2
    # Days within which an objection (异议) to credit data is answered (征信业管理条例 art. 25: 20 days).
    OBJECTION_ANSWER_DAYS = 20
    # Publicity of an administrative penalty by severity, in months (国家发展改革委《信用修复管理办法》,
    # in force 2026-04-01): 轻微 not published (at most 3 months when published), 一般 3 months to
    # 1 year, 严重 1 to 3 years. `max` caps a department's publicity end, `default` stands in for a
    # missing one (0: not published); `min` is how long a penalty stays published before repair may
    # be asked (轻微: at once, once the obligation it imposed is fulfilled).
    PENALTY_PUBLICITY_MONTHS = {"minor": {"min": 0, "max": 3, "default": 0},
                                "general": {"min": 3, "max": 12, "default": 12},
                                "serious": {"min": 12, "max": 36, "default": 36}}
    # The red and black lists the platform keeps, each with its legal basis, its exit condition and
    # its measures (国办发〔2020〕49号, 过惩相当: a list changes matching only as its measures say;
    # app/common/vocab.py LIST_MEASURES). `court_dishonest` is filled from 司法涉诉 records flagged
    # 失信被执行人 and left when the court no longer flags the case.
    LIST_KINDS = {
        "court_dishonest": {
            "type": "black", "name": "失信被执行人名单", "measures": ["no_credit_loans"],
            "basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》（法释〔2017〕7号）",
            "exit": "履行生效法律文书确定的义务，或人民法院决定删除失信信息",
            "name_en": "List of dishonest judgment debtors",
            "basis_en": "Supreme People's Court provisions on publishing the list of dishonest judgment debtors "
                        "(Fa Shi [2017] No. 7)",
            "exit_en": "The obligations of the effective legal document are met, or the court removes the record"},
        "serious_dishonest": {
            "type": "black", "name": "严重失信主体名单", "measures": ["no_credit_loans"],
            "basis": "《国务院办公厅关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》（国办发〔2020〕49号）",
            "exit": "名单期限届满，或完成信用修复并经认定部门同意移出",
            "name_en": "List of seriously dishonest subjects",
            "basis_en": "General Office of the State Council, guidance on improving the system of constraints on "
                        "dishonesty (Guo Ban Fa [2020] No. 49)",
            "exit_en": "The listing period ends, or the credit is repaired and the listing department agrees to "
                       "remove it"},
        "honest_taxpayer": {
            "type": "red", "name": "纳税信用A级纳税人名单", "measures": ["priority"],
            "basis": "《纳税缴费信用管理办法》（2025年7月1日起施行）",
            "exit": "纳税信用等级评定不再为A级",
            "name_en": "List of grade-A taxpayers",
            "basis_en": "Measures for the administration of tax and fee payment credit (in force from 2025-07-01)",
            "exit_en": "The tax credit grade is no longer A"},
        "trustworthy": {
            "type": "red", "name": "守信激励对象名单", "measures": ["priority"],
            "basis": "《社会信用体系建设规划纲要（2014—2020年）》与本区社会信用体系建设规划",
            "exit": "名单期限届满，或出现失信行为",
            "name_en": "List of trustworthy subjects for incentives",
            "basis_en": "Outline of the plan for building the social credit system (2014–2020) and the district's "
                        "social credit plan",
            "exit_en": "The listing period ends, or the subject acts dishonestly"},
    }
    # Subjects sampled from the current population to compare model versions on the model admin page.
    MODEL_COMPARE_SAMPLE = 500
    # A monthly source with no batch for this many days is shown as stale.
    SOURCE_STALE_DAYS = 45
    # The long runs (an upload's ingestion, scoring, re-matching, the market simulation) are jobs
    # (docs/deploy.md): "threads" runs each in a thread of the process that started it (the demo, the
    # tests: nothing else to run); "rq" queues them in Redis (REDIS_URL) for `flask jobs worker`, so
    # that a web worker's restart or timeout never cuts a run and the runs share one queue.
    JOBS_BACKEND = "threads"
    REDIS_URL = None
    JOBS_QUEUE = "yintai"
    # A job still running after this long is stopped and its run marked failed: a full scoring of
    # 1 million subjects or a 60-month simulation of a large district take hours, not days.
    JOB_TIMEOUT_SECONDS = 6 * 3600
    # /metrics answers the machine itself; a scraper elsewhere sends this token as a Bearer token.
    METRICS_TOKEN = None
    # LightGBM threads of a batch prediction; None: the library's default (every core). Production
    # sets 1 (docs/deploy.md): each gunicorn worker and job worker is one process of several on the
    # machine, and OpenMP threads in each would fight over the same cores.
    SCORING_THREADS = None
    # Credit grades of the score scale, best first (the scoring issue publishes A–E).
    CREDIT_GRADES = ("A", "B", "C", "D", "E")
    # Matching (docs/matching.md). A product must cover at least this share of a need (%).
    MATCH_MIN_COVERAGE_PCT = 50
    # Near misses shown to a firm: products that fail at most this many rules.
    MATCH_NEAR_MISS_MAX_FAILED = 2
    # Approval odds (docs/matching.md). A product's (else its institution's) odds are named after
    # its own decisions once it has this many: about 5 per grade level, the least at which the
    # shrunk rate moves a third of the way from the grade's towards its own. Fewer, and the page
    # says the number is only the market rate of the firm's grade.
    MATCH_ODDS_MIN_DECISIONS = 30
    # Below this many decisions in the whole market even the rate of a grade is a guess (the 95 %
    # interval of 30 decisions at 50 % spans ±17 points), so no number is shown at all.
    MATCH_ODDS_MARKET_MIN_DECISIONS = 30
    # Strength of the Beta prior: each step (product → institution → grade) counts as this many
    # decisions at its parent's rate, so 3 decisions move a rate a quarter of the way and 300 nearly
    # all of it.
    MATCH_ODDS_PRIOR_STRENGTH = 10
    # The regulator's reliability page judges a product on at least this many held-out decisions:
    # with fewer, the interval of the observed rate is wider than ±20 points and says nothing.
    MATCH_ODDS_RELIABILITY_MIN_DECISIONS = 20
    # The odds and response times shown are refitted when the decisions change, checked at most this
    # often: a few minutes' lag is invisible in an estimate, refitting on every page view is not.
    MATCH_ODDS_REFRESH_SECONDS = 300
    # When the regulator's dashboard finds the market changed, it shows the figures it holds (saying when they
    # were read) and reads the market again in a background thread of the process, so that no view waits for the
    # whole market to be read (about 0.3 s at 20,000 firms); a web worker begins its first reading as it starts.
    DASHBOARD_BACKGROUND_REFRESH = True
    # The APR (%) at which a product's cost part of the fit reaches 0.
    MATCH_APR_REFERENCE_PCT = 24
    # Monthly records may arrive this many months late: "12 months of tax filings" means 12 of
    # the last 12 + lag months.
    MATCH_SOURCE_LAG_MONTHS = 3

    # The one-year loan prime rate (贷款市场报价利率, LPR) the APR caps refer to, with the day it was
    # announced and where: the National Interbank Funding Center publishes it on the 20th of each
    # month; update the three together when it changes.
    ONE_YEAR_LPR_PCT = 3.0
    ONE_YEAR_LPR_DATE = "2025-05-20"
    ONE_YEAR_LPR_SOURCE = "全国银行间同业拆借中心 2025年5月20日贷款市场报价利率（LPR）公告：1年期LPR为3.0%"
    # The same source for readers who chose English.
    ONE_YEAR_LPR_SOURCE_EN = ("National Interbank Funding Center, loan prime rate announcement of 2025-05-20: "
                              "one-year LPR 3.0%")
    # Compliance rules (docs/compliance.md): each rule's mode ("refuse": the action is refused with the
    # rule's message, and what slipped through is flagged; "flag": only flagged; "off") and parameters.
    # APR caps per institution kind are either a ceiling in % ({"ceiling_pct": 24}) or a multiple of the
    # one-year LPR ({"lpr_multiple": 4}: the court protection of private lending stops at 4 × LPR,
    # 最高人民法院关于审理民间借贷案件适用法律若干问题的规定, 2020 revision, art. 25). 24 % is the protected
    # ceiling of the 2015 version of that rule and the supervisors' line for microloan companies'
    # comprehensive financing cost (check the guideline in force), used here for every kind.
    COMPLIANCE_RULES = {
        "apr_cap": {"mode": "refuse", "caps": {"bank": {"ceiling_pct": 24}, "guarantee": {"ceiling_pct": 24},
                                               "pawn": {"ceiling_pct": 24}, "microloan": {"ceiling_pct": 24}}},
        "apr_disclosure": {"mode": "flag"},
        "decline_reasons": {"mode": "flag"},
        # Working days past the due time before an open application is flagged (0: as soon as it is late).
        "response_overdue": {"mode": "flag", "min_working_days_late": 0},
        "consent_view": {"mode": "flag"},
        "licence_suspended": {"mode": "refuse"},
    }

    @classmethod
    def settings(cls):
        """This class's settings as a dict; the environment is not read."""
        return {name: getattr(cls, name) for name in dir(cls) if name.isupper()}

    @classmethod
    def from_environment(cls):
        """This class's settings, overridden by the process environment as it is now (ENVIRONMENT_VARIABLES)."""
        settings = cls.settings()
        if os.environ.get("PRODUCTION", "").strip().lower() in TRUE_WORDS:
            settings.update(PRODUCTION_DEFAULTS)
        settings.update({name: _typed(settings[name], os.environ[variable])
                         for name, variable in ENVIRONMENT_VARIABLES.items() if variable in os.environ})
        return settings


class TestConfig(Config):
    """Settings for the test suite, whatever the developer's environment holds.

    An app built from these alone has an in-memory database and no folders: a test that writes
    files or reads models gives its own (tests never touch the project's instance/ or models/).
    """

    TESTING = True
    SECRET_KEY = "test"
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    REJECT_DIR = None
    UPLOAD_DIR = None
    SNAPSHOT_DIR = None
    MESSAGE_ATTACHMENT_DIR = None
    MODEL_REGISTRY = None
    # Tests see a decision in the odds at once, and the dashboard's figures of the market as it is.
    MATCH_ODDS_REFRESH_SECONDS = 0
    DASHBOARD_BACKGROUND_REFRESH = False


def _typed(default, text):
    """An environment variable's text as the type of the setting's default (yes/no, a number, text)."""
    if isinstance(default, bool):
        return text.strip().lower() in TRUE_WORDS
    if isinstance(default, int):
        if not text.strip().isdigit():
            raise ValueError(f"expected a whole number, got {text!r}")
        return int(text)
    return text


def normalise_database_url(url):
    """Make `postgres://` and `postgresql://` URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
