"""The arranger and the drummer model on probabilities and songs made in code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drumgen import arrangement, kit, metrics, parts
from drumgen.config import load_config
from drumgen.drummer import (
    FILL_VOICES,
    LAYOUT_FEATURES,
    DrummerModel,
    fit_drummer,
    layout_features,
    load_drummer,
    save_drummer,
)
from drumgen.exceptions import ModelError, ParameterError
from drumgen.representation import pitch_to_row
from drumgen.sections import Sections
from drumgen.songdata import SongData

KICK_A, KICK_B = pitch_to_row(36), pitch_to_row(35)
SNARE_A, SNARE_B = pitch_to_row(38), pitch_to_row(40)
HAT, RIDE, OPEN_HAT = pitch_to_row(42), pitch_to_row(51), pitch_to_row(46)


def rock_probabilities(n_bars: int, *, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    """A hedging VAE's output: kick and snare split over two pitches, hats on 8ths, some noise."""
    p = rng.uniform(0.0, noise, size=(n_bars, 46, 16))
    p[:, KICK_A, [0, 8]] = 0.45
    p[:, KICK_B, [0, 8]] = 0.4
    p[:, SNARE_A, [4, 12]] = 0.5
    p[:, SNARE_B, [4, 12]] = 0.45
    p[:, HAT, 0::2] = 0.7
    return p


def drummer_model() -> DrummerModel:
    velocity = np.full((46, 16), 80.0)
    velocity[SNARE_A] = 105.0
    velocity[KICK_A, 0] = 110.0
    n = len(LAYOUT_FEATURES)
    table = np.zeros((16, 6))
    table[:, 2] = 1.0  # every fill step: high tom
    return DrummerModel(
        velocity=velocity,
        fill_starts=np.array([12]),
        fill_start_probs=np.array([1.0]),
        fill_table=table,
        layout_weights=np.zeros(n + 1),
        layout_mean=np.zeros(n),
        layout_std=np.ones(n),
        info={},
    )


def settings(**changes: object):
    return load_config("default", arrangement=dict(changes)).arrangement


def test_piece_probabilities_combine_rows() -> None:
    p = np.zeros((46, 16))
    p[KICK_A, 0] = 0.3
    p[KICK_B, 0] = 0.2
    p[KICK_A, 1] = p[KICK_B, 1] = 0.7
    pieces = arrangement.piece_probabilities(p)
    assert pieces[kit.PIECES.index("kick"), 0] == pytest.approx(0.5), "exclusive sounds: chances add"
    assert pieces[kit.PIECES.index("kick"), 1] == 1.0, "capped at 1"
    assert pieces[kit.PIECES.index("snare")].max() == 0.0


def test_decode_groove_plays_one_sound_per_piece_and_keeps_the_backbeat(rng) -> None:
    p = rock_probabilities(1, rng=rng)[0]
    p[RIDE, 0::2] = 0.3  # a weaker second timekeeper
    hits = arrangement.decode_groove(p, hit_threshold=0.5, keeper_threshold=0.5)
    assert hits[KICK_A, [0, 8]].all() and not hits[KICK_B].any(), "one kick pitch, both kicks kept"
    assert hits[SNARE_A, [4, 12]].all() and not hits[SNARE_B].any()
    assert hits[HAT, 0::2].all() and not hits[RIDE].any(), "only one timekeeper"
    assert metrics.layered_rate(hits[None]) == 0.0


def test_decode_groove_adds_a_missing_backbeat_but_not_in_half_time() -> None:
    p = np.zeros((46, 16))
    p[KICK_A, 0] = 0.9
    p[HAT, 0::2] = 0.9
    p[SNARE_A, 4] = 0.2  # below the threshold
    hits = arrangement.decode_groove(p, hit_threshold=0.5, keeper_threshold=0.5)
    assert hits[SNARE_A, [4, 12]].all()
    half = p.copy()
    half[SNARE_A, 8] = 0.9
    hits = arrangement.decode_groove(half, hit_threshold=0.5, keeper_threshold=0.5)
    assert hits[SNARE_A, 8] and not hits[SNARE_A, [4, 12]].any()


def test_bars_written_in_another_meter_keep_no_4_4_backbeat(rng) -> None:
    """A 6/8 bar written in cells 0-11 has its snare on cell 6; the 4/4 backbeat (cells 4 and 12)
    would put one where no 6/8 drummer plays it, and its hats end with the bar."""
    six_eight = np.zeros((46, 16))
    six_eight[KICK_A, 0] = 0.9
    six_eight[SNARE_A, 6] = 0.9
    six_eight[HAT, 0:12:2] = 0.9
    hits = arrangement.decode_groove(six_eight, hit_threshold=0.5, keeper_threshold=0.5, n_steps=12)
    assert np.flatnonzero(hits[SNARE_A]).tolist() == [6] and hits[KICK_A, 0]
    assert np.flatnonzero(hits[HAT]).tolist() == list(range(0, 12, 2)), "the pulse stops at the bar's end"
    kickless = six_eight.copy()
    kickless[KICK_A] = 0.0
    hits = arrangement.decode_groove(kickless, hit_threshold=0.5, keeper_threshold=0.5, n_steps=12)
    assert hits[KICK_A, 0], "the downbeat kick is still kept"
    forced = arrangement.decode_groove(six_eight, hit_threshold=0.5, keeper_threshold=0.5)
    assert forced[SNARE_A, [4, 6, 12]].all(), "as a 4/4 bar it would get the backbeat"
    # arrange: the bars written short keep no backbeat, a 4/4 bar of the same song does
    probabilities = np.stack([six_eight] * 3 + [rock_probabilities(1, rng=rng)[0]])
    sections = Sections(starts=np.array([0]), labels=("A",), n_bars=4)
    arranged = arrangement.arrange(
        probabilities,
        sections,
        drummer=drummer_model(),
        settings=settings(fills=0.0, variation=1.0),
        written_steps=np.array([12, 12, 12, 16]),
        rng=rng,
    )
    snare_steps = arranged.grid[:, [SNARE_A, SNARE_B]].max(axis=1) > 0
    assert not snare_steps[:3, [4, 12]].any() and snare_steps[:3, 6].all()
    assert snare_steps[3, [4, 12]].all()
    with pytest.raises(ParameterError, match="written_compound"):
        arrangement.arrange(
            probabilities,
            sections,
            drummer=drummer_model(),
            settings=settings(),
            written_compound=np.ones(3, bool),
            rng=rng,
        )
    with pytest.raises(ParameterError, match="written_steps"):
        arrangement.arrange(
            probabilities,
            sections,
            drummer=drummer_model(),
            settings=settings(),
            written_steps=np.ones(3),
            rng=rng,
        )


