"""Training examples: each past loan's features as of its disbursement, labelled by its outcome."""
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.common.checksums import file_sha256
from app.credit import cluster, snapshot
from app.credit.features import build_features
from app.credit.records import read_district, records_from_db
from app.ingest.runner import export_files

from . import platform_labels

# Loans still running ("current") have no outcome yet and are left out. A loan is bad when it
# defaulted or was ever 30 or more days past due (the usual "ever 30+" bad definition).
LABELLED = ("defaulted", "repaid", "overdue")
BAD_DAYS_PAST_DUE = 30
# The sources of labels, and the columns a labelled loan has whichever it came from.
DEPARTMENT, PLATFORM = "department", "platform"
LOAN_COLUMNS = ["source", "institution", "loan_no", "subject_code", "disbursed_on", "outcome", "amount",
                "term_months", "lender_kind"]


def labels(loans):
    """1 for a bad loan, 0 for a good one."""
    bad = (loans["outcome"] == "defaulted") | (loans["max_days_past_due"] >= BAD_DAYS_PAST_DUE)
    return bad.to_numpy(dtype=int)


SPLIT_SHARES = (0.6, 0.2, 0.2)  # train, validation (early stopping, calibration), holdout: by time
MIN_BADS = 2


@dataclass
class LoanExamples:
    """Features, labels and descriptors of labelled loans, oldest first."""

    X: pd.DataFrame
    y: np.ndarray
    loans: pd.DataFrame  # institution, loan_no, subject_code, disbursed_on, outcome, source
    fingerprint: str
    label_counts: dict | None = None  # per source: good, bad (platform: censored); see count_labels

    def split_dates(self):
        """The dates that cut train | validation | holdout (out of time).

        By shares of loans; when a part would hold fewer than MIN_BADS bad loans (a small district),
        by shares of the bad loans instead, so that every part can be learned from and measured.
        """
        if int(self.y.sum()) < 3 * MIN_BADS:
            raise ValueError(f"too few bad loans to train and evaluate ({int(self.y.sum())}; need {3 * MIN_BADS})")
        cuts = self._cuts(self.loans["disbursed_on"])
        if min(int(self.y[part].sum()) for part in self.parts(cuts)) < MIN_BADS:
            cuts = self._cuts(self.loans["disbursed_on"][self.y == 1])
        return cuts

    @staticmethod
    def _cuts(dates):
        return (dates.quantile(SPLIT_SHARES[0], interpolation="nearest"),
                dates.quantile(SPLIT_SHARES[0] + SPLIT_SHARES[1], interpolation="nearest"))

    def parts(self, cuts):
        """Boolean masks of train, validation and holdout for the given cut dates."""
        dates = self.loans["disbursed_on"].to_numpy()
        first, second = np.datetime64(cuts[0]), np.datetime64(cuts[1])
        return dates < first, (dates >= first) & (dates < second), dates >= second


def department_loans(frames):
    """The department's labelled loans (贷后反馈), with the loan as applied for and `bad` (0/1)."""
    loans = frames.get("loan_feedback")
    if loans is None:
        return pd.DataFrame(columns=[*LOAN_COLUMNS, "bad"])
    # Only loans that matured before the export: their whole outcome is known. Keeping early
    # defaults of running loans but not their running peers would inflate the newest default rates.
    exported = loans["disbursed_on"].max()
    loans = loans[loans["outcome"].isin(LABELLED) & (loans["maturity_on"] <= exported)]
    # The loan as applied for: term from its dates, its amount and the kind of lender.
    term = ((loans["maturity_on"].dt.year - loans["disbursed_on"].dt.year) * 12
            + loans["maturity_on"].dt.month - loans["disbursed_on"].dt.month)
    return pd.DataFrame({
        "source": DEPARTMENT, "institution": loans["institution"], "loan_no": loans["loan_no"],
        "subject_code": loans["subject_code"], "disbursed_on": loans["disbursed_on"], "outcome": loans["outcome"],
        "amount": loans["principal"], "term_months": term, "lender_kind": loans["institution_kind"],
        "bad": labels(loans)})


def examples_from_loans(frames, loans, towns, fingerprint, label_counts=None, features=None):
    """Labelled loans (`LOAN_COLUMNS` and `bad`) with their features as of disbursement, oldest first.

    `features(targets, loans)`, when given, builds the feature frame instead of build_features on
    `frames` (the Dask path: the same module, per partition of subjects).
    """
    loans = loans.sort_values(["disbursed_on", "institution", "loan_no"]).reset_index(drop=True)
    targets = pd.DataFrame({"subject_code": loans["subject_code"], "as_of": loans["disbursed_on"],
                            "amount": loans["amount"], "term_months": loans["term_months"],
                            "lender_kind": loans["lender_kind"]})
    X = build_features(frames, targets, towns) if features is None else features(targets, loans)
    keep = ["institution", "loan_no", "subject_code", "disbursed_on", "outcome", "source"]
    return LoanExamples(X, loans["bad"].to_numpy(dtype=int), loans[keep], fingerprint, label_counts)


