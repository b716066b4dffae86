"""RESULTS.md's learning rate per config: chosen on validation accuracy only, compared as one
Holm family, and honest about what has not been trained yet."""

import re
from pathlib import Path

import findings
import learning_rates as lr
from conftest import write_results_csv

from cifar10_ablation.reports import report

ROOT = Path(__file__).resolve().parent.parent


def _row(name, rate, seed, test, validation=None, steps=5000):
    switches, _ = findings.NAMED_CONFIGS[name]
    return {
        **switches,
        "lrn": "true",
        "learning_rate": rate,
        "run": f"{name}_lr{rate}_seed{seed}",
        "seed": seed,
        "global_step": steps,
        "test_accuracy": test,
        "validation_accuracy": validation,
    }


def test_the_rates_are_the_ones_the_run_script_tries_and_the_preset_sets():
    script = (ROOT / "docs" / "logs" / "lr" / "run.sh").read_text()
    swept = re.search(r"--sweep=learning_rate=([\d.,]+)", script)[1]
    assert tuple(float(v) for v in swept.split(",")) == lr.VALUES
    assert f"--learning_rate={lr.SHARED_VALUE}\n" in (ROOT / "flags" / "fast.flags").read_text()
    assert f"--batch_size={lr.SHARED_BATCH}\n" in (ROOT / "flags" / "fast.flags").read_text()
    batch = script[script.index("stage 4 &&") :]  # the batch check: the selection's rates
    assert f"--sweep=batch_size={lr.BATCH_CHECKED} " in batch
    assert re.search(r"--sweep=learning_rate=([\d.,]+)", batch)[1] == swept
    assert f"docs/{lr.BATCH_CSV}" in batch and "--flagfile=flags/select.flags" in batch
    full_length = script[script.index("stage 3 &&") : script.index("stage 4 &&")]
    assert "--validation_examples=" in full_length  # chosen on validation, at full length too


def test_the_choice_reads_validation_accuracy_never_test(tmp_path):
    rows = [  # test accuracy would choose 0.01; validation chooses 0.02
        _row("tutorial", rate, 0, test, validation)
        for rate, test, validation in (
            (0.01, 0.90, 0.70),
            (0.02, 0.60, 0.80),
            (0.04, 0.60, 0.75),
            (0.08, 0.60, 0.79),
            (0.16, 0.60, 0.10),
        )
    ] + [_row("conv_linear_max", 0.01, 0, 0.9, 0.7)]  # one of five values trained: no choice
    write_results_csv(tmp_path / lr.SELECTION_CSV, rows)
    choices = lr.choose(report.read_csv(tmp_path / lr.SELECTION_CSV))
    assert choices["tutorial"]["choice"] == 0.02
    assert choices["conv_linear_max"]["choice"] is None
    text, summary = lr.fragments(tmp_path)
    assert (
        "| `tutorial` | 70.00 | **80.00** | 75.00 | 79.00 | 10.00 | 0.02 |"
        in text["lr_selection_table"]
    )
    assert "| `conv_linear_max` | 70.00 | not trained yet |" in text["lr_selection_table"]
    assert "`conv_linear_max`, `finding_conv_relu`, `finding_no_conv_relu`." in " ".join(
        text["lr_pending"].split()
    )
    assert "the tutorial net chooses 0.02, not the preset's 0.04" in " ".join(
        text["lr_stands"].split()
    )


def _select_everything(tmp_path, best):
    """Selection rows where each named config's best validation rate is best[name]."""
    rows = [
        _row(name, rate, 0, 0.5, 0.8 if rate == best[name] else 0.7)
        for name in findings.NAMED_CONFIGS
        for rate in lr.VALUES
    ]
    write_results_csv(tmp_path / lr.SELECTION_CSV, rows)


def test_the_effects_at_the_chosen_rates_mix_the_shared_runs_and_the_new_seeds(tmp_path):
    best = {
        "tutorial": 0.04,
        "conv_linear_max": 0.02,
        "finding_conv_relu": 0.04,
        "finding_no_conv_relu": 0.16,
    }
    _select_everything(tmp_path, best)
    accuracy = {
        "tutorial": 0.83,
        "conv_linear_max": 0.82,
        "finding_conv_relu": 0.79,
        "finding_no_conv_relu": 0.37,
    }
    shared = [
        _row(n, 0.04, s, a + 0.001 * s, steps=20000) for n, a in accuracy.items() for s in range(3)
    ]
    chosen = [  # conv_linear_max gains 1 point at its rate: the max-pool effect goes to ~0
        _row("conv_linear_max", 0.02, s, 0.83 + 0.002 * s, steps=20000) for s in range(3)
    ]  # finding_no_conv_relu's seeds at 0.16 are not committed yet
    write_results_csv(tmp_path / lr.SHARED_CSV, shared)
    assert lr.fragments(tmp_path)[0]["lr_seed_files"] == ""  # no seed finished: no link
    write_results_csv(tmp_path / lr.CHOSEN_CSV, chosen)
    text, summary = lr.fragments(tmp_path)
    assert "rows [`results_fast_lr.csv`](results_fast_lr.csv), curves" in text["lr_seed_files"]
    effects = {(e["pair"][0], e["rates"]): e for e in summary["effects"]}
    per_config = effects[("tutorial", "per config")]
    assert abs(per_config["difference"] - (0.831 - 0.832)) < 1e-9  # seed means, paired
    assert effects[("finding_conv_relu", "per config")]["pending"] == "seeds"
    assert per_config["family"] == 3  # the three effects with seeds, one Holm family
    assert "| per config: 0.04 / 0.02 | -0.10 (n=3) |" in text["lr_effects_table"]
    assert "| seeds not trained yet |" in text["lr_effects_table"]
    assert "Holm-adjusted over the 3 effects of this table" in text["lr_effects_note"]
    assert " ".join(text["lr_edge"].split()).startswith(
        "At the edge of the rates tried: `finding_no_conv_relu` (0.16). A config's best rate"
    )
    said = " ".join(text["lr_survives"].split())  # the finding pair is pending: only max pool
    assert said.startswith("With a rate chosen per config, `tutorial` against `conv_linear_max`: ")
    assert (
        "points at the shared rate (separated), -0.10 at the chosen rates (not separated): "
        "the verdict changes." in said
    )
    assert "`finding_conv_relu`" not in said
    glance = findings.at_a_glance(*_named(tmp_path), text["lr_glance"])  # the page's opening
    assert (
        "**With a learning rate per config**, each chosen on validation data (fast preset), the "
        "conv-ReLU effects: `tutorial` − `conv_linear_max` -0.10 points (not separated; "
        in " ".join(glance.split())
    )
    assert "at the shared rate, the verdict changes)." in " ".join(glance.split())