def test_contrast_edits_stay_inside_bars_written_short(rng) -> None:
    """Two labels a waltz plays alike must differ, but not by strokes past the third beat: the
    edits toggle only the cells of the bars as written (12 steps), also in a label with a bar
    written as 4/4 among them."""
    waltz = np.zeros((46, 16))
    waltz[KICK_A, 0:12] = 0.9  # a kick on every sixteenth: dropping one costs more than adding one
    waltz[SNARE_A, [4, 8]] = 0.9
    waltz[HAT, 0:12:2] = 0.9
    probabilities = np.stack([waltz] * 8)
    sections = Sections(starts=np.array([0, 4]), labels=("A", "B"), n_bars=8)
    common = dict(drummer=drummer_model(), ssm=np.ones((8, 8)) - np.eye(8), rng=rng)
    arranged = arrangement.arrange(
        probabilities,
        sections,
        settings=settings(fills=0.0, variation=0.0, contrast=12.5, variant_distance=1.0),
        written_steps=np.full(8, 12),
        **common,
    )
    grid = arranged.grid > 0
    assert not grid[:, :, 12:].any(), "nothing past the waltz bar's end"
    assert (grid[:4] != grid[4:]).any(axis=(1, 2)).all(), "the two labels still differ"
    # a label of two 12-step bars and a 16-step one is edited as a 12-step groove
    mixed = arrangement.arrange(
        probabilities[:6],
        Sections(starts=np.array([0, 3]), labels=("A", "B"), n_bars=6),
        settings=settings(fills=0.0, variation=0.0, contrast=12.5, variant_distance=1.0),
        written_steps=np.array([12, 12, 16, 12, 12, 16]),
        drummer=drummer_model(),
        ssm=np.ones((6, 6)) - np.eye(6),
        rng=rng,
    )
    assert not (mixed.grid[[0, 1, 3, 4], :, 12:] > 0).any()


def test_compound_bars_keep_a_dotted_quarter_figure() -> None:
    """In 6/8 the hats' figure repeats every dotted quarter: a stroke on each dotted beat stays one,
    where a quarter-note figure would put strokes across the bar (0, 4, 8: a hemiola)."""
    dotted = np.zeros(16)
    dotted[[0, 6]] = 0.9  # hats on the two dotted beats of a 6/8 bar
    quarter = arrangement.pulse_steps(dotted, 0.4, n_steps=12)
    assert not quarter.any(), "averaged over quarter notes, neither stroke is sure enough"
    compound = arrangement.pulse_steps(dotted, 0.4, n_steps=12, period=arrangement.COMPOUND_PULSE_PERIOD)
    assert np.flatnonzero(compound).tolist() == [0, 6]
    eighths = arrangement.pulse_steps(
        np.where(np.arange(16) % 2 == 0, 0.8, 0.1), 0.4, n_steps=12, period=arrangement.COMPOUND_PULSE_PERIOD
    )
    assert np.flatnonzero(eighths).tolist() == [0, 2, 4, 6, 8, 10]
    six_eight = np.zeros((46, 16))
    six_eight[KICK_A, 0] = 0.9
    six_eight[SNARE_A, 6] = 0.9
    six_eight[HAT, [0, 6]] = 0.9
    hits = arrangement.decode_groove(
        six_eight, hit_threshold=0.5, keeper_threshold=0.4, n_steps=12, compound=True
    )
    assert np.flatnonzero(hits[HAT]).tolist() == [0, 6]
    # the contrast edits never take a stroke off a dotted beat, even the cheapest one to drop
    unsure = six_eight.copy()
    unsure[HAT, 6] = 0.3
    kit_choice = arrangement.choose_kit(unsure)
    as_quarters = arrangement.contrast_edits(hits, unsure, [hits.copy()], [2], choice=kit_choice)
    assert (HAT, 6, False) in as_quarters, "with a quarter-note figure the second dotted beat goes"
    edits = arrangement.contrast_edits(
        hits, unsure, [hits.copy()], [2], choice=kit_choice, period=arrangement.COMPOUND_PULSE_PERIOD
    )
    assert len(edits) == 2 and not [edit for edit in edits if edit[0] == HAT and not edit[2]]


def test_the_snare_needs_its_own_threshold_but_keeps_the_backbeat() -> None:
    p = np.zeros((46, 16))
    p[KICK_A, 0] = 0.9
    p[HAT, 0::2] = 0.9
    p[SNARE_A, [4, 12]] = 0.9
    p[SNARE_A, 14] = 0.25  # a hedged extra stroke
    p[KICK_A, 14] = 0.25
    loose = arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.5)
    assert loose[SNARE_A, 14] and loose[KICK_A, 14]
    strict = arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.5, snare_threshold=0.3)
    assert not strict[SNARE_A, 14] and strict[KICK_A, 14], "only the snare's bar is raised"
    assert strict[SNARE_A, [4, 12]].all()
    p[SNARE_A, [4, 12]] = 0.1  # unsure of the backbeat too: it is still kept
    assert arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.5, snare_threshold=0.9)[
        SNARE_A, [4, 12]
    ].all()
    with pytest.raises(ParameterError, match="snare_threshold"):
        settings(snare_threshold=1.0)


def test_a_bar_written_in_another_meter_reads_the_snare_at_the_hit_threshold() -> None:
    """No backbeat is kept in a waltz bar, so its snare is not held to the 4/4 bar's higher bar:
    the VAE's hedged 0.28 on beats 2 and 3 is played there, and not in a 4/4 bar."""
    waltz = np.zeros((46, 16))
    waltz[KICK_A, 0] = 0.9
    waltz[HAT, 0:12:2] = 0.9
    waltz[SNARE_A, 0:12] = 0.05
    waltz[SNARE_A, [4, 8]] = 0.28  # 1.06 expected strokes in all: two
    common = dict(hit_threshold=0.2, keeper_threshold=0.5, snare_threshold=0.3)
    written = arrangement.decode_groove(waltz, n_steps=12, **common)
    assert np.flatnonzero(written[SNARE_A]).tolist() == [4, 8]
    as_4_4 = arrangement.decode_groove(waltz, **common)
    assert not as_4_4[SNARE_A, 8], "a 4/4 bar's off-backbeat snare needs snare_threshold"


