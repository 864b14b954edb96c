"""The platform's clock: the wall clock, or the moment a replay sets, per thread."""
import threading
from datetime import UTC, datetime, timedelta

from app.common import clock
from app.common.dates import local_date
from app.entities.base import utcnow

MOMENT = datetime(2025, 3, 3, 16, 30)  # 00:30 on 4 March in Beijing


def test_it_reads_the_wall_clock_unless_set():
    assert abs(clock.utcnow() - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=5)


def test_a_frozen_moment_is_what_every_stamp_reads_and_is_undone_after(app):
    with clock.frozen(MOMENT):
        assert clock.utcnow() == utcnow() == MOMENT
        assert local_date().isoformat() == "2025-03-04"  # the deployment's day, in Beijing
        with clock.frozen(MOMENT + timedelta(days=1)):
            assert utcnow() == MOMENT + timedelta(days=1)
        assert utcnow() == MOMENT
    assert utcnow() != MOMENT


def test_a_frozen_moment_does_not_move_another_threads_clock():
    seen = []
    with clock.frozen(MOMENT):
        worker = threading.Thread(target=lambda: seen.append(clock.utcnow()))
        worker.start()
        worker.join()
    assert seen and seen[0] != MOMENT
