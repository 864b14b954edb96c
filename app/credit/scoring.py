"""Scoring subjects with the active model: PD, score, grade, reasons, completeness, stored with provenance.

Two paths give the same figures: `score_frame` for many subjects at once (refresh) and
`Scorer.score_row` for one feature row (online: a firm's page, "what would improve my grade"),
which skips pandas so that it costs little more than LightGBM's own call.
"""
import math
import operator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from app.common.checksums import file_sha256
from app.common.dates import local_date
from app.entities import CreditScore, CreditSubject, ModelVersion, SourceRecord
from app.entities.base import utcnow

from .fastpredict import SingleRowContributions
from .features import BY_NAME, COMPLETENESS_SOURCES, CONTEXT_NAMES, NOT_EXPECTED, build_features
from .health import HEALTH_FEATURES, nan_as_none
from .peers import PEER_FEATURES, RowPeers, filled_features
from .reasons import RATE_MONTHS, sentence_of
from .records import records_from_db
from .registry import MODEL_FILE, predict_options
from .subject import subject_features, subject_records

MAX_REASONS = 4
CHART_ITEMS = 6
CHUNK = 5000
NAN = float("nan")
PLAIN_KEYS = {str, type(None)}  # values whose equality is their identity as a key (no NaN, no pd.NA)
READ_AGAINST_PEERS = frozenset(PEER_FEATURES + HEALTH_FEATURES)  # their reasons name the peers
# Which stored score is a subject's latest: the last computed; of rows computed at the same moment
# (one refresh chunk shares its timestamp), the later row.
NEWEST_FIRST = (CreditScore.computed_at.desc(), CreditScore.id.desc())
OLDEST_FIRST = (CreditScore.computed_at.asc(), CreditScore.id.asc())


def data_as_of(session, today=None):
    """The as-of date that scores are computed for: the day after the last month that the monthly
    department sources have delivered (never after today).

    Departments deliver a month's records weeks after it ends. Scoring "as of today" would find the
    newest months empty for everyone, which training (done on complete months before each loan)
    never saw: the recent-activity features would all read as missing.
    """
    today = today or local_date()
    latest = session.scalar(select(func.max(SourceRecord.period)).where(
        SourceRecord.source.in_(COMPLETENESS_SOURCES), SourceRecord.superseded_by_id.is_(None)))
    if latest is None:
        return today
    after = date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)
    return min(after, today)