def examples_from_frames(frames, towns, fingerprint):
    """Labelled loans of the department's exports with their features as of disbursement."""
    loans = department_loans(frames)
    return examples_from_loans(frames, loans, towns, fingerprint, count_labels(loans))


def count_labels(department, platform=None, duplicates=0):
    """How many labels came from each source: good and bad (and the platform's censored loans)."""
    counts = {DEPARTMENT: {"good": int((department["bad"] == 0).sum()), "bad": int(department["bad"].sum())}}
    if platform is not None:
        counts[PLATFORM] = {state: int((platform["outcome"] == state).sum())
                            for state in (platform_labels.GOOD, platform_labels.BAD, platform_labels.CENSORED)}
        counts["duplicates_dropped"] = int(duplicates)
    return counts


def folder_fingerprint(folder):
    """sha256 over the export files' names and contents (the training data's identity)."""
    digest = hashlib.sha256()
    for path in sorted(export_files(folder)):
        digest.update(path.name.encode())
        digest.update(bytes.fromhex(file_sha256(path)))
    return digest.hexdigest()


def examples_from_folder(folder, towns):
    """Labelled loans from a district's export files (read and validated as ingestion does)."""
    return examples_from_frames(read_district(Path(folder), towns), towns, folder_fingerprint(folder))


def examples_from_snapshot(folder, towns, engine="pandas", partition_size=cluster.SUBJECTS_PER_PARTITION):
    """Labelled loans of a Parquet snapshot (`flask data snapshot`), fingerprinted by its manifest.

    `engine` "pandas" reads every record into this process; "dask" builds the features per
    partition of subjects on the current Dask client (only the loans and their features come back).
    """
    loan_records = snapshot.read_source(folder, "loan_feedback")
    loans = department_loans({"loan_feedback": loan_records})
    loans = loans.assign(subject_id=loan_records["subject_id"].reindex(loans.index).to_numpy())
    counts = count_labels(loans)
    if engine == "pandas":
        return examples_from_loans(snapshot.read_records(folder), loans, towns, snapshot.fingerprint(folder), counts)

    def features(targets, ordered):
        return cluster.compute_features(folder, targets, ordered["subject_id"], towns, size=partition_size)

    return examples_from_loans({}, loans, towns, snapshot.fingerprint(folder), counts, features)


def examples_from_db(session, towns, as_of):
    """Labelled loans from the database: the department's loan feedback among the stored records and
    the platform's own loans, labelled on their reports up to `as_of`.

    A loan the platform recorded and a lender also sent in a 贷后反馈 file (same institution name and
    loan number as the platform loan's reference) counts once, as the platform's: its monthly reports
    say what was known when, the file only how the loan stood at export.
    """
    frames = records_from_db(session)
    platform = platform_labels.platform_loans(session, as_of)
    department = department_loans(frames)
    recorded = set(zip(platform["institution"], platform["loan_no"], strict=True))
    twice = np.array([key in recorded for key in zip(department["institution"], department["loan_no"],
                                                      strict=True)], dtype=bool)
    department = department[~twice]
    labelled = platform[platform["outcome"] != platform_labels.CENSORED]
    labelled = labelled.assign(bad=(labelled["outcome"] == platform_labels.BAD).astype(int))
    counts = count_labels(department, platform, twice.sum())
    identity = snapshot.database_fingerprint(session)  # the loaded batches, not only how many rows
    if len(platform):
        identity = [identity, sorted(zip(labelled["loan_id"].tolist(), labelled["outcome"].tolist(), strict=True))]
    digest = hashlib.sha256(str(identity).encode()).hexdigest()
    parts = [part for part in (department, labelled.drop(columns="loan_id")) if len(part)]
    loans = pd.concat(parts, ignore_index=True) if parts else department
    return examples_from_loans(frames, loans, towns, f"db:{digest}", counts)


def truth_for(folder, loans):
    """The oracle PD of each loan from `_truth/loans.csv`, or None when the folder has no truth."""
    path = Path(folder) / "_truth" / "loans.csv"
    if not path.exists():
        return None
    truth = pd.read_csv(path, dtype={"loan_no": str, "subject_code": str})
    merged = loans.merge(truth[["institution", "loan_no", "true_pd"]], on=["institution", "loan_no"], how="left")
    return merged["true_pd"].to_numpy(dtype=float)
