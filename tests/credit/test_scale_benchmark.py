"""The province-scale benchmark's run control: worker counts and stage order, a deadline that stops a
stage with everything it started, figures saved as each stage ends."""
import argparse
import json
import sys
import time

import psutil
import pytest

from benchmarks import scale


def test_worker_counts_and_stages_are_taken_in_the_order_given():
    assert scale.worker_counts("2,1") == [2, 1]
    assert scale.stage_order("training,refresh,features") == ["training", "refresh", "features"]
    for bad in ("0,1", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            scale.worker_counts(bad)
    for bad in ("refresh,training", "refresh", "features,features", "snapshot"):
        with pytest.raises(argparse.ArgumentTypeError):
            scale.stage_order(bad)


def test_a_stage_still_running_at_the_deadline_is_stopped_with_what_it_started(tmp_path):
    # A stage that starts a child of its own (as a LocalCluster starts its workers) and never ends.
    script = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; "
              "time.sleep(300)']); print('working', child.pid, file=sys.stderr, flush=True); time.sleep(300)")
    started = time.perf_counter()
    with pytest.raises(scale.Stopped) as stopped:
        scale.run_measured([sys.executable, "-c", script], log=tmp_path / "stage.log", deadline=time.time() + 3)
    assert time.perf_counter() - started < 60
    assert stopped.value.seconds >= 3 and stopped.value.peak_mb > 0 and "working" in stopped.value.log_tail
    grandchild = int((tmp_path / "stage.log").read_text(encoding="utf-8").split()[1])
    try:
        gone = psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        gone = True
    assert gone


def test_the_figures_so_far_are_saved_with_the_pipeline_peak(tmp_path):
    run = scale.Run(tmp_path, tmp_path / "results.json")
    run.figures.update({"snapshot": {"seconds": 5.0, "peak_mb": 700.0},
                        "stages": {"dask2": {"training": {"seconds": 9.0, "peak_mb": 1500.0}}}})
    run.save()
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert saved["pipeline_peak_mb"] == 1500.0 and saved["stages"]["dask2"]["training"]["seconds"] == 9.0
    assert not (tmp_path / "results.json.tmp").exists()


def test_the_deadline_is_the_next_such_time_of_day():
    import datetime as dt

    now = dt.datetime(2026, 12, 5, 19, 40, tzinfo=dt.UTC)
    assert scale.deadline_at("21:15", now) == dt.datetime(2026, 12, 5, 21, 15, tzinfo=dt.UTC).timestamp()
    assert scale.deadline_at("01:00", now) == dt.datetime(2026, 12, 6, 1, 0, tzinfo=dt.UTC).timestamp()
