"""One probability's points and grade are the array methods' figures exactly."""
import numpy as np

from app.credit.scale import Scale


def test_one_probability_gets_the_same_points_and_grade_as_in_an_array():
    scale = Scale()
    pd_values = np.concatenate([np.random.default_rng(0).random(20_000) ** 3, [0.0, 1e-9, 0.01, 0.025, 0.999, 1.0]])
    points, grades = scale.points(pd_values), scale.grades(pd_values)
    assert [scale.point(p) for p in pd_values] == points.tolist()
    assert [scale.grade(p) for p in pd_values] == grades.tolist()