def test_decode_groove_delta_changes_density(rng) -> None:
    p = rock_probabilities(1, rng=rng)[0]
    base = arrangement.decode_groove(p, hit_threshold=0.5, keeper_threshold=0.5).sum()
    assert arrangement.decode_groove(p, hit_threshold=0.5, keeper_threshold=0.5, delta=6).sum() > base
    assert arrangement.decode_groove(p, hit_threshold=0.5, keeper_threshold=0.5, delta=-3).sum() < base
    with pytest.raises(ParameterError):
        arrangement.decode_groove(np.zeros((46, 8)), hit_threshold=0.5, keeper_threshold=0.5)


def test_decode_groove_plays_the_expected_number_of_strokes_of_a_diffuse_piece() -> None:
    p = np.zeros((46, 16))
    p[HAT, 0::2] = 0.9
    p[SNARE_A, [4, 12]] = 0.9
    p[KICK_A, 0::2] = 0.3  # the model is unsure where the kicks go: 2.4 expected strokes
    p[KICK_A, 0] = 0.45
    hits = arrangement.decode_groove(p, hit_threshold=0.25, keeper_threshold=0.25)
    assert hits[HAT, 0::2].all(), "confident strokes are all kept"
    assert hits[KICK_A].sum() == 3 and hits[KICK_A, 0], "ceil(0.45 + 7 x 0.3) kicks, the likeliest first"


def test_the_timekeeper_plays_every_step_above_its_threshold_not_a_stroke_count() -> None:
    p = np.zeros((46, 16))
    p[SNARE_A, [4, 12]] = 0.9
    p[KICK_A, 0] = 0.9
    p[HAT, 0::2] = 0.9
    p[HAT, 1::2] = 0.4  # sixteenths between: 10.4 expected strokes, all 16 above 0.3
    sixteenths = arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.3)
    assert sixteenths[HAT].all(), "a steady sixteenth-note hat, not eighths plus a few sixteenths"
    eighths = arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.5)
    assert eighths[HAT].nonzero()[0].tolist() == list(range(0, 16, 2))
    p[KICK_A, 1::2] = 0.4  # the kick still plays its expected count: ceil(0.9 + 8 x 0.4) = 5
    assert arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.3)[KICK_A].sum() == 5


def test_the_timekeeper_plays_the_same_strokes_on_every_beat() -> None:
    p = np.zeros((46, 16))
    p[SNARE_A, [4, 12]] = 0.9
    p[KICK_A, 0] = 0.9
    p[HAT, 0::2] = 0.9
    p[HAT, [7, 11, 15]] = 0.5  # the last sixteenth of beats 2-4 (mean 0.375 over the four beats)
    p[HAT, 14] = 0.1  # one weak eighth: its beat position (the off-beat eighth) averages 0.7
    hits = arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.3)
    assert hits[HAT].nonzero()[0].tolist() == [0, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15]
    steady = hits[HAT].reshape(4, 4)
    assert (steady == steady[0]).all(), "every beat the same"
    assert not arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.4)[HAT, 3::4].any()
    pulse = arrangement.pulse_steps(np.where(np.arange(16) == 11, 0.9, 0.0), 0.3)
    assert not pulse.any(), "one likely stroke (mean 0.225 over the beats) is no pulse"


def test_the_timekeeper_plays_no_e_or_a_without_the_and() -> None:
    """A swung off-beat lands on the beat's 4th sixteenth of the straight grid, so the VAE may hedge
    "xx.x" (the 3rd sixteenth unlikely): no drummer's hat figure; it becomes one that is."""
    hedge = np.tile([0.9, 0.4, 0.1, 0.6], 4)  # gains over 0.3: +0.6, +0.1, -0.2, +0.3
    pulse = arrangement.pulse_steps(hedge, 0.3)
    assert pulse[:4].tolist() == [True, True, True, True], "16ths (+0.8) beat the quarter alone (+0.6)"
    assert (pulse.reshape(4, 4) == pulse[:4]).all()
    weak = np.tile([0.9, 0.35, 0.0, 0.4], 4)  # the "and" costs more (-0.3) than the "e" and "a" bring
    assert np.flatnonzero(arrangement.pulse_steps(weak, 0.3)).tolist() == [0, 4, 8, 12]
    for figure in ([0.9, 0.1, 0.8, 0.6], [0.1, 0.1, 0.9, 0.1], [0.9, 0.9, 0.9, 0.9]):
        playable = arrangement.pulse_steps(np.tile(figure, 4), 0.3)[:4]
        assert playable.tolist() == [chance > 0.3 for chance in figure], "real figures stay as heard"


def test_the_hi_hat_keeps_the_pulse_the_model_hears_in_hat_like_percussion() -> None:
    tambourine, conga = pitch_to_row(54), pitch_to_row(63)
    assert tambourine in kit.HAT_LIKE_ROWS and conga not in kit.HAT_LIKE_ROWS
    p = np.zeros((46, 16))
    p[HAT, 0::2] = 0.8
    p[HAT, 1::2] = 0.15
    p[tambourine, 1::2] = 0.25  # the model hears sixteenths, unsure whether hat or tambourine
    p[conga, 1::2] = 0.25
    hihat = arrangement.piece_probabilities(p)[kit.PIECES.index("hihat")]
    np.testing.assert_allclose(hihat[1::2], 0.4)
    np.testing.assert_allclose(hihat[0::2], 0.8)
    hits = arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.3)
    assert hits[HAT].all(), "the hat plays the sixteenths"
    assert not hits[tambourine].any() and not hits[conga].any(), "hedged percussion stays out"


def test_the_hi_hat_opens_where_the_open_hat_is_the_likelier_sound() -> None:
    p = np.zeros((46, 16))
    p[HAT, 0::2] = 0.3
    p[OPEN_HAT, 0::4] = 0.4  # unsure, but the open hat is the likelier sound on the beats
    p[OPEN_HAT, 2::4] = 0.2  # and the closed one on the "and"s
    hits = arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.3)
    assert hits[OPEN_HAT].nonzero()[0].tolist() == [0, 4, 8, 12]
    assert hits[HAT].nonzero()[0].tolist() == [2, 6, 10, 14]
    assert metrics.layered_rate(hits[None]) == 0.0, "one hi-hat sound per step"


