"""The public FAQ (/faq): lenders' questions with the answers their firms allowed to publish, searchable
in Chinese. Words are cut with jieba (search mode, so 应收账款 is found by 账款 too) when an answer is
published, kept with it, and a search ranks the entries by how many of its words they hold."""
import logging
import unicodedata

import jieba
from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.common.errors import InvalidInput
from app.entities import FaqEntry

jieba.setLogLevel(logging.WARNING)
MAX_QUERY = 50
MAX_RESULTS = 50
# Entries a search reads before ranking them (the newest first).
CANDIDATES = 1000


def words_of(text):
    """The distinct search words of a text, lower-cased, punctuation and spaces dropped (jieba search mode)."""
    found = []
    for word in jieba.cut_for_search(unicodedata.normalize("NFKC", text or "").lower()):
        word = word.strip()
        if word and any(unicodedata.category(ch)[0] in "LN" for ch in word) and word not in found:
            found.append(word)
    return found


def publish(session, question, answer):
    """Stage the FAQ entry of `question` (a lender's message) answered by `answer` (the firm's)."""
    if question is None or question.from_firm or not answer.from_firm:
        raise InvalidInput(_("只能公开企业对机构提问的回答。"), "publish")
    terms = " ".join(words_of(question.body + "\n" + answer.body))
    entry = FaqEntry(question=question, answer=answer, terms=f" {terms} ")
    session.add(entry)
    return entry


def _escaped(word):
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session, query=None):
    """The published entries, newest first; with a query, those holding any of its words, the ones
    holding most of them first. InvalidInput for a query longer than MAX_QUERY characters."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise InvalidInput(_("搜索内容不能超过 %(n)d 个字。", n=MAX_QUERY), "q")
    statement = select(FaqEntry).order_by(FaqEntry.published_at.desc(), FaqEntry.id.desc())
    words = words_of(query)
    if not words:
        return session.scalars(statement.limit(MAX_RESULTS)).all()
    matches = [FaqEntry.terms.like(f"% {_escaped(word)} %", escape="\\") for word in words]
    found = session.scalars(statement.where(or_(*matches)).limit(CANDIDATES)).all()
    ranked = sorted(found, key=lambda entry: -sum(f" {word} " in entry.terms for word in words))
    return ranked[:MAX_RESULTS]
