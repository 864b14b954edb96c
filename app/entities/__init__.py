"""ORM entities of the platform (the top-level `models/` is the model registry, not this)."""
from .api import ApiToken, ExchangeBatch, IdempotencyKey
from .audit import AuditChainHead, AuditEntry
from .compliance import ComplianceFlag
from .consent import Consent, DataAccessLog
from .credit import CreditScore, ListEntry, ModelVersion, Objection, RepairRequest, ScoringRun
from .financing import (
    Application,
    ApplicationEvent,
    FeedbackUpload,
    FinancingNeed,
    Loan,
    MarketSimulation,
    Match,
    MatchRun,
    RepaymentOutcome,
    SimulationRun,
)
from .institutions import Institution, Product, ProductVersion
from .messages import (
    FaqEntry,
    Message,
    MessageAttachment,
    MessageThread,
    Notification,
    OutboxMessage,
    ThreadRead,
    UserContact,
)
from .reports import ReportIssue
from .subjects import CreditSubject, IngestionRun, SourceBatch, SourceRecord
from .users import Invitation, User

__all__ = [
    "ApiToken", "ExchangeBatch", "IdempotencyKey",
    "Application", "ApplicationEvent", "AuditChainHead", "AuditEntry", "ComplianceFlag", "Consent", "CreditScore",
    "CreditSubject", "DataAccessLog", "FaqEntry", "FeedbackUpload", "FinancingNeed", "IngestionRun", "Institution",
    "Invitation",
    "ListEntry", "Loan", "MarketSimulation",
    "Match", "MatchRun", "Message", "MessageAttachment", "MessageThread", "ModelVersion", "Notification",
    "OutboxMessage", "Objection", "Product", "ProductVersion", "RepairRequest",
    "RepaymentOutcome", "ReportIssue", "ScoringRun", "SimulationRun", "SourceBatch", "SourceRecord", "ThreadRead",
    "User", "UserContact",
]