def test_a_stroke_threshold_of_1_or_more_is_refused() -> None:
    for name in ("hit_threshold", "keeper_threshold"):
        with pytest.raises(ParameterError, match=name):
            load_config("default", arrangement={name: 1.0})


def test_decode_groove_plays_toms_and_percussion_only_where_the_model_is_more_sure_than_not() -> None:
    def decode(p: np.ndarray) -> np.ndarray:
        return arrangement.decode_groove(p, hit_threshold=0.2, keeper_threshold=0.2)

    p = np.zeros((46, 16))
    p[HAT, 0::2] = 0.9
    p[SNARE_A, [4, 12]] = 0.9
    conga, tambourine = pitch_to_row(63), pitch_to_row(54)
    p[conga, 1::2] = 0.35  # hedged congas: 2.8 expected strokes, each above the hit threshold
    p[tambourine, [4, 12]] = 0.8
    hits = decode(p)
    assert arrangement.COLOUR_THRESHOLD > 0.35
    assert not hits[conga].any(), "hedged percussion stays out of the groove"
    assert hits[tambourine, [4, 12]].all() and hits[tambourine].sum() == 2
    p[conga, 3] = 0.6
    assert decode(p)[conga].nonzero()[0].tolist() == [3]
    low_tom = pitch_to_row(45)
    p[low_tom, [7, 15]] = 0.45
    assert not decode(p)[low_tom].any(), "no tom at 0.45"
    p[low_tom, 15] = 0.7
    assert decode(p)[low_tom].nonzero()[0].tolist() == [15]


def test_decode_groove_leaves_crashes_to_the_arranger() -> None:
    p = rock_probabilities(1, rng=np.random.default_rng(0))[0]
    p[pitch_to_row(49), 0] = 0.9
    assert not arrangement.decode_groove(p, hit_threshold=0.25, keeper_threshold=0.25)[pitch_to_row(49)].any()


def test_choose_kit_takes_the_most_probable_sound_and_timekeeper(rng) -> None:
    p = rock_probabilities(2, rng=rng)
    p[:, OPEN_HAT, 0::2] = 0.9  # open hats are the hi-hat's accents, never its main sound
    p[:, RIDE, :] = 0.99  # 15.8 expected ride strokes per bar against 13.6 of the hi-hat
    choice = arrangement.choose_kit(p)
    assert choice.rows["kick"] == KICK_A and choice.rows["snare"] == SNARE_A and choice.rows["hihat"] == HAT
    assert choice.timekeeper == "ride"


def test_arrange_writes_one_pitch_per_piece_for_the_whole_song(rng) -> None:
    p = rock_probabilities(16, rng=rng)
    p[8:, SNARE_B, [4, 12]] = 0.6  # the second section's bars prefer the other snare a little
    found = Sections(starts=np.array([0, 8]), labels=("A", "B"), n_bars=16)
    result = arrangement.arrange(p, found, drummer=drummer_model(), settings=settings(fills=0.0), rng=rng)
    played_snares = {row for row in kit.piece_rows("snare") if (result.grid[:, row] > 0).any()}
    assert played_snares == {SNARE_B}, "summed over the song, 40 is the likelier snare"
    assert metrics.layered_rate(result.grid) == 0.0


def test_arrange_repeats_the_groove_and_marks_section_changes(rng) -> None:
    p = rock_probabilities(16, rng=rng, noise=0.3)
    found = Sections(starts=np.array([0, 8]), labels=("A", "B"), n_bars=16)
    result = arrangement.arrange(
        p, found, drummer=drummer_model(), settings=settings(variation=0.0, fills=1.0), rng=rng
    )
    hits = result.grid > 0
    assert all((hits[b] == hits[b % 2]).all() for b in range(2, 7)), "A bars 0-6 repeat a 2-bar groove"
    assert result.fills[7] and hits[7, pitch_to_row(48), 12:].all(), "fill before B"
    assert result.crashes[8] and hits[8, pitch_to_row(49), 0] and hits[8, KICK_A, 0]
    assert result.fills.sum() == 1 and result.crashes.sum() == 1
    no_fills = arrangement.arrange(
        p, found, drummer=drummer_model(), settings=settings(variation=0.0, fills=0.0), rng=rng
    )
    assert not no_fills.fills.any() and not no_fills.crashes.any()


def test_variation_one_follows_each_bar(rng) -> None:
    p = rock_probabilities(16, rng=rng)
    p[3, pitch_to_row(48), 6] = 0.99  # only bar 3 hears a tom on step 6: pooled, it is below 0.15
    found = Sections.whole_song(16)
    kw = {"hit_threshold": 0.2, "fills": 0.0}
    exact = arrangement.arrange(
        p, found, drummer=drummer_model(), settings=settings(variation=0.0, **kw), rng=rng
    )
    own = arrangement.arrange(
        p, found, drummer=drummer_model(), settings=settings(variation=1.0, **kw), rng=rng
    )
    assert not exact.grid[3, pitch_to_row(48), 6] and own.grid[3, pitch_to_row(48), 6]


def test_neighbourhood_probabilities_average_a_bar_with_its_weighted_neighbours() -> None:
    from drumgen.selection import BarSelection

    p = np.zeros((3, 46, 16))
    p[0, HAT, 0] = 0.9
    p[1, HAT, 0] = 0.3
    chosen = BarSelection(
        neighbor_idx=np.array([[1, 2], [0, 2], [2, 2]]),  # bar 2: padded with itself at weight 0
        neighbor_weights=np.array([[0.5, 0.0], [1.0, 0.0], [0.0, 0.0]], dtype=np.float32),
    )
    own = arrangement.neighbourhood_probabilities(p, chosen)
    assert own[0, HAT, 0] == pytest.approx((0.9 + 0.5 * 0.3) / 1.5)
    assert own[1, HAT, 0] == pytest.approx((0.3 + 0.9) / 2.0)
    assert own[2, HAT, 0] == 0.0, "weight-0 padding leaves a bar its own chances"
    with pytest.raises(ParameterError):
        arrangement.neighbourhood_probabilities(p[:2], chosen)


