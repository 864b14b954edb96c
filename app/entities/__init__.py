"""ORM entities of the platform (the top-level `models/` is the model registry, not this)."""
from .audit import AuditChainHead, AuditEntry
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
    Message,
    RepaymentOutcome,
    SimulationRun,
)
from .institutions import Institution, Product, ProductVersion
from .subjects import CreditSubject, IngestionRun, SourceBatch, SourceRecord
from .users import User

__all__ = [
    "Application", "ApplicationEvent", "AuditChainHead", "AuditEntry", "Consent", "CreditScore", "CreditSubject",
    "DataAccessLog", "FeedbackUpload", "FinancingNeed", "IngestionRun", "Institution",
    "ListEntry", "Loan", "MarketSimulation",
    "Match", "MatchRun", "Message", "ModelVersion", "Objection", "Product", "ProductVersion", "RepairRequest",
    "RepaymentOutcome", "ScoringRun", "SimulationRun", "SourceBatch", "SourceRecord", "User",
]
