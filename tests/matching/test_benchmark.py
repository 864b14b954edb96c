"""The matching benchmark's app path runs `flask matches refresh` on the district it writes."""
import numpy as np

from benchmarks._match_district import app_path_figures
from benchmarks.matching import synthetic_terms


def test_the_app_path_is_timed_on_a_small_district():
    rng = np.random.default_rng(1)
    figures = app_path_figures(rng, 40, synthetic_terms(rng, 8))
    assert (figures["app_path_needs"], figures["app_path_products"], figures["app_path_pairs"]) == (40, 8, 320)
    assert 0 < figures["app_path_matches_stored"] <= 320
    assert figures["app_path_rematch_s"] > 0 and figures["app_path_need_page_p50_ms"] > 0
