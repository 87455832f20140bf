"""Gradient-boosted decision trees kept as plain arrays: fitted with scikit-learn, predicted in NumPy.

The drummer model chooses each song's kick and snare GM notes with them
(:meth:`drumgen.drummer.DrummerModel.kit_sounds`). Fitting uses scikit-learn's
``HistGradientBoostingClassifier`` (imported only by :func:`fit_trees`); the fitted trees are then
copied into a :class:`TreeEnsemble` of flat arrays, which is what the model saves (``.npz``, no
pickles) and what generation evaluates, so a saved model does not depend on scikit-learn's
private classes at run time.

Used by ``drumgen train drummer`` (through :func:`drumgen.drummer.fit_drummer`); no notebook calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgen.exceptions import ParameterError

FIELDS = (
    "feature",
    "threshold",
    "left",
    "right",
    "value",
    "missing_left",
    "roots",
    "tree_column",
    "baseline",
    "classes",
)
"""The arrays of a :class:`TreeEnsemble`, in the order :meth:`TreeEnsemble.arrays` names them."""


@dataclass(frozen=True)
class TreeEnsemble:
    """Boosted trees whose leaf values add up to one score per class.

    Every tree's nodes live in the same flat arrays; a node whose ``feature`` is -1 is a leaf.

    Attributes
    ----------
    feature : np.ndarray [shape=(n_nodes,), int64]
        The feature an inner node splits on; -1 at leaves.
    threshold : np.ndarray [shape=(n_nodes,), float64]
        ``x[feature] <= threshold`` goes to ``left``, else to ``right``.
    left, right : np.ndarray [shape=(n_nodes,), int64]
        Children (indices into the node arrays); -1 at leaves.
    value : np.ndarray [shape=(n_nodes,), float64]
        What a leaf adds to its tree's score column.
    missing_left : np.ndarray [shape=(n_nodes,), bool]
        Where a NaN feature goes.
    roots : np.ndarray [shape=(n_trees,), int64]
        Each tree's root node.
    tree_column : np.ndarray [shape=(n_trees,), int64]
        The score column each tree adds to.
    baseline : np.ndarray [shape=(n_columns,), float64]
        The scores before any tree.
    classes : np.ndarray [shape=(n_classes,), int64]
        The class labels. With two classes there is one score column, the log-odds of the
        second; with more, one column per class.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    missing_left: np.ndarray
    roots: np.ndarray
    tree_column: np.ndarray
    baseline: np.ndarray
    classes: np.ndarray

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of each class.

        Parameters
        ----------
        x : np.ndarray [shape=(n_samples, n_features)]

        Returns
        -------
        np.ndarray [shape=(n_samples, n_classes), float64]
            Larger is likelier; with two classes the first column is 0 and the second the
            log-odds of the second class.
        """
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        rows = np.arange(len(x))[:, None]
        node = np.tile(self.roots, (len(x), 1))  # every tree at once, one level per pass
        inner = self.feature[node] >= 0
        while inner.any():
            values = x[rows, np.maximum(self.feature[node], 0)]
            go_left = np.where(np.isnan(values), self.missing_left[node], values <= self.threshold[node])
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
            inner = self.feature[node] >= 0
        to_column = np.arange(len(self.baseline)) == self.tree_column[:, None]  # (n_trees, n_columns)
        columns = self.baseline + self.value[node] @ to_column
        if len(self.classes) == 2:
            return np.column_stack([np.zeros(len(x)), columns[:, 0]])
        return columns

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The likeliest class label of each sample [shape=(n_samples,), int64]."""
        return self.classes[np.argmax(self.scores(x), axis=1)]

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The ensemble as named arrays (``prefix + field``), for an ``.npz`` file."""
        return {prefix + name: getattr(self, name) for name in FIELDS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> TreeEnsemble:
        """Read back what :meth:`arrays` wrote.

        Raises
        ------
        ParameterError
            If a field is missing.
        """
        missing = [name for name in FIELDS if prefix + name not in arrays]
        if missing:
            raise ParameterError(f"tree ensemble {prefix!r}: missing {', '.join(missing)}")
        return cls(**{name: np.asarray(arrays[prefix + name]) for name in FIELDS})


def fit_trees(
    x: np.ndarray,
    y: np.ndarray,
    *,
    max_iter: int = 200,
    learning_rate: float = 0.05,
    max_leaf_nodes: int = 31,
    min_samples_leaf: int = 20,
    l2: float = 1.0,
    seed: int = 0,
) -> TreeEnsemble:
    """Fit boosted trees (log loss) and copy them into a :class:`TreeEnsemble`.

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples, n_features)]
    y : np.ndarray [shape=(n_samples,), int]
        Class labels; at least two different ones.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2
        scikit-learn's ``HistGradientBoostingClassifier`` settings (``l2`` is its
        ``l2_regularization``); no early stopping, so the same data and seed give the same trees.

    Raises
    ------
    ParameterError
        If ``y`` holds one class only or does not match ``x``.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]] * 10)
    >>> trees = fit_trees(x, (x[:, 0] > 1.5).astype(int), min_samples_leaf=2)
    >>> trees.predict(np.array([[0.5], [2.5]])).tolist()
    [0, 1]
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2 or len(x) != len(y):
        raise ParameterError(
            f"fit_trees needs x of shape (n, n_features) and n labels, got {x.shape} and {y.shape}"
        )
    if len(np.unique(y)) < 2:
        raise ParameterError("fit_trees needs at least two classes")
    model = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=learning_rate,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf,
        l2_regularization=l2,
        early_stopping=False,
        random_state=seed,
    ).fit(x, y)
    fields: dict[str, list[np.ndarray]] = {
        name: [] for name in ("feature", "threshold", "left", "right", "value", "missing_left")
    }
    roots, tree_column = [], []
    offset = 0
    for iteration in model._predictors:  # one tree per score column and boosting round
        for column, predictor in enumerate(iteration):
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(bool)
            fields["feature"].append(np.where(leaf, -1, nodes["feature_idx"].astype(np.int64)))
            fields["threshold"].append(nodes["num_threshold"].astype(np.float64))
            fields["left"].append(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset))
            fields["right"].append(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset))
            fields["value"].append(nodes["value"].astype(np.float64))
            fields["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
            roots.append(offset)
            tree_column.append(column)
            offset += len(nodes)
    return TreeEnsemble(
        **{name: np.concatenate(parts) for name, parts in fields.items()},
        roots=np.array(roots, dtype=np.int64),
        tree_column=np.array(tree_column, dtype=np.int64),
        baseline=np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1),
        classes=np.asarray(model.classes_).astype(np.int64),
    )