def model_version_row(session, bundle):
    """The ModelVersion row of a loaded bundle, created on first use."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.version == bundle.version))
    if row is None:
        row = ModelVersion(version=bundle.version, path=str(bundle.folder),
                           sha256=file_sha256(Path(bundle.folder) / MODEL_FILE), metrics={})
        session.add(row)
        session.flush()
    return row


def _plain(value):
    """A feature value as stored with a reason: a float, or None when missing."""
    value = float(value)
    return None if math.isnan(value) else value


def reason_of(name):
    """The reason of a value of feature `name`: a function (value, contribution, context) → the reason as
    stored (feature, value, contribution, zh, en; for a rate the months it covers, for a reading against
    peers the peers). What depends on the feature alone (its sentences, the name of its months, whether it
    names the peers) is looked up here, once per feature of a loaded version, not once per reason."""
    missing, known = sentence_of(name)
    months_name = RATE_MONTHS.get(name)
    names_peers = name in READ_AGAINST_PEERS

    def reason(value, contribution, context):
        value = float(value)
        if value != value:  # missing (NaN)
            value = None
            chinese, english = missing
        else:
            chinese, english = known(value, context)
        told = {"feature": name, "value": value, "contribution": round(float(contribution), 4), "zh": chinese,
                "en": english}
        if months_name is not None:
            months = context.get(months_name)
            if months is not None and _plain(months) is not None:
                told["months"] = _plain(months)
        if names_peers and context.get("peer"):
            told["peer"] = list(context["peer"])
        return told
    return reason


def _peer(kind, size):
    """The (kind, size) a percentile among peers is read against, None where unknown."""
    return (_text(kind), _text(size))


def _text(value):
    missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    return None if missing else str(value)


def _contexts(frame, rows):
    """Per row, the CONTEXT_NAMES values of a feature frame (empty where it has none)."""
    if frame is None or not set(CONTEXT_NAMES) <= set(frame.columns):
        return [{}] * rows
    contexts = frame[list(CONTEXT_NAMES)].astype(float).to_dict("records")
    if {"subject_kind", "size_class"} <= set(frame.columns):
        for context, kind, size in zip(contexts, frame["subject_kind"].astype(object),
                                       frame["size_class"].astype(object), strict=True):
            context["peer"] = _peer(kind, size)
    return contexts


def _distinct(reasons):
    """The first MAX_REASONS reasons of an ordered stream that read differently: two missing features
    of one source say the same thing ("无水电气数据") and are told once."""
    chosen = []
    for reason in reasons:
        if all(reason["zh"] != other["zh"] for other in chosen):
            chosen.append(reason)
            if len(chosen) == MAX_REASONS:
                break
    return chosen


class Scorer:
    """A loaded model version ready to score: many rows at once, or one feature row without pandas.

    Reasons and the chart are chosen for all rows at once (one sort per matrix), so that one row
    scored alone gets exactly what it gets in a batch.
    """

    SINGLE_THREAD_ROWS = 128  # below this, LightGBM's thread pool costs more than it saves

    def __init__(self, bundle):
        self.bundle = bundle
        specs = bundle.metadata["features"]
        self.names = tuple(spec["name"] for spec in specs)
        self.codes = {i: {level: float(k) for k, level in enumerate(spec["categories"])}
                      for i, spec in enumerate(specs) if spec["kind"] == "cat"}
        # Only reason features are named (never protected or technical ones; all are numeric).
        self.reasonable = np.array([BY_NAME[name].reason for name in self.names])
        self.reason_indices = tuple(int(i) for i in np.flatnonzero(self.reasonable))
        self.reason_of = tuple(reason_of(name) for name in self.names)  # per feature, its reason of a value
        self.single_row = SingleRowContributions(bundle.booster, len(self.names))
        # per subject kind, the places of the features its kind does not have (never a reason when missing)
        self.not_expected = {kind: frozenset(j for j, name in enumerate(self.names) if name in names)
                             for kind, names in NOT_EXPECTED.items()}
        self.not_expected_columns = {kind: np.array(sorted(places), dtype=int)
                                     for kind, places in self.not_expected.items() if places}
        # What one row needs, looked up once per loaded version rather than once per row.
        tables = bundle.metadata.get("peers")
        self.row_peers = RowPeers(tables) if tables is not None else None
        # the row's own values by one C-level lookup (a missing name still raises KeyError); the
        # percentiles among peers and the health features, when the version has tables, follow them
        # (RowPeers.values), and one more lookup puts every value at its place in the model's order
        filled = set(filled_features(tables)) & set(self.names)
        own = [name for name in self.names if name not in filled]
        getter = operator.itemgetter(*own)
        self.row_values = getter if len(own) > 1 else (lambda row: (getter(row),))
        self.own_codes = tuple((own.index(self.names[i]), levels) for i, levels in self.codes.items())
        self.in_order = None
        if filled:
            merged = own + list(self.row_peers.names)
            self.in_order = operator.itemgetter(*(merged.index(name) for name in self.names))
        calibration = bundle.metadata["calibration"]
        self.slope, self.intercept = calibration["slope"], calibration["intercept"]
        self.has_offsets = bool(calibration.get("group_offsets"))
        self._peers = {}

    def _row_inputs(self, row):
        """The model's inputs of one feature row in its order, categories as their codes (not yet floats)."""
        values = list(self.row_values(row))
        for i, levels in self.own_codes:
            values[i] = levels.get(values[i], NAN)
        if self.in_order is not None:
            values = self.in_order(values + self.row_peers.values(row))
        return values

    def prepare_row(self, row):
        """The model's input for one feature row (name → value): a [1, features] float matrix,
        encoded exactly as ModelBundle.prepare encodes a frame."""
        values = self._row_inputs(row)
        try:
            return np.array([values], dtype=float)
        except (TypeError, ValueError):  # pd.NA or text where a number belongs: missing, as in the batch
            return np.array([[_number(v) for v in values]])

    def contributions(self, matrix):
        """Calibrated TreeSHAP contributions of prepared rows: [rows, features + 1 (bias)]."""
        if len(matrix) == 1 and self.single_row.available:
            raw = self.single_row(matrix)
        else:
            threads = {"num_threads": 1} if len(matrix) < self.SINGLE_THREAD_ROWS else predict_options()
            raw = self.bundle.booster.predict(matrix, pred_contrib=True, **threads)
        return self.bundle.calibrated_contributions(raw, matrix)

    def grade_of(self, contributions):
        """(PD, points, grade) arrays of calibrated contributions."""
        pd_values = 1 / (1 + np.exp(-contributions.sum(axis=1)))
        return pd_values, self.bundle.scale.points(pd_values), self.bundle.scale.grades(pd_values)

    def reasons(self, matrix, contributions, contexts=None):
        """Per row: the reason features that pushed its risk up most (at most MAX_REASONS; the larger
        contribution first, then the earlier feature). `contexts`: per row, its CONTEXT_NAMES values."""
        contexts = contexts or [{}] * len(matrix)
        if len(matrix) == 1:  # one row: plain Python is quicker than a sort of the matrix
            return [self._row_reasons(matrix[0].tolist(), contributions[0, :-1].tolist(), contexts[0])]
        raised = self._without_not_expected(np.where(self.reasonable, contributions[:, :-1], -np.inf), matrix,
                                            contexts, -np.inf)
        orders = np.argsort(-raised, axis=1, kind="stable")
        return [_distinct(self.reason_of[j](matrix[i, j], raised[i, j], contexts[i]) for j in order if raised[i, j] > 0)
                for i, order in enumerate(orders)]

    def _row_reasons(self, values, contributions, context):
        """reasons() of one row given as plain lists: what _distinct keeps of the same ordered stream —
        the larger contribution first, equal ones in their feature order.

        The places of the reason features are sorted by their contributions, largest first: Python's sort
        is stable with reverse=True too, so equal contributions keep their feature order (a scan for each
        sorted value's place instead cost a pass over the row per reason looked at; rows whose top
        contributions are missing values of one source or of what their kind never has look at many).
        """
        chosen, told = [], set()
        skip = self.not_expected.get((context.get("peer") or (None,))[0], ())
        reason_of = self.reason_of
        for j in sorted(self.reason_indices, key=contributions.__getitem__, reverse=True):
            value = contributions[j]
            if not value > 0:
                break
            if j in skip and values[j] != values[j]:  # missing, and its kind never has it
                continue
            reason = reason_of[j](values[j], value, context)
            if reason["zh"] not in told:
                told.add(reason["zh"])
                chosen.append(reason)
                if len(chosen) == MAX_REASONS:
                    break
        return chosen

    def _without_not_expected(self, values, matrix, contexts, fill):
        """`values` (a fresh [rows, features] array) with `fill` where a row's kind never has the feature
        (features.NOT_EXPECTED) and its value is missing."""
        kinds = [(context.get("peer") or (None,))[0] for context in contexts]
        for kind, columns in self.not_expected_columns.items():
            rows = np.flatnonzero([k == kind for k in kinds])
            if len(rows):
                block = np.ix_(rows, columns)
                values[block] = np.where(np.isnan(matrix[block]), fill, values[block])
        return values

    def charts(self, matrix, contributions, contexts=None):
        """Per row, what the SHAP chart shows: the base log-odds, the reason features that moved the
        risk most (either way) with their values, and the rest (protected, technical, and what the row's
        kind never has) as one sum; with the peers (kind, size) its bars are read against."""
        contexts = contexts or [{}] * len(matrix)
        items = contributions[:, :-1]
        size = self._without_not_expected(np.where(self.reasonable, np.abs(items), -1.0), matrix, contexts, -1.0)
        orders = np.argsort(-size, axis=1, kind="stable")[:, :CHART_ITEMS]
        charts = []
        for i, order in enumerate(orders):
            shown = [j for j in order if size[i, j] > 0]
            chart = {"base": round(float(contributions[i, -1]), 4),
                     "items": [[self.names[j], round(float(items[i, j]), 4), _plain(matrix[i, j])] for j in shown],
                     "other": round(float(items[i].sum() - items[i, shown].sum()), 4)}
            if contexts[i].get("peer"):
                chart["peer"] = list(contexts[i]["peer"])
            charts.append(chart)
        return charts

    def _row_contributions(self, row):
        """(calibrated contributions [1, features + 1], the prepared row as a list of floats) of one feature
        row. LightGBM's single-row call reads the inputs straight from its buffer (np.array's conversion,
        without a matrix made first); the calibration is the arithmetic of
        ModelBundle.calibrated_contributions: times the slope, then intercept plus the group's offset onto the bias."""
        if not self.single_row.available:
            matrix = self.prepare_row(row)
            return self.contributions(matrix), matrix[0].tolist()
        values = self._row_inputs(row)
        try:
            contributions, floats = self.single_row.of_values(values, self.slope)
        except (TypeError, ValueError):  # pd.NA or text where a number belongs: missing, as prepare_row reads it
            contributions, floats = self.single_row.of_values([_number(v) for v in values], self.slope)
        offset = float(self.bundle.group_offsets(np.array([floats]))[0]) if self.has_offsets else 0.0
        contributions[0, -1] += self.intercept + offset
        return contributions, floats

    def _peer_of(self, kind, size):
        """_peer, kept per (kind, size) given as text or None (a few dozen pairs; other values are worked out).
        NaN (a frame's empty text: every household's size class) is the None _peer reads it as."""
        kind, size = nan_as_none(kind), nan_as_none(size)
        peer = self._peers.get((kind, size)) if type(kind) in PLAIN_KEYS and type(size) in PLAIN_KEYS else None
        if peer is None:
            peer = _peer(kind, size)
            if type(kind) in PLAIN_KEYS and type(size) in PLAIN_KEYS and len(self._peers) < 1000:
                self._peers[(kind, size)] = peer
        return peer

    def score_row(self, row, with_chart=False):
        """PD, score, grade and reasons of one feature row (optionally the chart too).

        The same figures as score_features gives the row in a batch (tests/credit/test_subject.py), with
        no pandas and no per-row lookups: this is the page's and the API's path.
        """
        contributions, values = self._row_contributions(row)
        calibrated = contributions[0]
        # as grade_of, on one number (numpy's sum of one row — what ndarray.sum calls, without its Python
        # wrapper —: the same pairwise sum as along axis 1 of many; numpy's exp, then the same IEEE
        # arithmetic on Python floats)
        pd_value = 1 / (1 + float(np.exp(-np.add.reduce(calibrated))))
        scale = self.bundle.scale
        context = {name: row.get(name) for name in CONTEXT_NAMES}
        context["peer"] = self._peer_of(row.get("subject_kind"), row.get("size_class"))
        result = {"pd": pd_value, "score": scale.point(pd_value), "grade": scale.grade(pd_value),
                  "reasons": self._row_reasons(values, calibrated.tolist(), context)}
        if with_chart:
            result["contributions"] = self.charts(np.array([values]), contributions, [context])[0]
        return result

    def score_rows(self, rows):
        """(PD, points, grade) arrays of several feature rows, for comparing changed rows."""
        matrix = np.vstack([self.prepare_row(row) for row in rows])
        return self.grade_of(self.contributions(matrix))


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def score_frame(bundle, frames, subjects, as_of, towns):
    """PD, score, grade, reasons, chart and completeness for the subjects (DataFrame: id, code)."""
    targets = pd.DataFrame({"subject_code": subjects["code"].to_numpy(), "as_of": pd.Timestamp(as_of)})
    features = build_features(frames, targets, towns, context=True)
    present = {name: set(frames[name]["subject_code"]) for name in COMPLETENESS_SOURCES if name in frames}
    return score_features(Scorer(bundle), features, subjects, present)


