"""Boosted trees as arrays: the same scores as scikit-learn's own model, saved and read back."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from drumgen.exceptions import ParameterError
from drumgen.trees import FIELDS, TreeEnsemble, fit_trees


def data(rng: np.random.Generator, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, 6))
    x[rng.random(x.shape) < 0.03] = np.nan  # missing values take the side the trees learned
    filled = np.nan_to_num(x)
    y = (filled[:, 0] + filled[:, 1] * filled[:, 2] > 0).astype(np.int64) + (filled[:, 3] > 1)
    return x, y


@pytest.mark.parametrize("labels", ["three classes", "two classes", "shifted labels"])
def test_scores_are_scikit_learns_decision_function(rng: np.random.Generator, labels: str) -> None:
    x, y = data(rng)
    y = {"three classes": y, "two classes": (y > 0).astype(np.int64), "shifted labels": y + 5}[labels]
    trees = fit_trees(x, y, max_iter=30)
    oracle = HistGradientBoostingClassifier(
        max_iter=30, learning_rate=0.05, l2_regularization=1.0, early_stopping=False, random_state=0
    ).fit(x, y)
    test_x, _ = data(np.random.default_rng(99), n=200)
    scores = trees.scores(test_x)
    expected = oracle.decision_function(test_x)
    if len(trees.classes) == 2:
        np.testing.assert_array_equal(scores[:, 0], 0.0)
        np.testing.assert_allclose(scores[:, 1], expected, atol=1e-9)
    else:
        np.testing.assert_allclose(scores, expected, atol=1e-9)
    np.testing.assert_array_equal(trees.predict(test_x), oracle.predict(test_x))
    assert set(trees.classes.tolist()) == set(np.unique(y).tolist())
    assert len(trees.roots) == 30 * (1 if len(trees.classes) == 2 else len(trees.classes))


def test_trees_learn_a_threshold_and_survive_the_round_trip(rng: np.random.Generator) -> None:
    x = rng.uniform(0, 10, size=(200, 3))
    y = (x[:, 1] > 5).astype(np.int64)  # only the second feature matters
    trees = fit_trees(x, y)
    assert (trees.predict(x) == y).mean() > 0.97
    assert set(np.unique(trees.feature[trees.feature >= 0]).tolist()) <= {0, 1, 2}
    assert (trees.feature == 1).any()
    arrays = trees.arrays("kick_")
    assert set(arrays) == {f"kick_{name}" for name in FIELDS}
    again = TreeEnsemble.from_arrays(arrays, "kick_")
    np.testing.assert_array_equal(again.scores(x), trees.scores(x))
    with pytest.raises(ParameterError, match="missing"):
        TreeEnsemble.from_arrays({"kick_feature": trees.feature}, "kick_")


def test_fit_trees_refuses_one_class_and_mismatched_labels() -> None:
    with pytest.raises(ParameterError, match="two classes"):
        fit_trees(np.zeros((10, 2)), np.zeros(10, dtype=np.int64))
    with pytest.raises(ParameterError, match="shape"):
        fit_trees(np.zeros((10, 2)), np.zeros(9, dtype=np.int64))
