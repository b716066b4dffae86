"""docs/BEYOND.md from synthetic CSVs: sections appear with their CSVs, drops and answers follow
the numbers, published rows need their source."""

import csv

import beyond
import build_docs
import pytest
from conftest import write_results_csv
from experiments import EXPERIMENTS

from cifar10_ablation.reports import report

PUBLISHED = {
    "key": "he2016_resnet20_c10",
    "source": "He et al. (2016). Deep Residual Learning for Image Recognition. CVPR.",
    "where": "Table 6, ResNet-20",
    "arch": "ResNet-20",
    "dataset": "cifar10",
    "setting": "all ReLUs, 8.75% error",
    "test_accuracy": "0.9125",
    "url": "https://arxiv.org/abs/1512.03385",
}


def _write(path, accuracies, minutes=10.0, fc_activation="relu"):
    """A results CSV as report.py writes it: {(conv_activation, pool): [accuracy per seed]}."""
    rows = [
        {
            "conv_activation": conv,
            "fc_activation": fc_activation,
            "pool": pool,
            "lrn": "false",
            "run": f"conv-{conv}_pool-{pool}_seed{seed}",
            "seed": seed,
            "global_step": 15000,
            "test_accuracy": accuracy,
            "test_accuracy_raw": accuracy,
            "train_seconds_total": 60 * minutes,
            "wall_seconds": 60 * minutes + 30,
        }
        for (conv, pool), by_seed in accuracies.items()
        for seed, accuracy in enumerate(by_seed)
    ]
    write_results_csv(path, rows)


# The baseline: the tutorial net's quick preset with the FC ReLUs off, as in the finding; conv
# ReLU drops of 37.5 points with avg pooling and 3.0 with max, both separated.
TUTORIAL_QUICK = {
    ("relu", "avg"): [0.745, 0.750, 0.755],
    ("linear", "avg"): [0.372, 0.375, 0.378],
    ("relu", "max"): [0.740, 0.745, 0.750],
    ("linear", "max"): [0.712, 0.715, 0.718],
}


@pytest.fixture
def synthetic(docs_copy):
    _write(docs_copy / "results_quick.csv", TUTORIAL_QUICK, fc_activation="linear")
    return docs_copy


RESNET = {
    ("relu", "avg"): [0.90, 0.91, 0.905],
    ("linear", "avg"): [0.40, 0.41, 0.42],
    ("relu", "max"): [0.90, 0.90, 0.91],
    ("linear", "max"): [0.90, 0.91, 0.90],
}


def test_no_beyond_csv_leaves_only_the_baseline(synthetic):
    build_docs.write_docs(synthetic)
    text = (synthetic / "BEYOND.md").read_text()
    assert "## ResNet-20" not in text and "## What others report" not in text
    baseline = "- the tutorial net on CIFAR-10 (quick preset), pool="
    text = " ".join(text.split())
    assert f"{baseline}avg: 37.50 points (95% interval" in text
    assert (
        f"{baseline}max: 3.00 points (95% interval 2.50 to 3.50; paired by seed, n=3; p=0.0015, "
        "Holm-adjusted p=0.0015)" in text
    )
    assert "Holm-adjusted over the 2 drops and leads of this answer" in text
    assert "{{" not in text


