"""One probability's points and grade are the array methods' figures exactly."""
import numpy as np

from app.credit.scale import Scale


def test_one_probability_gets_the_same_points_and_grade_as_in_an_array():
    scale = Scale()
    pd_values = np.concatenate([np.random.default_rng(0).random(20_000) ** 3, [0.0, 1e-9, 0.01, 0.025, 0.999, 1.0]])
    points, grades = scale.points(pd_values), scale.grades(pd_values)
    assert [scale.point(p) for p in pd_values] == points.tolist()
    assert [scale.grade(p) for p in pd_values] == grades.tolist()


def test_a_scale_of_its_own_keeps_its_own_offset_and_factor():
    """Scale.point keeps (offset, factor) per scale: another scale's points are its own."""
    pd_values = np.random.default_rng(1).random(2_000)
    for scale in (Scale(), Scale(base_points=500.0, base_odds=20.0, pdo=40.0), Scale()):
        assert [scale.point(p) for p in pd_values] == scale.points(pd_values).tolist()
    assert (Scale(pdo=40.0).point(0.2), Scale().point(0.2)) == (454, 527)