def score_features(scorer, features, subjects, present):
    """The scoring part of score_frame: built features → rows to store.

    `present` maps each completeness source to the codes of the subjects that have its records.
    """
    matrix = scorer.bundle.prepare(features)
    contributions = scorer.contributions(matrix)
    pd_values, points, grades = scorer.grade_of(contributions)
    contexts = _contexts(features, len(matrix))
    reasons = scorer.reasons(matrix, contributions, contexts)
    charts = scorer.charts(matrix, contributions, contexts)
    ids = subjects["id"].to_numpy()
    return [{"subject_id": int(ids[i]), "pd": float(pd_values[i]), "score": int(points[i]), "grade": str(grades[i]),
             "reasons": reasons[i], "contributions": charts[i],
             "completeness": {name: code in present.get(name, ()) for name in COMPLETENESS_SOURCES}}
            for i, code in enumerate(subjects["code"].to_numpy())]


def subject_row(session, subject_id, as_of, towns, loan=None, penalties=None):
    """(feature row, completeness) of one subject from its stored records (the lean path); `penalties`
    as in records_from_db."""
    records = subject_records(session, subject_id, penalties)
    completeness = {name: bool(records.get(name)) for name in COMPLETENESS_SOURCES}
    return subject_features(records, as_of, towns, loan, context=True), completeness


