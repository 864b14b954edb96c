"""Training examples: each past loan's features as of its disbursement, labelled by its outcome."""
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.common.checksums import file_sha256
from app.credit.features import build_features
from app.credit.records import read_district, records_from_db
from app.ingest.runner import export_files

# Loans still running ("current") have no outcome yet and are left out. A loan is bad when it
# defaulted or was ever 30 or more days past due (the usual "ever 30+" bad definition).
LABELLED = ("defaulted", "repaid", "overdue")
BAD_DAYS_PAST_DUE = 30


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
    loans: pd.DataFrame  # institution, loan_no, subject_code, disbursed_on, outcome
    fingerprint: str

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


def examples_from_frames(frames, towns, fingerprint):
    """Labelled loans with their features as of disbursement."""
    loans = frames["loan_feedback"]
    # Only loans that matured before the export: their whole outcome is known. Keeping early
    # defaults of running loans but not their running peers would inflate the newest default rates.
    exported = loans["disbursed_on"].max()
    known = loans["outcome"].isin(LABELLED) & (loans["maturity_on"] <= exported)
    loans = loans[known].sort_values(["disbursed_on", "institution", "loan_no"])
    loans = loans.reset_index(drop=True)
    # The loan as applied for: term from its dates, its amount and the kind of lender.
    term = ((loans["maturity_on"].dt.year - loans["disbursed_on"].dt.year) * 12
            + loans["maturity_on"].dt.month - loans["disbursed_on"].dt.month)
    targets = pd.DataFrame({"subject_code": loans["subject_code"], "as_of": loans["disbursed_on"],
                            "amount": loans["principal"], "term_months": term,
                            "lender_kind": loans["institution_kind"]})
    X = build_features(frames, targets, towns)
    y = labels(loans)
    keep = ["institution", "loan_no", "subject_code", "disbursed_on", "outcome"]
    return LoanExamples(X, y, loans[keep], fingerprint)


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


def examples_from_db(session, towns):
    """Labelled loans from the platform's stored department records."""
    frames = records_from_db(session)
    digest = hashlib.sha256(str(sorted((k, len(v)) for k, v in frames.items())).encode()).hexdigest()
    return examples_from_frames(frames, towns, f"db:{digest}")


def truth_for(folder, loans):
    """The oracle PD of each loan from `_truth/loans.csv`, or None when the folder has no truth."""
    path = Path(folder) / "_truth" / "loans.csv"
    if not path.exists():
        return None
    truth = pd.read_csv(path, dtype={"loan_no": str, "subject_code": str})
    merged = loans.merge(truth[["institution", "loan_no", "true_pd"]], on=["institution", "loan_no"], how="left")
    return merged["true_pd"].to_numpy(dtype=float)
