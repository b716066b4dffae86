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
