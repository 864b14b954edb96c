"""LightGBM's threads per process: production's SCORING_THREADS reaches every batch prediction."""
import numpy as np
import pytest

from app.credit import registry
from app.credit.features import MODEL_INPUTS
from app.credit.scoring import Scorer

from ..conftest import make_app


@pytest.fixture
def bundle(trained_model):
    """The trained version, its booster's predict calls recorded."""
    result, _ = trained_model
    loaded = registry.load_version(result["path"], MODEL_INPUTS)
    calls, predict = [], loaded.booster.predict

    def recorded(*args, **kwargs):
        calls.append(kwargs)
        return predict(*args, **kwargs)

    loaded.booster.predict = recorded
    loaded.calls = calls
    yield loaded
    registry.set_predict_threads(None)


@pytest.mark.parametrize(("setting", "threads"), [("1", 1), ("3", 3), (None, None)])
def test_the_app_sets_the_threads_of_every_batch_prediction(database_url, bundle, setting, threads):
    make_app(database_url, SCORING_THREADS=setting)
    rows = np.full((Scorer.SINGLE_THREAD_ROWS * 2, len(bundle.metadata["features"])), np.nan)
    Scorer(bundle).contributions(rows)
    assert [call.get("num_threads") for call in bundle.calls] == [threads]


def test_a_few_rows_are_predicted_on_one_thread_whatever_the_setting(database_url, bundle):
    make_app(database_url, SCORING_THREADS="4")
    rows = np.full((3, len(bundle.metadata["features"])), np.nan)
    Scorer(bundle).contributions(rows)
    assert bundle.calls[-1]["num_threads"] == 1
