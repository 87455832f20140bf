"""Sections on synthetic SSMs built from a form string (one letter per bar)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drumgen.config import SectionConfig, load_config
from drumgen.exceptions import ParameterError
from drumgen.sections import (
    Sections,
    combine_ssms,
    drum_section_changes,
    find_boundaries,
    find_sections,
    find_sections_with,
    label_segments,
    novelty_curve,
    section_label,
)

SETTINGS = {
    "kernel_bars": 8,
    "min_bars": 4,
    "peak_threshold": 0.2,
    "label_distance": 0.3,
    "melodic_weight": 0.5,
}
BOUNDARY_SETTINGS = {key: SETTINGS[key] for key in ("kernel_bars", "min_bars", "peak_threshold")}


def form_ssm(form: str, *, contrast: float = 0.8, noise: float = 0.02, seed: int = 0) -> np.ndarray:
    """Distance 0 between bars of the same letter, ``contrast`` otherwise, plus uniform noise."""
    letters = np.array(list(form))
    rng = np.random.default_rng(seed)
    n_bars = len(letters)
    distances = np.where(letters[:, None] == letters[None, :], 0.0, contrast)
    distances = distances + rng.uniform(0.0, noise, size=(n_bars, n_bars))
    distances = (distances + distances.T) / 2.0
    np.fill_diagonal(distances, 0.0)
    return distances


def random_ssm(n_bars: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n_bars, 3)).cumsum(axis=0)  # a random walk: some structure
    distances = np.linalg.norm(points[:, None] - points[None, :], axis=-1)
    return distances / distances.max()


# --- Sections -------------------------------------------------------------------------------------


def test_sections_per_bar_views_on_a_known_example() -> None:
    sections = Sections(starts=np.array([0, 3, 5, 9]), labels=("A", "B", "A", "C"), n_bars=11)
    assert sections.n_sections == 4
    assert sections.ends.tolist() == [3, 5, 9, 11]
    assert sections.lengths.tolist() == [3, 2, 4, 2]
    assert sections.changes.tolist() == [3, 5, 9]
    assert sections.bar_section().tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3]
    assert sections.bar_label_idx().tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 2, 2]
    assert sections.position_in_section().tolist() == [0, 1, 2, 0, 1, 0, 1, 2, 3, 0, 1]
    assert sections.starts.dtype == np.int64
    assert sections.bar_section().dtype == np.int64


def test_sections_round_trip_through_json() -> None:
    sections = Sections(starts=np.array([0, 4, 12]), labels=("A", "B", "A"), n_bars=20)
    data = json.loads(json.dumps(sections.to_dict()))
    assert data == {"starts": [0, 4, 12], "labels": ["A", "B", "A"], "n_bars": 20}
    back = Sections.from_dict(data)
    assert back == sections
    assert back.starts.dtype == np.int64
    assert back != Sections.whole_song(20)


def test_whole_song_is_one_section_a() -> None:
    sections = Sections.whole_song(7)
    assert sections.starts.tolist() == [0]
    assert sections.labels == ("A",)
    assert sections.changes.tolist() == []
    assert sections.bar_section().tolist() == [0] * 7
    assert sections.position_in_section().tolist() == list(range(7))


def test_sections_are_immutable() -> None:
    sections = Sections(starts=np.array([0, 2]), labels=("A", "B"), n_bars=4)
    with pytest.raises(ValueError):
        sections.starts[1] = 3


@pytest.mark.parametrize(
    ("starts", "labels", "n_bars"),
    [
        ([1, 4], ("A", "B"), 8),  # does not start at 0
        ([0, 4, 4], ("A", "B", "C"), 8),  # not strictly ascending
        ([0, 8], ("A", "B"), 8),  # start past the song
        ([0, 4], ("A",), 8),  # one label short
        ([], (), 8),  # no section
        ([0], ("",), 8),  # empty label
        ([0], ("A",), 0),  # no bar
        ([0, 2.5], ("A", "B"), 8),  # not integers
    ],
)
def test_sections_reject_bad_fields(starts: list[float], labels: tuple[str, ...], n_bars: int) -> None:
    with pytest.raises(ParameterError):
        Sections(starts=np.array(starts), labels=labels, n_bars=n_bars)


def test_from_dict_names_the_missing_keys() -> None:
    with pytest.raises(ParameterError, match="n_bars"):
        Sections.from_dict({"starts": [0], "labels": ["A"]})


def test_section_labels_go_past_z() -> None:
    assert [section_label(idx) for idx in (0, 1, 25, 26, 27, 52)] == ["A", "B", "Z", "A2", "B2", "A3"]


# --- combine_ssms -----------------------------------------------------------------------------------


def test_combine_ssms_is_a_symmetric_distance_in_unit_range() -> None:
    melodic = random_ssm(30, seed=1)
    drum = 7.0 * random_ssm(30, seed=2)
    combined = combine_ssms(melodic, drum, melodic_weight=0.3)
    assert combined.shape == (30, 30)
    np.testing.assert_array_equal(combined, combined.T)
    np.testing.assert_array_equal(np.diag(combined), 0.0)
    assert combined.min() >= 0.0
    assert combined.max() <= 1.0
    alone = combine_ssms(melodic, melodic_weight=0.3)
    off_diagonal = ~np.eye(30, dtype=bool)
    assert alone[off_diagonal].min() == 0.0
    assert alone[off_diagonal].max() == 1.0


def test_combine_ssms_ignores_the_scale_of_each_input() -> None:
    melodic, drum = random_ssm(25, seed=3), random_ssm(25, seed=4)
    combined = combine_ssms(melodic, drum, melodic_weight=0.6)
    scaled = combine_ssms(3.7 * melodic, 0.01 * drum, melodic_weight=0.6)
    np.testing.assert_allclose(scaled, combined, atol=1e-12)


def test_combine_ssms_weights_the_inputs() -> None:
    melodic, drum = random_ssm(20, seed=5), random_ssm(20, seed=6)
    np.testing.assert_allclose(
        combine_ssms(melodic, drum, melodic_weight=1.0), combine_ssms(melodic, melodic_weight=1.0)
    )
    np.testing.assert_allclose(
        combine_ssms(melodic, drum, melodic_weight=0.0), combine_ssms(drum, melodic_weight=0.5)
    )


def test_combine_ssms_matches_scipy_mid_ranks() -> None:
    from scipy.stats import rankdata

    ssm = np.round(random_ssm(12, seed=7), 1)  # with ties
    combined = combine_ssms(ssm, melodic_weight=1.0)
    rows, cols = np.triu_indices(12, k=1)
    expected = (rankdata(ssm[rows, cols], method="average") - 1) / (len(rows) - 1)
    np.testing.assert_allclose(combined[rows, cols], expected)


@pytest.mark.parametrize(
    "call",
    [
        lambda: combine_ssms(np.zeros((3, 4)), melodic_weight=0.5),
        lambda: combine_ssms(np.zeros(4), melodic_weight=0.5),
        lambda: combine_ssms(np.zeros((4, 4)), np.zeros((5, 5)), melodic_weight=0.5),
        lambda: combine_ssms(np.zeros((4, 4)), np.zeros((4, 4)), melodic_weight=1.5),
        lambda: combine_ssms(np.full((4, 4), np.nan), melodic_weight=0.5),
        lambda: novelty_curve(np.zeros((2, 3, 3)), kernel_bars=8),
        lambda: novelty_curve(np.zeros((4, 4)), kernel_bars=1),
        lambda: find_boundaries(np.zeros((8, 8)), kernel_bars=8, min_bars=0, peak_threshold=0.2),
        lambda: find_boundaries(np.zeros((8, 9)), kernel_bars=8, min_bars=4, peak_threshold=0.2),
        lambda: find_boundaries(np.zeros((8, 8)), kernel_bars=8, min_bars=4, peak_threshold=1.5),
        lambda: label_segments(np.zeros((8, 8)), np.array([0, 9]), label_distance=0.3),
        lambda: label_segments(np.zeros((8, 8)), np.array([2, 4]), label_distance=0.3),
        lambda: label_segments(np.zeros((8, 8)), np.array([0]), label_distance=-0.1),
        lambda: find_sections(np.zeros((8, 7)), **SETTINGS),
        lambda: find_sections(np.zeros((8, 8)), **{**SETTINGS, "min_bars": 0}),
    ],
)
def test_bad_input_raises_parameter_error(call) -> None:
    with pytest.raises(ParameterError):
        call()


# --- novelty and boundaries ---------------------------------------------------------------------------


def test_novelty_curve_peaks_at_the_boundary() -> None:
    novelty = novelty_curve(form_ssm("A" * 10 + "B" * 14), kernel_bars=8)
    assert novelty.shape == (24,)
    assert int(np.argmax(novelty)) == 10
    assert novelty.max() == 1.0
    assert novelty.min() >= 0.0
    assert novelty[0] == 0.0


def test_novelty_of_a_constant_ssm_is_zero() -> None:
    ssm = np.full((20, 20), 0.4)
    np.fill_diagonal(ssm, 0.0)
    np.testing.assert_array_equal(novelty_curve(ssm, kernel_bars=8), 0.0)
    np.testing.assert_array_equal(novelty_curve(ssm, kernel_bars=7), 0.0)


def test_boundaries_of_four_sections() -> None:
    combined = combine_ssms(form_ssm("AAAABBBBAAAACCCC"), melodic_weight=0.5)
    boundaries = find_boundaries(combined, **BOUNDARY_SETTINGS)
    assert boundaries.tolist() == [4, 8, 12]
    assert boundaries.dtype == np.int64


def test_a_song_shorter_than_two_sections_has_no_boundary() -> None:
    ssm = form_ssm("AAABBBB")
    assert find_boundaries(ssm, kernel_bars=4, min_bars=4, peak_threshold=0.2).tolist() == []
    assert find_boundaries(ssm, kernel_bars=4, min_bars=3, peak_threshold=0.2).tolist() == [3]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("min_bars", "kernel_bars"), [(1, 4), (2, 8), (4, 8), (5, 6), (3, 16)])
def test_boundaries_keep_every_section_at_least_min_bars_long(
    seed: int, min_bars: int, kernel_bars: int
) -> None:
    n_bars = 10 + 7 * seed
    ssm = random_ssm(n_bars, seed=seed)
    boundaries = find_boundaries(ssm, kernel_bars=kernel_bars, min_bars=min_bars, peak_threshold=0.0)
    edges = np.concatenate([[0], boundaries, [n_bars]])
    assert np.all(np.diff(edges) >= min_bars)
    assert np.all(np.isin(boundaries, np.arange(min_bars, n_bars - min_bars + 1)))


def test_higher_threshold_keeps_fewer_boundaries() -> None:
    ssm = random_ssm(80, seed=11)
    counts = [
        len(find_boundaries(ssm, kernel_bars=8, min_bars=2, peak_threshold=threshold))
        for threshold in (0.0, 0.3, 0.6, 0.9)
    ]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1] >= 1  # the curve's max always passes


# --- labels and whole pipeline ----------------------------------------------------------------------


def test_find_sections_of_four_4_bar_sections() -> None:
    sections = find_sections(form_ssm("AAAABBBBAAAACCCC"), **SETTINGS)
    assert sections.starts.tolist() == [0, 4, 8, 12]
    assert sections.labels == ("A", "B", "A", "C")
    assert sections.n_bars == 16


@pytest.mark.parametrize("seed", range(5))
def test_find_sections_of_8_bar_sections(seed: int) -> None:
    sections = find_sections(form_ssm("A" * 8 + "B" * 8 + "A" * 8, seed=seed), **SETTINGS)
    assert sections.changes.tolist() == [8, 16]
    assert sections.labels == ("A", "B", "A")


def test_find_sections_of_a_longer_form() -> None:
    form = "AAAABBBBAAAAAAAABBBBAAAACCCCAAAA"
    sections = find_sections(form_ssm(form, seed=3), **SETTINGS)
    assert sections.starts.tolist() == [0, 4, 8, 16, 20, 24, 28]
    assert sections.labels == ("A", "B", "A", "B", "A", "C", "A")
    # bar 8's section runs 8 bars: one long A, not two 4-bar A's
    assert sections.lengths.tolist() == [4, 4, 8, 4, 4, 4, 4]


def test_a_constant_ssm_is_one_section() -> None:
    ssm = np.full((32, 32), 0.5)
    np.fill_diagonal(ssm, 0.0)
    assert find_sections(ssm, ssm, **SETTINGS) == Sections.whole_song(32)


def test_label_segments_uses_the_given_boundaries() -> None:
    combined = combine_ssms(form_ssm("AAAABBBBAAAACCCC"), melodic_weight=0.5)
    assert label_segments(combined, np.array([0, 4, 8, 12]), label_distance=0.3) == ("A", "B", "A", "C")
    # a cut inside a section: both halves of the first A and the second A share a label
    assert label_segments(combined, np.array([0, 2, 4, 8, 12]), label_distance=0.3) == (
        "A",
        "A",
        "B",
        "A",
        "C",
    )
    # label_distance 0: only exact repeats of the noise-free SSM share a label
    assert label_segments(combined, np.array([0, 4, 8, 12]), label_distance=0.0)[1:] == ("B", "C", "D")


def test_label_segments_of_different_lengths() -> None:
    combined = combine_ssms(form_ssm("A" * 8 + "B" * 4 + "A" * 4 + "B" * 12), melodic_weight=0.5)
    assert label_segments(combined, np.array([0, 8, 12, 16]), label_distance=0.3) == ("A", "B", "A", "B")


def test_many_distinct_sections_get_labels_past_z() -> None:
    form = "".join(chr(0x100 + idx) * 2 for idx in range(30))  # 30 different 2-bar sections
    # noise-free: with all 870 cross-section distances equal but for noise, ranking would turn
    # the noise into contrast, and 2-bar blocks are too small to average it out
    sections = find_sections(form_ssm(form, noise=0.0), **{**SETTINGS, "kernel_bars": 4, "min_bars": 2})
    assert sections.n_sections == 30
    assert sections.labels[:3] == ("A", "B", "C")
    assert sections.labels[26:] == ("A2", "B2", "C2", "D2")


def test_drum_ssm_shows_the_boundary_the_noisy_melodic_ssm_hides() -> None:
    """Melody: the same sections but weak and noisy; drums: a clear groove change per section."""
    form = "A" * 8 + "B" * 8 + "A" * 8 + "C" * 8
    melodic_alone_wrong = 0
    for seed in range(10):
        melodic = form_ssm(form, contrast=0.1, noise=0.5, seed=100 + seed)
        drum = form_ssm(form, contrast=0.8, noise=0.05, seed=200 + seed)
        sections = find_sections(melodic, drum, **SETTINGS)
        assert sections.starts.tolist() == [0, 8, 16, 24]
        assert sections.labels == ("A", "B", "A", "C")
        melodic_alone = find_sections(melodic, **SETTINGS)
        melodic_alone_wrong += melodic_alone.starts.tolist() != [0, 8, 16, 24]
    assert melodic_alone_wrong >= 3


@pytest.mark.parametrize("scale", [1.0, 15.0])
def test_drum_section_changes_of_a_real_drum_ssm(scale: float) -> None:
    drum = scale * form_ssm("A" * 8 + "B" * 16 + "A" * 8, noise=0.05, seed=9)
    assert drum_section_changes(drum, **BOUNDARY_SETTINGS).tolist() == [8, 24]
    assert drum_section_changes(drum, kernel_bars=8, min_bars=9, peak_threshold=0.2).tolist() == []


def test_find_sections_with_reads_the_config() -> None:
    melodic = form_ssm("A" * 8 + "B" * 8 + "A" * 8, seed=1)
    drum = form_ssm("A" * 8 + "B" * 8 + "A" * 8, seed=2)
    settings = load_config().sections
    assert isinstance(settings, SectionConfig)
    expected = find_sections(
        melodic,
        drum,
        kernel_bars=settings.kernel_bars,
        min_bars=settings.min_bars,
        peak_threshold=settings.peak_threshold,
        label_distance=settings.label_distance,
        melodic_weight=settings.melodic_weight,
    )
    assert find_sections_with(melodic, drum, settings=settings) == expected
    assert expected.changes.tolist() == [8, 16]
    strict = SectionConfig(**{**SETTINGS, "min_bars": 9})  # 8 and 16 leave an 8-bar section
    assert find_sections_with(melodic, drum, settings=strict) == Sections.whole_song(24)


def test_one_bar_song() -> None:
    assert find_sections(np.zeros((1, 1)), **SETTINGS) == Sections.whole_song(1)


def test_500_bars() -> None:
    form = ("A" * 8 + "B" * 8 + "C" * 4) * 25
    melodic, drum = form_ssm(form, seed=1), form_ssm(form, seed=2)
    sections = find_sections(melodic, drum, **SETTINGS)
    assert sections.n_sections == 75
    assert sections.labels[:6] == ("A", "B", "C", "A", "B", "C")


def test_labels_repeats_of_a_phrase_whose_bars_all_differ() -> None:
    # four 4-bar phrases P P Q P; every bar of a phrase is a different chord
    bar_ids = np.array([0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3])
    noise = np.random.default_rng(3).uniform(0.0, 0.05, size=(16, 16))
    ssm = np.where(bar_ids[:, None] == bar_ids[None, :], 0.0, 0.8) + noise
    ssm = (ssm + ssm.T) / 2
    np.fill_diagonal(ssm, 0.0)
    combined = combine_ssms(ssm, melodic_weight=1.0)
    assert label_segments(combined, np.array([0, 4, 8, 12]), label_distance=0.3) == ("A", "A", "B", "A")


def test_real_drum_changes_do_not_move_when_the_section_finder_is_tuned() -> None:
    from drumgen import evaluation
    from drumgen.songdata import SongData

    song = SongData(
        song_id="s", genre="rock", arrays={"drum_ssm": form_ssm("A" * 8 + "B" * 8 + "A" * 8, seed=4)}
    )
    config = load_config()
    tuned_finder = config.replace(sections={"peak_threshold": 0.99, "kernel_bars": 4})
    assert evaluation.real_section_changes(song, config=config).tolist() == [8, 16]
    assert evaluation.real_section_changes(song, config=tuned_finder).tolist() == [8, 16]
    strict = config.replace(drum_changes={"min_bars": 9})
    assert evaluation.real_section_changes(song, config=strict).tolist() == []