def score_subject(session, scorer, subject_id, as_of, towns, penalties=None):
    """One subject scored from its stored records, as refresh_scores would score it (not stored)."""
    row, completeness = subject_row(session, subject_id, as_of, towns, penalties=penalties)
    return {"subject_id": subject_id, **scorer.score_row(row, with_chart=True), "completeness": completeness}


def refresh_scores(session, bundle, towns, subject_ids=None, as_of=None, on_chunk=None, penalties=None):
    """Score the given subjects (all when None) and stage one CreditScore row each; returns the count.

    `penalties` (a penalties.PublicityRules): only penalties in force on its day are used, so that a
    repaired or expired penalty stops counting from that day (信用修复管理办法), whatever `as_of`.

    `on_chunk(scored, total)` is called after each chunk is staged (a background run reports
    progress and commits there).
    """
    as_of = as_of or data_as_of(session)
    version = model_version_row(session, bundle)
    query = select(CreditSubject.id, CreditSubject.uscc, CreditSubject.household_id).order_by(CreditSubject.id)
    if subject_ids is not None:
        query = query.where(CreditSubject.id.in_(list(subject_ids)))
    subjects = pd.DataFrame(session.execute(query).all(), columns=["id", "uscc", "household"])
    subjects["code"] = subjects["uscc"].fillna(subjects["household"])
    scored = 0
    for start in range(0, len(subjects), CHUNK):
        chunk = subjects.iloc[start:start + CHUNK]
        if subject_ids is None:  # every subject: a chunk is all ids in its range (a cheaper query)
            frames = records_from_db(session, id_range=(int(chunk["id"].min()), int(chunk["id"].max())),
                                     penalties=penalties)
        else:
            frames = records_from_db(session, chunk["id"].tolist(), penalties=penalties)
        computed_at = utcnow()
        rows = [{**row, "model_version_id": version.id, "data_as_of": as_of, "computed_at": computed_at}
                for row in score_frame(bundle, frames, chunk, as_of, towns)]
        session.execute(CreditScore.__table__.insert(), rows)
        scored += len(rows)
        if on_chunk is not None:
            on_chunk(scored, len(subjects))
    return scored


