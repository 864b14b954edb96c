"""Per-source health for the data admin: last batch, freshness, row counts, reject rate, reasons."""
from collections import Counter

from sqlalchemy import func, select

from app.entities import SourceBatch, SourceRecord
from app.entities.base import utcnow

from .sources import SOURCES
from .validation import REASONS

# A batch keeps its reject reasons as their Chinese words: (Chinese, English) of each.
REASON_WORDS = {words[0]: words for words in REASONS.values()}


def source_health(session, stale_after_days):
    """One row per declared source, in the registry's order; `top_reasons`: ((Chinese, English), rows)."""
    batches = session.scalars(select(SourceBatch).where(SourceBatch.status == "loaded")
                              .order_by(SourceBatch.id)).all()
    records = dict(session.execute(
        select(SourceRecord.source, func.count(SourceRecord.id))
        .where(SourceRecord.superseded_by_id.is_(None)).group_by(SourceRecord.source)).all())
    now = utcnow()
    rows = []
    for source in SOURCES:
        own = [b for b in batches if b.source == source.name]
        read = sum(b.rows_read for b in own)
        reasons = Counter()
        for batch in own:
            reasons.update(batch.reject_reasons or {})
        last = own[-1] if own else None
        age = (now - last.received_at).days if last else None
        rows.append({
            "source": source, "batches": len(own), "last": last, "age_days": age,
            "stale": age is None or age > stale_after_days, "records": records.get(source.name, 0),
            "rows_read": read, "reject_rate": (sum(b.rows_rejected for b in own) / read) if read else None,
            "top_reasons": [(REASON_WORDS.get(text, (text, text)), n) for text, n in reasons.most_common(3)],
        })
    return rows