def _named(src_dir):
    """(named, presets) of the fast preset's CSV, as build_docs reads them."""
    presets = {"fast": report.read_csv(Path(src_dir) / lr.SHARED_CSV)}
    return findings.describe_named(presets), presets


def test_the_full_length_check_says_whether_the_short_choice_holds(tmp_path):
    # the tutorial net's seeds at the preset: sd 0.2 points, so two single runs differ by seed
    # alone by up to t(2) x 0.2 x sqrt(2) = 1.22 points (95%)
    spread = (0.830, 0.832, 0.828)

    def check(measured, choice, spread=spread):
        rows = [_row("tutorial", r, 0, 0.5, v, steps=20000) for r, v in measured]
        write_results_csv(tmp_path / lr.FULL_LENGTH_CSV, rows)
        return lr.full_length(report.read_csv(tmp_path / lr.FULL_LENGTH_CSV), choice, spread)

    all_three = ((0.02, 0.80), (0.04, 0.83), (0.08, 0.825))
    assert check(all_three, 0.04).endswith(
        "The short selection's choice, 0.04, holds (one seed each)."
    )
    # 3 points above the choice is beyond what seed alone makes two single runs differ by
    assert (
        "0.02, does not hold: 0.04 is best at full length, 3.00 points above it, against ±1.22"
        " points (95%) that two single runs differ by seed alone (the tutorial net's test "
        "accuracy at the preset: sd 0.20 points over 3 seeds)" in check(all_three, 0.02)
    )
    # 0.5 points is within it: at one seed each, no verdict against the choice, and said so
    within = check(all_three, 0.08)
    assert "At full length the same rule picks 0.04, not 0.08: 0.04 reads 0.50 points" in within
    assert within.endswith("cannot tell whether the short selection's choice holds at full length.")
    # without two seeds at the preset there is no yardstick: no verdict
    assert "no verdict until the tutorial net has 2 seeds" in check(all_three, 0.02, spread[:1])
    # stage 3 trains one rate at a time: a part of them is no verdict either way
    assert check(all_three[:1], 0.04).endswith("not measured at full length yet: no verdict.")
    assert check(all_three[:2], 0.04).endswith("no verdict until a rate on each side of it is in.")
    # ...unless a rate measured beats the choice beyond the sampling error
    assert "does not hold: 0.04 is best" in check(all_three[:2], 0.02)
    assert lr.full_length([], 0.04).startswith("Not measured yet")


def test_the_batch_check_sets_the_preset_s_batch_against_the_other_on_validation():
    def trials(best, size):
        return [
            _row("tutorial", rate, 0, 0.9, best - abs(rate - 0.04), steps=5000)
            | {"batch_size": size}
            for rate in lr.VALUES
        ]

    spread = (0.830, 0.832, 0.828)  # two single runs differ by seed alone by up to 1.22 points
    shared = trials(0.81, 256)
    text, checked = lr.batch_check(shared, trials(0.80, 128)[:-1], spread)
    assert not checked and text.startswith("The preset's batch size is not re-checked yet")
    text, checked = lr.batch_check(shared, trials(0.80, 128), spread)
    assert checked
    assert "best at batch 256 is 81.00% (rate 0.04), at batch 128 80.00% (rate 0.04)" in text
    assert text.endswith(
        "Batch 256 stands: the rule picks it, 1.00 points above batch 128, against ±1.22 points "
        "(95%) that two single runs differ by seed alone (the tutorial net's test accuracy at the "
        "preset: sd 0.20 points over 3 seeds), so the lead itself is not told from seed noise at "
        "one seed each."
    )
    text, _ = lr.batch_check(shared, trials(0.79, 128), spread)  # 2 points: beyond seed noise
    assert "stands: the rule picks it, 2.00 points above batch 128" in text
    assert text.endswith("3 seeds), beyond what seed alone gives.")
    assert lr.batch_check(shared, trials(0.80, 128), spread[:1])[0].endswith(
        "Batch 256 stands (one seed each)."
    )
    text, _ = lr.batch_check(shared, trials(0.815, 128), spread)
    assert text.endswith("one seed each cannot tell the two batch sizes apart.")
    assert "Batch 128 reads 0.50 points above it, against ±1.22 points (95%)" in text
    text, _ = lr.batch_check(shared, trials(0.83, 128), spread)
    assert "Batch 256 does not stand: batch 128 reads 2.00 points above it" in text