def two_alike_sections(n_bars: int = 16) -> tuple[Sections, np.ndarray]:
    """A song of two labels the drum SSM keeps apart (distance ``0.4`` across, 0 within)."""
    found = Sections(starts=np.array([0, n_bars // 2]), labels=("A", "B"), n_bars=n_bars)
    labels = found.bar_label_idx()
    ssm = np.where(labels[:, None] == labels[None, :], 0.0, 0.4)
    return found, ssm


def test_contrast_makes_alike_sections_differ_by_the_target(rng) -> None:
    found, ssm = two_alike_sections()
    p = rock_probabilities(16, rng=rng)  # the model hears both sections the same
    kw = dict(drummer=drummer_model(), rng=rng, ssm=ssm)
    same = arrangement.arrange(p, found, settings=settings(variation=0.0, fills=0.0, contrast=0.0), **kw)
    assert (same.grid[0] > 0).tolist() == (same.grid[8] > 0).tolist(), "no contrast: one groove"
    edited = arrangement.arrange(p, found, settings=settings(variation=0.0, fills=0.0, contrast=10.0), **kw)
    a, b = edited.grid[0] > 0, edited.grid[8] > 0
    assert int((a != b).sum()) == 4, "10 x distance 0.4 = 4 cells"
    assert (edited.grid[0] == same.grid[0]).all(), "the first label is left as decoded"
    for bar in edited.grid[8:] > 0:
        assert (bar == b).all(), "every bar of the edited label plays the same edit"
    assert b[KICK_A, 0] and b[SNARE_A, [4, 12]].all(), "backbeat and downbeat kick survive the edit"
    assert metrics.layered_rate(edited.grid) == 0.0
    wide = arrangement.arrange(p, found, settings=settings(variation=0.0, fills=0.0, contrast=100.0), **kw)
    assert int(((wide.grid[0] > 0) != (wide.grid[8] > 0)).sum()) == arrangement.CONTRAST_RANGE[1]
    no_ssm = arrangement.arrange(
        p, found, settings=settings(variation=0.0, fills=0.0, contrast=10.0), drummer=drummer_model(), rng=rng
    )
    assert (no_ssm.grid == same.grid).all(), "without an SSM there is nothing to measure contrast by"


def test_contrast_edits_toggle_the_steps_nearest_to_even_first_and_keep_the_pulse() -> None:
    p = np.zeros((46, 16))
    p[KICK_A, [0, 8]] = 0.9
    p[SNARE_A, [4, 12]] = 0.9
    p[HAT, 0::2] = 0.95
    p[KICK_A, 10] = 0.3  # not played, nearest to even: added first
    p[HAT, 3::4] = 0.45  # the hat strokes the model is least sure of (played): dropped next
    groove = arrangement.decode_groove(p, hit_threshold=0.4, keeper_threshold=0.4)
    assert groove[HAT, 3::4].all() and not groove[KICK_A, 10]
    choice = arrangement.choose_kit(p)
    edits = arrangement.contrast_edits(groove, p, [groove], [2], choice=choice)
    assert edits == [(KICK_A, 10, True), (HAT, 3, False)]
    assert arrangement.contrast_edits(groove, p, [~groove], [2], choice=choice) == [], "differs already"
    far = arrangement.contrast_edits(groove, p, [groove], [30], choice=choice)
    dropped = {step for row, step, add in far if row == HAT and not add}
    assert dropped and not dropped & {0, 4, 8, 12}, "the on-beat pulse stays"
    no_hat = groove.copy()
    no_hat[HAT] = False
    edits = arrangement.contrast_edits(no_hat, p, [no_hat], [3], choice=choice)
    assert edits and all(row != HAT for row, _, _ in edits), "no lone strokes of a silent timekeeper"
    with pytest.raises(ParameterError):
        load_config("default", arrangement={"contrast": -1.0})


def test_lock_kick_to_bass_pulls_the_kick_to_the_bass_onsets_and_beats_1_and_3(rng) -> None:
    p = rock_probabilities(4, rng=rng, noise=0.0)  # kick 0.45 (36) + 0.4 (35) on steps 0 and 8
    bass = np.zeros((4, 16))
    bass[:, [6, 14]] = 1  # the bass plays the "and" of 2 and of 4
    kick = list(kit.piece_rows("kick"))
    assert np.allclose(arrangement.lock_kick_to_bass(p, bass, weight=0.0), p)
    locked = arrangement.lock_kick_to_bass(p, bass, weight=1.0)
    chance = locked[:, kick].sum(axis=1)
    assert np.flatnonzero(chance[0] > 0).tolist() == [0, 6, 8, 14] and np.allclose(
        chance[:, [0, 6, 8, 14]], 1
    )
    assert locked[0, KICK_A, 0] / locked[0, KICK_B, 0] == pytest.approx(0.45 / 0.4), (
        "the rows keep their shares"
    )
    assert locked[0, KICK_A, 6] == 1.0 and locked[0, KICK_B, 6] == 0.0, "no chance there: the song's kick row"
    other = [row for row in range(46) if row not in kick]
    assert (locked[:, other] == p[:, other]).all(), "only the kick moves"
    half = arrangement.lock_kick_to_bass(p, bass, weight=0.5)
    assert half[:, kick, 6].sum(axis=1) == pytest.approx([0.5] * 4)
    busy = np.zeros((4, 16))
    busy[:, 0::2] = 1  # 8th notes: 8 onsets share the 4 strokes of target
    pulled = arrangement.lock_kick_to_bass(np.zeros_like(p), busy, weight=1.0)[:, kick].sum(axis=1)
    assert pulled[0, 0] == pulled[0, 8] == 1.0 and pulled[0, 2] == pytest.approx(0.5)
    with pytest.raises(ParameterError):
        arrangement.lock_kick_to_bass(p, bass[:, :8], weight=0.5)
    # a waltz written in 12 cells: its downbeat anchors the kick, its third beat (cell 8) is a
    # beat like the others, and nothing is pulled past its end
    waltz_bass = np.zeros((4, 16))
    waltz_bass[:, [0, 4, 13]] = 1
    waltz = arrangement.lock_kick_to_bass(
        np.zeros_like(p), waltz_bass, weight=1.0, written_steps=np.array([12, 12, 12, 16])
    )[:, kick].sum(axis=1)
    assert np.flatnonzero(waltz[0]).tolist() == [0, 4] and waltz[0, 4] == pytest.approx(1.0)
    assert np.flatnonzero(waltz[3]).tolist() == [0, 4, 8, 13], "a 4/4 bar keeps beats 1 and 3"


def test_arranged_kick_follows_the_bass(rng) -> None:
    p = rock_probabilities(8, rng=rng)
    bass = np.zeros((8, 16))
    bass[:, [6, 14]] = 2
    kw = dict(drummer=drummer_model(), rng=rng)
    locked = arrangement.arrange(
        p, Sections.whole_song(8), settings=settings(fills=0.0, bass_lock=0.6), bass_onsets=bass, **kw
    )
    plain = arrangement.arrange(p, Sections.whole_song(8), settings=settings(fills=0.0, bass_lock=0.6), **kw)
    kick = list(kit.piece_rows("kick"))
    assert (locked.grid[:, kick][:, :, [6, 14]] > 0).any(axis=1).all(), "every bar kicks with the bass"
    assert not (plain.grid[:, kick][:, :, [6, 14]] > 0).any(), "no bass given: the model's kick"
    with pytest.raises(ParameterError):
        load_config("default", arrangement={"bass_lock": 1.5})


def halves_ssm(n_bars: int = 16, distance: float = 0.4) -> np.ndarray:
    """Distance ``distance`` between the song's two halves, 0 within each."""
    half = np.arange(n_bars) >= n_bars // 2
    return np.where(half[:, None] == half[None, :], 0.0, distance)


def test_variant_labels_split_a_label_where_the_ssm_hears_two_grooves() -> None:
    one_label = np.zeros(16, dtype=np.int64)
    ssm = halves_ssm()
    assert arrangement.variant_labels(one_label, ssm, max_distance=0.2).tolist() == [0] * 8 + [1] * 8
    assert arrangement.variant_labels(one_label, ssm, max_distance=1.0).tolist() == [0] * 16, "closer: one"
    lonely = ssm.copy()
    lonely[5, :] = lonely[:, 5] = 0.9
    lonely[5, 5] = 0.0
    lonely[5, :8] = lonely[:8, 5] = np.where(np.arange(8) == 5, 0.0, 0.5)  # nearer its own half
    variants = arrangement.variant_labels(one_label, lonely, max_distance=0.2)
    assert variants[5] == variants[0], "a bar alone joins the variant it is nearest to"
    two_labels = np.repeat([0, 1], 8)
    across = arrangement.variant_labels(two_labels, np.zeros((16, 16)), max_distance=0.2)
    assert across.tolist() == two_labels.tolist(), "bars of different labels never share a variant"


def test_variants_of_one_label_play_grooves_that_differ_as_the_ssm_says(rng) -> None:
    p = rock_probabilities(16, rng=rng)  # the model hears every bar the same
    found = Sections.whole_song(16)
    kw = dict(drummer=drummer_model(), rng=rng, ssm=halves_ssm())
    split = arrangement.arrange(
        p, found, settings=settings(variation=0.0, fills=0.0, contrast=10.0, variant_distance=0.2), **kw
    )
    first, second = split.grid[0] > 0, split.grid[8] > 0
    assert int((first != second).sum()) == 4, "10 x distance 0.4 = 4 cells between the two variants"
    assert all(((split.grid[b] > 0) == second).all() for b in range(8, 16)), "a variant repeats"
    whole = arrangement.arrange(
        p, found, settings=settings(variation=0.0, fills=0.0, contrast=10.0, variant_distance=1.0), **kw
    )
    assert ((whole.grid[0] > 0) == (whole.grid[8] > 0)).all(), "variant_distance 1: one groove"
    with pytest.raises(ParameterError):
        load_config("default", arrangement={"variant_distance": 0.0})


def test_fills_into_a_section_heard_before_take_only_the_last_beat(rng) -> None:
    p = rock_probabilities(24, rng=rng)
    found = Sections(starts=np.array([0, 8, 16]), labels=("A", "B", "A"), n_bars=24)
    drummer = drummer_model()
    drummer = DrummerModel(
        **{**drummer.__dict__, "fill_starts": np.array([8, 12]), "fill_start_probs": np.array([0.5, 0.5])}
    )
    starts_into_new, starts_into_repeat = set(), set()
    for seed in range(12):
        result = arrangement.arrange(
            p, found, drummer=drummer, settings=settings(fills=1.0), rng=np.random.default_rng(seed)
        )
        assert result.fills[7] and result.fills[15]
        starts_into_new.add(int(result.fill_starts[7]))
        starts_into_repeat.add(int(result.fill_starts[15]))
    assert starts_into_new == {8, 12}, "into a new section: the learned starts, two beats or one"
    assert starts_into_repeat == {arrangement.SHORT_FILL_START}, "into a section heard before: one beat"


def test_fills_are_drawn_whole_from_the_fill_library(rng) -> None:
    p = rock_probabilities(24, rng=rng)
    found = Sections(starts=np.array([0, 8, 16]), labels=("A", "B", "A"), n_bars=24)
    voice = {name: FILL_VOICES.index(name) for name in FILL_VOICES}
    snare_run = [-1] * 8 + [voice["snare"]] * 4 + [voice["tom_mid"]] * 2 + [voice["tom_low"]] * 2
    last_beat = [-1] * 12 + [voice["snare"], voice["rest"], voice["snare"], voice["kick"]]
    drummer = dataclasses.replace(
        drummer_model(), fill_patterns=np.array([snare_run, last_beat]), fill_pattern_counts=np.array([3, 1])
    )
    played_into_new = set()
    for seed in range(12):
        result = arrangement.arrange(
            p, found, drummer=drummer, settings=settings(fills=1.0), rng=np.random.default_rng(seed)
        )
        for bar in (7, 15):
            start = int(result.fill_starts[bar])
            pattern = snare_run if start == 8 else last_beat
            pieces = kit.to_pieces((result.grid[bar] > 0)[None])[0] > 0  # (n_pieces, 16)
            for step in range(start, 16):
                name = FILL_VOICES[pattern[step]]
                played = {kit.PIECES[i] for i in np.flatnonzero(pieces[:, step])}
                assert played == (set() if name == "rest" else {name}), (bar, step)
        played_into_new.add(int(result.fill_starts[7]))
        assert result.fill_starts[15] == 12, "into a section heard before: the one-beat fill only"
    assert played_into_new == {8, 12}, "into a new section: either fill, as often as it was played"


def test_velocities_follow_the_drummer_table_and_section_loudness(rng) -> None:
    p = rock_probabilities(8, rng=rng)
    found = Sections(starts=np.array([0, 4]), labels=("A", "B"), n_bars=8)
    loud = np.r_[np.zeros(4), np.ones(4)]
    result = arrangement.arrange(
        p, found, drummer=drummer_model(), settings=settings(fills=0.0), bar_loudness=loud, rng=rng
    )
    assert result.grid[0, SNARE_A, 4] > result.grid[0, HAT, 2], "backbeat louder than hats"
    assert result.grid[5, SNARE_A, 4] > result.grid[1, SNARE_A, 4], "the louder section plays louder"
    assert metrics.velocity_std(result.grid) >= 8


def vae_velocity_of(n_bars: int, *, snare: float, hat: float) -> np.ndarray:
    """A VAE velocity output: 90 everywhere, the given snare and closed-hat velocities."""
    v = np.full((n_bars, 46, 16), 90.0, dtype=np.float32)
    v[:, SNARE_A] = snare
    v[:, HAT] = hat
    return v


def test_vae_velocities_decide_whether_the_backbeat_is_louder_than_the_hats(rng) -> None:
    p = rock_probabilities(8, rng=rng)
    found = Sections(starts=np.array([0, 4]), labels=("A", "B"), n_bars=8)
    kw = {"drummer": drummer_model(), "settings": settings(fills=0.0), "rng": rng}
    accented = arrangement.arrange(p, found, vae_velocity=vae_velocity_of(8, snare=115, hat=70), **kw)
    assert accented.grid[0, SNARE_A, 4] == 115 and accented.grid[0, HAT, 2] == 70
    # the table says snare 105 over hats 80; a VAE that hears loud hats wins over it
    inverted = arrangement.arrange(p, found, vae_velocity=vae_velocity_of(8, snare=60, hat=110), **kw)
    assert inverted.grid[0, SNARE_A, 4] == 60 < inverted.grid[0, HAT, 2] == 110
    assert ((accented.grid > 0) == (inverted.grid > 0)).all(), "velocities never change the hits"
    loud = np.r_[np.zeros(4), np.ones(4)]
    scaled = arrangement.arrange(
        p, found, vae_velocity=vae_velocity_of(8, snare=100, hat=70), bar_loudness=loud, **kw
    )
    low, high = arrangement.SECTION_LOUDNESS_RANGE
    assert scaled.grid[0, SNARE_A, 4] == round(100 * low) and scaled.grid[4, SNARE_A, 4] == round(100 * high)
    with pytest.raises(ParameterError, match="vae_velocity"):
        arrangement.arrange(p, found, vae_velocity=np.zeros((8, 46, 8)), **kw)


def test_vae_velocities_are_pooled_over_each_section_label(rng) -> None:
    p = rock_probabilities(12, rng=rng)
    found = Sections(starts=np.array([0, 4, 8]), labels=("A", "B", "A"), n_bars=12)
    v = rng.uniform(40.0, 120.0, size=(12, 46, 16))
    result = arrangement.arrange(
        p,
        found,
        drummer=drummer_model(),
        settings=settings(variation=0.0, fills=0.0),
        vae_velocity=v,
        rng=rng,
    )
    a_bars = [0, 1, 2, 3, 8, 9, 10, 11]
    for first, repeat in zip(range(4), range(8, 12), strict=True):
        np.testing.assert_array_equal(result.grid[first], result.grid[repeat])  # the A's play alike
    hits = result.grid > 0
    expected = np.where(hits[0], np.clip(np.round(v[a_bars].mean(axis=0)), 1, 127), 0)
    np.testing.assert_array_equal(result.grid[0], expected)
    expected_b = np.where(hits[5], np.clip(np.round(v[4:8].mean(axis=0)), 1, 127), 0)
    np.testing.assert_array_equal(result.grid[5], expected_b)


def test_table_velocities_reproduce_the_drummer_table(rng) -> None:
    """Without the VAE's velocities (or with velocity_source "table") the numbers are the
    drummer table's times the section factor, as before the VAE had a velocity output."""
    from drumgen import generation
    from drumgen.drummer import bar_loudness

    p = rock_probabilities(8, rng=rng)
    found = Sections(starts=np.array([0, 4]), labels=("A", "B"), n_bars=8)
    plain = arrangement.arrange(p, found, drummer=drummer_model(), settings=settings(fills=0.0), rng=rng)
    assert (plain.grid[0, SNARE_A, 4], plain.grid[0, HAT, 2], plain.grid[0, KICK_A, 0]) == (105, 80, 110)
    cqts = np.random.default_rng(1).integers(0, 255, size=(8, 84, 96), dtype=np.uint8)
    v = vae_velocity_of(8, snare=60, hat=110)
    for source, follows_vae in (("table", False), ("vae", True)):
        config = load_config("default", arrangement={"velocity_source": source, "fills": 0.0})
        arranged = generation.arrange_song(
            p,
            found,
            vae_velocity=v,
            bar_cqts=cqts,
            part_onsets=None,
            drummer=drummer_model(),
            config=config,
            seed=0,
        )[0]
        table = drummer_model().velocity if not follows_vae else v
        factor = arrangement._section_loudness(bar_loudness(cqts), found)
        expected = np.where(arranged.grid > 0, np.clip(np.round(table * factor[:, None, None]), 1, 127), 0)
        np.testing.assert_array_equal(arranged.grid, expected)
    assert load_config("default").arrangement.velocity_source == "vae"
    with pytest.raises(ParameterError, match="velocity_source"):
        load_config("default", arrangement={"velocity_source": "loud"})


def test_layout_rests_where_the_chance_is_high(rng) -> None:
    p = rock_probabilities(8, rng=rng)
    found = Sections(starts=np.array([0, 4]), labels=("A", "B"), n_bars=8)
    rest = np.r_[np.full(4, 0.9), np.full(4, 0.05)]
    result = arrangement.arrange(
        p,
        found,
        drummer=drummer_model(),
        settings=settings(layout_threshold=0.5, max_rest_share=0.5),
        rest_chance=rest,
        rng=rng,
    )
    assert result.resting.tolist() == [True] * 4 + [False] * 4
    assert not (result.grid[:4] > 0).any() and (result.grid[4:] > 0).any(axis=(1, 2)).all()
    always = arrangement.arrange(
        p, found, drummer=drummer_model(), settings=settings(play_always=True), rest_chance=rest, rng=rng
    )
    assert not always.resting.any()


def test_layout_never_rests_more_than_its_share_of_the_song(rng) -> None:
    p = rock_probabilities(10, rng=rng)
    found = Sections(starts=np.array([0, 5]), labels=("A", "B"), n_bars=10)
    rest = np.array([0.9, 0.8, 0.95, 0.7, 0.85, 0.6, 0.65, 0.75, 0.9, 0.3])  # a song heard as bare throughout
    result = arrangement.arrange(
        p,
        found,
        drummer=drummer_model(),
        settings=settings(layout_threshold=0.2, max_rest_share=0.3),
        rest_chance=rest,
        rng=rng,
    )
    assert result.resting.sum() == 3, "at most 30 % of 10 bars"
    smoothed = 0.5 * rest + 0.5 * np.repeat([rest[:5].mean(), rest[5:].mean()], 5)
    assert set(np.flatnonzero(result.resting)) == set(np.argsort(-smoothed)[:3]), "the likeliest rests"
    assert (result.grid[~result.resting] > 0).any(axis=(1, 2)).all(), "every other bar plays"
    with pytest.raises(ParameterError, match="max_rest_share"):
        load_config("default", arrangement={"max_rest_share": 1.5})


def test_arrange_checks_shapes(rng) -> None:
    with pytest.raises(ParameterError):
        arrangement.arrange(
            np.zeros((4, 46, 16)),
            Sections.whole_song(5),
            drummer=drummer_model(),
            settings=settings(),
            rng=rng,
        )


def _song_with_intro(seed: int) -> SongData:
    """16 bars: 4 bars of piano alone without drums, then a band with a rock groove."""
    rng = np.random.default_rng(seed)
    drums = np.zeros((16, 46, 16), dtype=np.uint8)
    drums[4:, KICK_A, [0, 8]] = 100
    drums[4:, SNARE_A, [4, 12]] = 110
    drums[4:, HAT, 0::2] = 70
    drums[11, pitch_to_row(48), 12:] = 90  # a fill before bar 12
    onsets = np.zeros((16, len(parts.PART_FAMILIES), 16), dtype=np.uint8)
    onsets[:, parts.PART_FAMILIES.index("keys"), 0::4] = 3
    onsets[4:, parts.PART_FAMILIES.index("bass"), 0::2] = 1
    cqts = rng.integers(0, 60, size=(16, 84, 96), dtype=np.uint8)
    cqts[4:] += 80
    ssm = np.ones((16, 16), dtype=np.float32)
    for block in ((0, 4), (4, 12), (12, 16)):
        ssm[block[0] : block[1], block[0] : block[1]] = 0.0
    np.fill_diagonal(ssm, 0.0)
    return SongData(
        song_id=f"s{seed}",
        genre="rock",
        arrays={"drum_grids": drums, "part_onsets": onsets, "bar_cqts": cqts, "drum_ssm": ssm},
    )


def test_fit_drummer_learns_velocities_fills_and_rests(tmp_path: Path) -> None:
    songs = [_song_with_intro(seed) for seed in range(6)]
    model = fit_drummer(songs, settings=load_config("default").drum_changes)
    assert model.velocity[SNARE_A, 4] == pytest.approx(110) and model.velocity[HAT, 2] == pytest.approx(70)
    assert metrics.fill_bars(songs[0].arrays["drum_grids"])[11]
    assert model.info["fill_before_change_rate"] > 0 and 12 in model.fill_starts
    high_tom = FILL_VOICES.index("tom_high")
    assert model.fill_patterns is not None and model.fill_pattern_counts is not None
    assert model.fill_patterns.tolist() == [[-1] * 12 + [high_tom] * 4], "the one fill, kept whole"
    assert model.fill_pattern_counts.tolist() == [6], "played once in each of the 6 songs"
    rest = model.rest_chance(layout_features(songs[0].arrays["bar_cqts"], songs[0].arrays["part_onsets"]))
    assert rest[:4].min() > 0.5 > rest[4:].max(), "rests in the piano intro, plays with the band"

    save_drummer(model, tmp_path / "drummer", meta={"note": "test"})
    loaded = load_drummer(tmp_path / "drummer")
    assert model.layout_trees is not None and loaded.layout_trees is not None
    assert loaded.arrays().keys() == model.arrays().keys()
    for name, values in model.arrays().items():
        np.testing.assert_array_equal(loaded.arrays()[name], values)
    features = layout_features(songs[1].arrays["bar_cqts"], songs[1].arrays["part_onsets"])
    np.testing.assert_array_equal(loaded.rest_chance(features), model.rest_chance(features))
    # a model without lay-out trees (formats 1-3) lays out with its logistic regression, as before
    logistic = dataclasses.replace(model, layout_trees=None).rest_chance(features)
    z = (features - model.layout_mean) / model.layout_std
    expected = 1 / (1 + np.exp(-(z @ model.layout_weights[:-1] + model.layout_weights[-1])))
    np.testing.assert_allclose(logistic, expected)
    assert logistic[:4].min() > 0.5 > logistic[4:].max()
    with pytest.raises(Exception, match="already exists"):
        save_drummer(model, tmp_path / "drummer", meta={})
    weights = tmp_path / "drummer" / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:-1] + b"x")
    with pytest.raises(ModelError, match="checksum"):
        load_drummer(tmp_path / "drummer")
    with pytest.raises(ModelError, match="no drummer model"):
        load_drummer(tmp_path / "missing")


def test_fit_drummer_learns_its_tables_from_4_4_bars_and_the_lay_out_from_every_bar() -> None:
    """A song in 3/4 (12 steps on a 16-step canvas) plays its snare on step 8 (beat 3) with
    another velocity: the velocity table, learned from 16-step bars, does not see it; the lay-out
    classifier learns from its bars all the same."""
    songs = [_song_with_intro(seed) for seed in range(6)]
    waltz = _song_with_intro(6)
    grids = waltz.arrays["drum_grids"]
    grids[4:, SNARE_A] = 0
    grids[4:, SNARE_A, 8] = 40
    grids[:, :, 12:] = 0
    waltz.arrays["part_onsets"][:, :, 12:] = 0
    waltz.arrays["bar_meters"] = np.tile(np.array([3, 4], np.int16), (16, 1))
    with_waltz = fit_drummer([*songs, waltz], settings=load_config("default").drum_changes)
    alone = fit_drummer(songs, settings=load_config("default").drum_changes)
    np.testing.assert_array_equal(with_waltz.velocity, alone.velocity)
    assert with_waltz.info["n_bars"] == alone.info["n_bars"] + 16


def test_fit_drummer_needs_songs() -> None:
    with pytest.raises(ParameterError):
        fit_drummer([], settings=load_config("default").drum_changes)
