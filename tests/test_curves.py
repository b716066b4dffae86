"""tools/docs/curves.py: a run's compact curve read back from its TensorBoard events."""

import json

import curves
import tensorflow as tf


def _events(run_dir, losses, validation, test):
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        for step, loss in losses.items():
            tf.summary.scalar("train/loss", loss, step=step)
        for step, value in validation.items():
            tf.summary.scalar("validation/accuracy", value, step=step)
        for step, value in test.items():
            tf.summary.scalar("test/accuracy", value, step=step)
    writer.close()
    (run_dir / "results.json").write_text(json.dumps({"global_step": max(losses)}))


def test_a_row_per_evaluation_with_the_loss_logged_there(tmp_path):
    run = tmp_path / "sweep" / "conv_relu-true_seed0"
    _events(run, {100: 2.0, 200: 1.5, 300: 1.25}, {200: 0.5, 300: 0.625}, {300: 0.75})
    rows = curves.sweep_curves(tmp_path / "sweep")
    assert rows == [
        {"run": run.name, "step": 200, "train_loss": 1.5, "validation_accuracy": 0.5,
         "test_accuracy": None},
        {"run": run.name, "step": 300, "train_loss": 1.25, "validation_accuracy": 0.625,
         "test_accuracy": 0.75},
    ]  # fmt: skip
    path = tmp_path / "curves.csv"
    curves.merge_csv(path, rows)
    assert curves.read_csv(path) == rows
    # collected again with a newer curve of the same run: replaced, not duplicated
    curves.merge_csv(path, [{**rows[-1], "step": 400}])
    assert [row["step"] for row in curves.read_csv(path)] == [400]
    curves.plot(tmp_path / "curves.png", curves.read_csv(path), "test", settings={})
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_the_legend_names_only_the_settings_that_differ_between_runs(tmp_path):
    results = tmp_path / "selection.csv"
    results.write_text(
        "conv_activation,pool,learning_rate,run,seed,test_accuracy\n"
        "leaky_relu,max,0.04,conv_activation-leaky_relu_learning_rate-0.04_seed0,0,0.8\n"
        "leaky_relu,max,0.16,validation_examples-5000_conv_activation-leaky_relu_"
        "learning_rate-0.16_seed0,0,0.7\n"
        "linear,max,0.04,conv_activation-linear_learning_rate-0.04_seed1,1,0.6\n"
    )
    assert curves.results_csv(tmp_path / curves.csv_name(results)) == results
    settings = curves.run_settings(results)
    runs = [*settings, "not in the CSV"]
    # a value with "_" and a prefix only some folders have: neither reaches the legend
    assert list(curves.labels(runs, settings).values()) == [
        "conv_activation=leaky_relu learning_rate=0.04 seed=0",
        "conv_activation=leaky_relu learning_rate=0.16 seed=0",
        "conv_activation=linear learning_rate=0.04 seed=1",
        "not in the CSV",
    ]
    # a named config is called by its name instead of its settings
    named = {"leaky_max": {"conv_activation": "leaky_relu", "pool": "max"}}
    assert list(curves.labels(runs, settings, named).values()) == [
        "leaky_max learning_rate=0.04 seed=0",
        "leaky_max learning_rate=0.16 seed=0",
        "conv_activation=linear learning_rate=0.04 seed=1",
        "not in the CSV",
    ]
    one = runs[:1]  # one run: nothing differs, its folder names it
    assert curves.labels(one, settings) == {one[0]: one[0]}


def _stretch(folder, run, first, points):
    """A trimmed queue log's lines of one process training a run: {step: (loss, test acc)}."""
    lines = [f"~/runs/{folder}/{run}: training {run} from step {first} to 300 on binary:~/data"]
    for step, (loss, test) in points.items():
        lines.append(
            f"step {step:>4}/300  loss {loss:.4f}  accuracy 0.5  lr 0.1  9 images/s  ETA 0"
        )
        if test is not None:
            lines.append(f"step {step}: test accuracy {test:.4f} (averaged), 0.1000 (raw)")
    return lines


def test_a_run_s_curve_from_its_logs_is_the_stretch_that_ends_at_its_result_and_those_it_resumed():
    old = _stretch("fast", "seed0", 0, {100: (2.0, 0.5), 300: (1.5, 0.6)})  # an earlier run
    first = _stretch("fast", "seed0", 0, {100: (1.8, 0.55), 200: (1.6, 0.65)})  # cut at 250
    other = _stretch("beyond/vgg", "seed0", 0, {300: (1.0, 0.7)})  # another sweep's run
    resumed = _stretch("fast", "seed0", 250, {300: (1.2, 0.7)})
    logs = [
        "\n".join(["== start stage 1 Mon Nov 30 10:05:33 UTC 2026 abc", *old, *first, "== done"]),
        "\n".join(["== start stage 2 Tue Dec  1 02:54:16 UTC 2026 def", *other, *resumed]),
    ]
    segments = curves.log_segments(logs)
    assert [s[:3] for s in segments] == [
        ("fast", "seed0", 0), ("fast", "seed0", 0), ("beyond/vgg", "seed0", 0),
        ("fast", "seed0", 250),
    ]  # fmt: skip
    empty = {"validation_accuracy": None}
    assert curves.log_curve(segments, "fast", "seed0", 300, 0.70004) == [
        {"step": 100, "train_loss": 1.8, **empty, "test_accuracy": 0.55},
        {"step": 200, "train_loss": 1.6, **empty, "test_accuracy": 0.65},
        {"step": 300, "train_loss": 1.2, **empty, "test_accuracy": 0.7},
    ]
    assert [r["test_accuracy"] for r in curves.log_curve(segments, "fast", "seed0", 300, 0.6)] == [
        0.5,
        0.6,
    ]
    assert curves.log_curve(segments, "fast", "seed0", 300, 0.65) is None  # no run ended there
    assert curves.log_curve(segments, "fast", "seed0", 250, 0.7) is None  # nor at that step
    # a resumed run whose first steps no log holds has no curve
    assert curves.log_curve(curves.log_segments(logs[1:]), "fast", "seed0", 300, 0.7) is None