def test_a_section_per_csv_with_drops_answers_and_the_published_figure(synthetic):
    _write(synthetic / "beyond_resnet20.csv", RESNET, minutes=12)
    _write_published(synthetic / beyond.PUBLISHED_CSV, PUBLISHED)
    build_docs.write_docs(synthetic)
    text = " ".join((synthetic / "BEYOND.md").read_text().split())
    assert "## ResNet-20 on CIFAR-10" in text and "## What others report" in text
    # fc_activation and lrn are in the CSV but not ResNet-20's switches: the text leaves them out
    assert "12 runs of 15,000 steps (`flags/resnet20.flags`). Time per run" in text
    # relu minus linear: 0.905 - 0.41 with avg (separated), 0.0033 with max (not separated)
    assert "conv_activation relu minus linear, pool=avg: 49.50 points (95% interval" in text
    assert "conv_activation relu minus linear, pool=max: not separated at this n" in text
    assert "Verdicts are Holm-adjusted over the 2 drops of this section with an interval" in text
    largest = "the largest conv-ReLU drop separated from 0 is in"
    none = "Without max pooling (average pooling or strided downsampling)"
    assert f"{none}, {largest} ResNet-20" in text
    # that drop is read as the ReLU net's accuracy above the affine floor, said once
    assert text.count(beyond.AFFINE_READING) == 1
    assert f"With max pooling kept, {largest} the tutorial net" in text
    assert "one run took 12 minutes (CPU not recorded, 2 cores) and all 12 runs" in text
    assert "all 12 runs of its grid at most 2.5 hours, within a day" in text
    assert "Published for ResNet-20: 91.25% (He et al. (2016)." in text
    assert (
        "best config here (conv_activation=relu, pool=avg, picked after the runs from 4) 90.5%, "
        "-0.8 points (within its 95% interval [89.3, 91.7])" in text
    )


def _write_depth(path, configs):
    """A depth_<net>.csv: {(conv_activation, downsample, stage_activations): (accuracy per seed,
    activation_units, max_pool_windows)}, runs of 2.2 hours."""
    rows = [
        {"conv_activation": conv, "fc_activation": "relu", "pool": "avg", "lrn": "false"}
        | {"downsample": down, "stage_activations": stages, "run": f"{conv}{down}{stages}{seed}"}
        | {"seed": seed, "global_step": 2900, "test_accuracy": accuracy, "wall_seconds": 7920}
        | {"activation_units": units, "max_pool_windows": windows}
        for (conv, down, stages), (accuracies, units, windows) in configs.items()
        for seed, accuracy in enumerate(accuracies)
    ]
    write_results_csv(path, rows)


def test_a_bigger_net_has_its_section_and_its_costs_lead_the_answer_to_question_3(synthetic):
    last_stage = "linear+linear+linear+relu"
    _write_depth(
        synthetic / EXPERIMENTS["resnet18"].csv,
        {
            ("relu", "stride", ""): ([0.880, 0.890, 0.885], 550_000, 0),
            ("relu", "stride", last_stage): ([0.800, 0.810, 0.805], 12_000, 0),
            ("linear", "max", ""): ([0.600, 0.610, 0.620], 0, 2_000),
            ("linear", "stride", ""): ([0.395], 0, 0),  # the affine floor: one seed checks it
        },
    )  # the grid of docs/logs/depth/run.sh for ResNet-18: no ReLU net with downsample=max
    key = EXPERIMENTS["resnet18"].published
    _write_published(synthetic / beyond.PUBLISHED_CSV, {**PUBLISHED, "key": key, "arch": "R18"})
    build_docs.write_docs(synthetic)
    text = " ".join((synthetic / "BEYOND.md").read_text().split())
    bigger = text.index("## The runs behind question 3: nets bigger than the tutorial net")
    assert bigger < text.index("### ResNet-18 on CIFAR-10")
    assert "Time per run: 2.2 hours (" in text
    # on its published input, so the short schedule alone is named
    assert (
        "(conv_activation=relu, downsample=stride, picked after the runs from 4) 88.5%, -2.7 "
        "points. Besides the data (a JPEG copy, [`DATA.md`](DATA.md); what it costs the tutorial "
        "net against its published figures: [`RESULTS.md`](RESULTS.md)), the two differ in the "
        "short schedule." in text
    )
    # relu minus linear per downsampling; the unset stage_activations is not named
    assert (
        "- ResNet-18 on CIFAR-10, downsample=stride: 49.00 points (n=3 and 1: the affine floor, "
        "which one seed checks)" in text
    )
    # no ReLU net with max-pool downsampling: the no-ReLU one is set against the published net;
    # a ResNet's max-pool downsampling is max pooling kept, and beats the tutorial net's 3.0
    largest = "the largest conv-ReLU drop separated from 0 is in ResNet-18 on CIFAR-10"
    against = "against the published net (all ReLUs, downsample=stride)"
    assert f"With max pooling kept, {largest}, with downsample=max, {against}: 27.5 points" in text
    # the one-seed affine floor is said as such, not as a drop waiting for seeds
    assert (
        "ResNet-18 on CIFAR-10 with no ReLU and downsample=stride keeps no non-linear layer, so "
        "it is one affine map: the ReLU net lies 49.0 points above that floor (n=3 and 1;" in text
    )
    assert "Not weighed yet" not in text
    assert (
        "| no activation, no max pool | conv_activation=linear, downsample=stride | +49.00 "
        "(n=3 and 1) | the affine floor, which one seed checks |" in text
    )
    # Q3: the bigger net's costs per amount kept come before every net's drops
    costs = text.index("The bigger nets, per amount of non-linearity kept")
    assert costs < text.index("The conv-ReLU drop per net and setting") < text.index("## ResNet-18")
    # stage_activations overrides conv_activation: the budget config is named without it
    budget = "| 12,000 of 550,000 activation units | downsample=stride, stage_activations="
    budget += f"{last_stage} |"
    assert budget in text
    # the experiments with no CSV are named as not run, above the answers; ResNet-18 is in
    not_run = text[text.index("Not run yet") : text.index("**Is there a net")]
    assert "ResNet-56 on CIFAR-10" in not_run and "ResNet-18" not in not_run
    assert "[`logs/beyond/run.sh`](logs/beyond/run.sh), [`logs/depth/run.sh`]" in not_run


