"""ISO/IEC 30107-3 rates against values worked out by hand, and session aggregation."""

import math

import pytest

import liveness  # noqa: F401  (load order: before TensorFlow)
from liveness.pad.metrics import nested_threshold_rates, pad_metrics
from liveness.passive import aggregate, load_passive_model

# Accepted as live when score >= 0.5.
LIVE = [0.9, 0.8, 0.7, 0.4]
ATTACKS = {"print": [0.1, 0.2, 0.6], "replay": [0.3, 0.55]}


def test_rates_at_threshold_match_hand_count():
    m = pad_metrics(LIVE, ATTACKS, threshold=0.5)
    # print: 0.6 accepted of 3; replay: 0.55 accepted of 2; the worst species counts.
    assert m.apcer_per_species == {"print": pytest.approx(1 / 3), "replay": pytest.approx(0.5)}
    assert m.apcer == pytest.approx(0.5)
    assert m.bpcer == pytest.approx(0.25)  # 0.4 rejected of 4 live
    assert m.acer == pytest.approx(0.375)
    assert m.bona_fide == 4 and m.attacks_per_species == {"print": 3, "replay": 2}


def test_eer_auc_and_bpcer_at_fixed_apcer_match_hand_values():
    m = pad_metrics(LIVE, ATTACKS, threshold=0.5)
    # Pooled attacks 0.1 0.2 0.3 0.55 0.6. At t=0.55: APCER 2/5, BPCER 1/4; at t=0.6:
    # APCER 1/5, BPCER 1/4. The lines meet 3/4 of the way: EER 0.25 at t=0.5875.
    assert m.eer == pytest.approx(0.25)
    assert m.eer_threshold == pytest.approx(0.5875)
    # 18 of the 20 (live, attack) pairs are ordered right (0.4 beats only 3 attacks).
    assert m.auc == pytest.approx(0.9)
    # APCER <= 1% and <= 5% both need t > 0.6, where 0.4 alone is rejected.
    assert m.bpcer_at_apcer_1pct == pytest.approx(0.25)
    assert m.bpcer_at_apcer_5pct == pytest.approx(0.25)


def test_perfect_separation_and_exact_crossing():
    perfect = pad_metrics([0.8, 0.9], {"print": [0.1, 0.2]}, threshold=0.5)
    assert (perfect.apcer, perfect.bpcer, perfect.acer, perfect.eer, perfect.auc) == (0, 0, 0, 0, 1)
    # Scores 0.2 0.4 | 0.3 0.6: at t=0.4 one of each side errs: APCER = BPCER = 1/2.
    crossing = pad_metrics([0.2, 0.6], {"print": [0.3, 0.4]}, threshold=0.35)
    assert crossing.eer == pytest.approx(0.5)
    assert crossing.apcer == pytest.approx(0.5) and crossing.bpcer == pytest.approx(0.5)
    assert crossing.auc == pytest.approx(0.5)


def test_nested_thresholds_come_from_the_other_folds_only():
    folds = [([0.9, 0.6], {"print": [0.1]}),
             ([0.8], {"print": [0.2, 0.7]}),
             ([0.4], {"print": [0.3]})]
    r = nested_threshold_rates(folds)
    # Fold 1 from folds 2+3 (live 0.8 0.4, attacks 0.2 0.3 0.7): at t=0.4 APCER 1/3
    # BPCER 0, at t=0.7 APCER 1/3 BPCER 1/2; they meet 2/3 of the way: t=0.6.
    # Fold 2 from 1+3 (live 0.9 0.6 0.4, attacks 0.1 0.3): both 0 at t=0.4.
    # Fold 3 from 1+2 (live 0.9 0.8 0.6, attacks 0.1 0.2 0.7): both 1/3 at t=0.7.
    assert r.thresholds == pytest.approx([0.6, 0.4, 0.7])
    # Decided at those: fold 2 accepts its attack 0.7, fold 3 rejects its live 0.4.
    assert [f["bpcer"] for f in r.per_fold] == [0.0, 0.0, 1.0]
    assert [f["apcer_per_species"]["print"] for f in r.per_fold] == [0.0, 0.5, 0.0]
    assert r.apcer == pytest.approx(1 / 4) and r.bpcer == pytest.approx(1 / 4)
    assert r.acer == pytest.approx(1 / 4)


def test_one_class_gives_its_own_rate_only():
    with pytest.raises(ValueError):
        pad_metrics([], {"print": []}, 0.5)
    live = pad_metrics([0.9, 0.2, 0.6, 0.4], {}, 0.5)
    assert live.bpcer == 0.5 and live.bona_fide == 4 and not live.both_classes
    assert live.apcer is None and live.acer is None and live.eer is None and live.auc is None
    attacks = pad_metrics([], {"print": [0.1, 0.7], "replay": [0.8, 0.9]}, 0.5)
    assert attacks.apcer_per_species == {"print": 0.5, "replay": 1.0} and attacks.apcer == 1.0
    assert attacks.bpcer is None and attacks.bpcer_at_apcer_5pct is None


def test_aggregate_median_and_trimmed_mean():
    assert aggregate([]) is None
    assert aggregate([0.2, 0.9, 0.4]) == pytest.approx(0.4)
    # 10 scores: trimmed_mean drops the lowest and highest one.
    scores = [0.0, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 1.0]
    assert aggregate(scores, "trimmed_mean") == pytest.approx(0.55)
    assert math.isclose(aggregate([0.3], "trimmed_mean"), 0.3)
    with pytest.raises(ValueError):
        aggregate([0.5], "mean")


def test_missing_model_file_loads_as_none(tmp_path):
    assert load_passive_model(tmp_path / "absent.tflite") is None