def latest_score(session, subject_id):
    """The subject's latest score (see NEWEST_FIRST), or None when it has none."""
    return session.scalars(select(CreditScore).where(CreditScore.subject_id == subject_id)
                           .order_by(*NEWEST_FIRST)).first()


def _one_per_subject(order, conditions):
    number = func.row_number().over(partition_by=CreditScore.subject_id, order_by=order)
    ranked = select(CreditScore.id, CreditScore.subject_id, number.label("n")).where(*conditions).subquery()
    return select(ranked.c.id, ranked.c.subject_id).where(ranked.c.n == 1).subquery()


def latest_per_subject(*conditions):
    """A subquery (id, subject_id) of each subject's latest score among the rows meeting `conditions`.

    Join CreditScore on `id` to read them; a subject without such a row has no line.
    """
    return _one_per_subject(NEWEST_FIRST, conditions)


def first_per_subject(*conditions):
    """Like `latest_per_subject`, with each subject's earliest row instead (ties go to the lower id)."""
    return _one_per_subject(OLDEST_FIRST, conditions)


def score_history(session, subject_id, limit=24):
    """The subject's scores over time, oldest first (at most the last `limit`)."""
    rows = session.scalars(select(CreditScore).where(CreditScore.subject_id == subject_id)
                           .order_by(*NEWEST_FIRST).limit(limit)).all()
    return list(reversed(rows))