def test_the_bigger_net_s_first_pair_alone_reads_right(synthetic):
    # depth stage 1: the pair, stage_activations unset (empty) in every run: not named as a
    # setting, and its one cost is one
    pair = {
        ("relu", "stride", ""): ([0.880, 0.890, 0.885], 550_000, 0),
        ("linear", "max", ""): ([0.600, 0.610, 0.620], 0, 2_000),
    }
    _write_depth(synthetic / EXPERIMENTS["resnet18"].csv, pair)
    key = EXPERIMENTS["resnet18"].published
    _write_published(synthetic / beyond.PUBLISHED_CSV, {**PUBLISHED, "key": key, "arch": "R18"})
    build_docs.write_docs(synthetic)
    text = " ".join((synthetic / "BEYOND.md").read_text().split())
    assert "6 runs of 2,900 steps (`flags/resnet18.flags`); in every run pool=avg. Time" in text
    assert "One Holm family per net, 1 cost with an interval in all" in text


def test_answers_say_so_when_no_net_has_both_sides_yet():
    q2, q3 = beyond.answers([{"title": "the tutorial net on CIFAR-10", "drops": []}])
    assert q2 == "No net and dataset here has a conv-ReLU drop separated from 0 yet."
    assert q3 == "- None yet: no net has runs both with and without its conv ReLUs."


