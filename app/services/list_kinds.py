"""The configured red and black lists (LIST_KINDS) and the measures in force for each subject: what
matching reads (app/services/lists.py writes the entries)."""
from flask import current_app
from sqlalchemy import or_, select

from app.common.language import english
from app.common.vocab import LIST_MEASURES, LIST_TYPES
from app.entities import ListEntry

ID_BATCH = 5000


def list_kinds():
    """The configured lists by key; a list of an unknown type or measure fails with the known ones."""
    kinds = current_app.config["LIST_KINDS"]
    for key, kind in kinds.items():
        unknown = set(kind["measures"]) - set(LIST_MEASURES)
        if kind["type"] not in LIST_TYPES or unknown:
            raise LookupError(f"list {key!r}: type must be one of {', '.join(LIST_TYPES)} and measures of "
                              f"{', '.join(LIST_MEASURES)} (got {kind['type']!r}, {sorted(unknown)})")
    return kinds


def list_words(list_kind, part, stored=None):
    """A configured list's name, basis or exit conditions (`part`) in the reader's language: in English the
    list's `<part>_en` from LIST_KINDS; otherwise the text an entry stored when it was listed, else the list's."""
    kind = current_app.config["LIST_KINDS"].get(list_kind, {})
    if english() and kind.get(f"{part}_en"):
        return kind[f"{part}_en"]
    return stored if stored is not None else kind.get(part, "")


def measures_of(list_kind):
    """The measures of a configured list; an entry of a list no longer configured fails loudly."""
    kinds = list_kinds()
    if list_kind not in kinds:
        raise LookupError(f"unknown list {list_kind!r}; configured: {', '.join(kinds)}")
    return set(kinds[list_kind]["measures"])


def in_force(today):
    """The condition of entries in force on `today`."""
    return (ListEntry.status == "active", ListEntry.listed_on <= today,
            or_(ListEntry.ends_on.is_(None), ListEntry.ends_on > today),
            or_(ListEntry.removed_on.is_(None), ListEntry.removed_on > today))


def active_measures(session, subject_ids, today):
    """subject id → the measures of the lists it is on today."""
    result = {}
    ids = sorted(set(subject_ids))
    for start in range(0, len(ids), ID_BATCH):
        query = select(ListEntry.subject_id, ListEntry.list_kind).where(
            ListEntry.subject_id.in_(ids[start:start + ID_BATCH]), *in_force(today))
        for sid, kind in session.execute(query):
            result.setdefault(sid, set()).update(measures_of(kind))
    return result