def test_answers_say_per_pool_where_no_drop_is_separated():
    def drop(pool, difference, low, p, n=3):
        found = {"field": "conv_activation", "context": {"pool": pool}, "method": "paired"}
        high = None if low is None else difference + 0.02
        found.update(difference=difference, low=low, high=high, p=p, n_a=n, n_b=n)
        return found

    by_cpu = {"AMD EPYC AVX-512": [10, 12], "AMD EPYC AVX2": [37, 38]}
    entry = {"title": "net A", "minutes": by_cpu, "summary": {"runs": 12}}
    # max: the interval holds 0; avg: separated, p x 2 in a family of 2
    drops = [drop("max", 0.01, -0.01, 0.3), drop("avg", 0.4, 0.3, 0.001)]
    entry |= {"hours_all_runs": 2.2, "drops": drops}
    # net B's larger drop has no interval (2 seeds): it is named as not weighed, not as largest
    unweighed = {"title": "net B", "drops": [drop("avg", 0.5, None, None, n=2)]}
    q2, q3 = beyond.answers([entry, unweighed])
    assert " ".join(q2.split()) == (
        "With max pooling kept, no net's drop is separated from 0. Without max pooling (average "
        "pooling or strided downsampling), the largest conv-ReLU drop separated from 0 is in net "
        "A, with pool=avg: 40.0 points; "
        "one run took 10-12 minutes (AMD EPYC AVX-512, 2 cores), 37-38 minutes (AMD EPYC AVX2, "
        "2 cores) and all 12 runs of its grid at most 2.2 hours, within a day without a GPU. "
        f"{beyond.AFFINE_READING} Not weighed yet, for want of 3 seeds: net B. Verdicts are "
        "Holm-adjusted over the 2 drops and leads of this answer with an interval "
        "([how](../README.md#how-the-comparisons-are-judged))."
    )
    assert "pool=avg: 40.00 points (95% interval 30.00 to 42.00; paired by seed, n=3; p<0.001, "
    assert "Holm-adjusted p=0.002)" in " ".join(q3.split())
    assert drops[1].get("p_holm") is None  # adjusted on copies: the section's verdicts stay


def test_the_largest_drop_is_weighed_against_the_next_nets_by_welch_over_per_seed_drops():
    def entry(title, by_seed):
        values = list(by_seed.values())
        drop = {"field": "conv_activation", "context": {"pool": "avg"}, "method": "paired"}
        drop |= {"by_seed": by_seed, "difference": sum(values) / 3, "low": 0.1, "high": 0.9}
        drop |= {"n_a": 3, "n_b": 3, "p": 0.001}
        return {"title": title, "minutes": {"Intel Xeon AVX-512": [20, 23]}, "drops": [drop]}

    def q2(*entries):
        for e in entries:
            e |= {"summary": {"runs": 4}, "hours_all_runs": 1.5}
        return " ".join(beyond.answers(list(entries))[0].split())

    # 0.47 against 0.46 on the same three seed numbers: paired by seed number, the 0.01 lead (sd
    # 0) would be separated; the nets' seeds are unrelated runs, and Welch's t leaves it open
    close = q2(
        entry("net A", {0: 0.46, 1: 0.47, 2: 0.48}), entry("net B", {0: 0.45, 1: 0.46, 2: 0.47})
    )
    assert "is in net A, with pool=avg: 47.0 points" in close
    # the family: two drops and the lead; t = 1.22 with Welch df 4 (equal variances)
    assert close.endswith(
        "Its lead over the 46.0 points of net B: not separated at this n (1.00 points, 95% "
        "interval -1.27 to 3.27; Welch, n=3; p=0.29, Holm-adjusted p=0.29). "
        f"{beyond.AFFINE_READING} Verdicts are "
        "Holm-adjusted over the 3 drops and leads of this answer with an interval "
        "([how](../README.md#how-the-comparisons-are-judged))."
    )
    far = q2(
        entry("net A", {0: 0.46, 1: 0.47, 2: 0.48}), entry("net B", {0: 0.05, 1: 0.06, 2: 0.07})
    )
    assert (
        "Its lead over the 6.0 points of net B: 41.00 points (95% interval 38.73 to 43.27; "
        "Welch, n=3; p<0.001, Holm-adjusted p<0.001)." in far
    )
    # one net alone has nothing to lead
    assert "Its lead" not in q2(entry("net A", {0: 0.46, 1: 0.47, 2: 0.48}))


def test_drops_are_relu_minus_linear_in_each_setting():
    summary = report.summarize(
        [
            {"conv_activation": c, "pool": p, "seed": s, "test_accuracy": a}
            for (c, p), values in RESNET.items()
            for s, a in enumerate(values)
        ]
    )
    found = {d["context"]["pool"]: d for d in beyond.drops(summary)}
    assert found["avg"]["difference"] == pytest.approx(0.905 - 0.41)
    assert found["avg"]["by_seed"] == pytest.approx({0: 0.50, 1: 0.50, 2: 0.485})
    assert found["avg"]["method"] == "paired" and found["avg"]["low"] > 0
    assert found["max"]["low"] < 0 < found["max"]["high"]


def _write_published(path, row, columns=beyond.PUBLISHED_COLUMNS):
    """published.csv holding one row."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerow(row)


def test_a_published_row_without_its_source_is_refused(tmp_path):
    path = tmp_path / beyond.PUBLISHED_CSV
    _write_published(path, {**PUBLISHED, "where": ""})
    with pytest.raises(ValueError, match="he2016_resnet20_c10 lacks a field"):
        beyond.read_published(path)


def test_a_published_relu_count_is_a_count_shown_with_its_row(tmp_path):
    path = tmp_path / beyond.PUBLISHED_CSV
    columns = (*beyond.PUBLISHED_COLUMNS, beyond.RELU_UNITS)
    for units, expected in (("12897", "| 12,897 | 91.25 |"), ("", "|  | 91.25 |")):
        _write_published(path, {**PUBLISHED, beyond.RELU_UNITS: units}, columns)
        assert beyond.published_table(beyond.read_published(path)).endswith(expected)
    _write_published(path, {**PUBLISHED, beyond.RELU_UNITS: "12.9K"}, columns)
    with pytest.raises(
        ValueError, match="he2016_resnet20_c10 has relu_units='12.9K'; give a count"
    ):
        beyond.read_published(path)


def test_a_gap_to_the_published_figure_that_rounds_to_zero_has_no_minus_sign():
    summary = report.summarize([{"pool": "max", "seed": 0, "test_accuracy": 0.9952}])
    row = {**PUBLISHED, "test_accuracy": 0.9955}
    text = beyond._against_published(summary, row, EXPERIMENTS["mnist"])
    assert "here 99.5%, +0.0 points. Besides the data" in text


def test_the_best_of_several_configs_against_the_published_figure_says_it_was_picked_after():
    rows = [
        {"pool": pool, "seed": seed, "test_accuracy": accuracy + 0.001 * seed}
        for pool, accuracy in (("max", 0.80), ("avg", 0.70))
        for seed in range(3)
    ]
    row = {**PUBLISHED, "test_accuracy": 0.9125}
    text = beyond._against_published(report.summarize(rows), row, EXPERIMENTS["resnet20_pad_crop"])
    assert "the best config here (pool=max, picked after the runs from 2) 80.1%, -11.1 points." in (
        text
    )
    assert "interval" not in text  # the published figure lies far outside it
    assert text.endswith("[`RESULTS.md`](RESULTS.md)), the two differ in the short schedule.")


def test_one_config_of_sub_minute_runs_is_timed_in_seconds_and_not_called_the_best():
    runs = [(0.3712, 9.0, "EPYC AVX2"), (0.3704, 11.2, "EPYC AVX2"), (0.3677, 7.6, "EPYC AVX-512")]
    rows = [
        {"seed": seed, "global_step": 4000, "test_accuracy": accuracy, "wall_seconds": seconds}
        | {"cpu": cpu}
        for seed, (accuracy, seconds, cpu) in enumerate(runs)
    ]
    entry = beyond.describe("a linear classifier", rows)
    published = {EXPERIMENTS["linear"].published: {**PUBLISHED, "test_accuracy": 0.373}}
    text = " ".join(beyond.section("linear", entry, published).split())
    assert "3 runs of 4,000 steps" in text
    # per CPU, the fastest first
    assert (
        "Time per run: 8 seconds (EPYC AVX-512, 2 cores), 9-11 seconds (EPYC AVX2, 2 cores)."
        in text
    )
    # the published 37.3% lies inside the three seeds' interval, and the nets differ in more than
    # the schedule and the crops
    assert (
        "); here 37.0%, -0.3 points (within its 95% interval [36.5, 37.4]). Besides the data "
        "(a JPEG copy, [`DATA.md`](DATA.md); what it costs the tutorial net against its "
        "published figures: [`RESULTS.md`](RESULTS.md)), the two differ in the classifier (the "
        "source does not state its type), the short schedule and the 24x24 crops." in text
    )


def test_an_experiment_without_run_times_is_one_clear_error():
    rows = [{"seed": seed, "global_step": 4000, "test_accuracy": 0.37} for seed in range(3)]
    with pytest.raises(ValueError, match=r"^a linear classifier: no row records its run time"):
        beyond.describe("a linear classifier", rows)


def test_a_time_range_across_one_minute_names_each_end_in_its_own_unit():
    assert beyond._duration(50 / 60, 2.4) == "50 seconds to 2 minutes"
    assert beyond._duration(12.2, 12.4) == "12 minutes"


def test_the_net_without_any_relu_is_set_against_the_linear_classifier(synthetic):
    _write(synthetic / "beyond_linear.csv", {("relu", "max"): [0.368, 0.370, 0.372]})
    _write_published(
        synthetic / beyond.PUBLISHED_CSV, {**PUBLISHED, "key": EXPERIMENTS["linear"].published}
    )
    build_docs.write_docs(synthetic)
    text = " ".join((synthetic / "BEYOND.md").read_text().split())
    # the quick baseline's all-linear average-pool config, 0.375 mean, minus 0.370: two nets on
    # two schedules share no runs by seed, so Welch's interval, never paired
    sentence = (
        "The tutorial net on CIFAR-10 (quick preset) with no ReLU (conv and FC linear, average "
        "pooling) reaches 37.5% (n=3) and the linear classifier 37.0% (n=3): the net minus the "
        "classifier is +0.50 points (95% interval "
    )
    assert sentence in text
    said = text.split(sentence)[1].split("## ")[0]
    assert said.split(")")[0].endswith("; Welch, n=3 each") and "paired" not in said
    # two schedules: the difference is described, never given a verdict
    assert "schedule (15,000 steps against 15,000), so this difference gets no verdict" in said
    assert "separated" not in said


def test_the_max_pool_answer_says_how_many_max_pool_windows_each_net_keeps():
    def entry(title, windows):
        drop = {"field": "conv_activation", "context": {"pool": "max"}, "method": "paired"}
        drop |= {"by_seed": {0: 0.2, 1: 0.2, 2: 0.2}, "difference": 0.2, "low": 0.1}
        drop |= {"high": 0.3, "n_a": 3, "n_b": 3, "p": 0.001}
        timing = {"minutes": {"Intel Xeon AVX-512": [20, 23]}, "hours_all_runs": 1.5}
        return {"title": title, "drops": [drop], "summary": {"runs": 4}, **timing} | {
            "max_pool_windows": windows
        }

    text = " ".join(beyond.answers([entry("net A", 11520.0), entry("net B", 64.0)])[0].split())
    assert (
        "Max pooling is not one amount of non-linearity across these nets; max-pool windows per "
        "image: net A 11,520, net B 64." in text
    )
    same = " ".join(beyond.answers([entry("net A", 64.0), entry("net B", 64.0)])[0].split())
    assert "Max pooling is not one amount" not in same


def test_a_pipe_in_a_published_source_s_text_stays_inside_its_cell(tmp_path):
    path = tmp_path / beyond.PUBLISHED_CSV
    _write_published(path, {**PUBLISHED, "where": "row ResNet-18 | ReLu No"})
    row = beyond.published_table(beyond.read_published(path)).splitlines()[2]
    assert "row ResNet-18 \\| ReLu No" in row and row.count(" | ") == 6  # seven cells
