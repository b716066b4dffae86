"""What TensorBoard shows of a tiny sweep, read with TensorBoard's own event loader.

Every tag the README promises, with the dashboard it belongs to (Scalars, Histograms, Images),
and the HParams table: the sweep's experiment (swept fields, seed, test accuracy) and each run's
values.
"""

import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from cifar10_ablation import config as config_lib
from cifar10_ablation.data import cifar10
from cifar10_ablation.sweeps import hparams, runner

LAYERS = ("conv1", "conv2", "local3", "local4")  # the tutorial net's, as the README lists them
# The README's "TensorBoard events" and "Diagnostics" paragraphs: tag -> its dashboard's plugin.
PROMISED = {
    **{
        f"train/{name}": "scalars"
        for name in (
            "loss",
            "cross_entropy",
            "accuracy",
            "learning_rate",
            "images_per_second",
            "averaging_decay",
        )
    },
    "test/accuracy": "scalars",
    "test/accuracy_raw": "scalars",
    **{f"weights/{layer}/{kind}": "histograms" for layer in LAYERS for kind in ("kernel", "bias")},
    **{f"{layer}_act/activations": "histograms" for layer in LAYERS},
    **{f"{layer}_act/{name}": "scalars" for layer in LAYERS for name in ("sparsity", "dead_units")},
    **{
        f"{prefix}diagnostics/{pool}_{kind}_windows": "scalars"
        for prefix in ("", "test_averaged/")
        for pool in ("pool1", "pool2")
        for kind in ("all_negative", "mixed_sign")
    },
    **{f"test/class_accuracy/{name}": "scalars" for name in cifar10.CLASS_NAMES},
    "test/confusion_matrix": "images",
    "input/distorted": "images",
}
STEPS = 4


def _load(folder):
    """Every event of `folder` (size guidance 0 keeps all), as TensorBoard's backend reads it."""
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return accumulator


def _plugin_data(accumulator, tag):
    return plugin_data_pb2.HParamsPluginData.FromString(
        accumulator.SummaryMetadata(tag).plugin_data.content
    )


def test_a_sweep_shows_every_promised_tag_and_its_hparams_table(cifar_dir, tmp_path):
    sweep_dir = tmp_path / "sweep"
    runs = []
    for activation in ("relu", "linear"):
        name = f"conv_activation-{activation}_seed0"
        config = config_lib.RunConfig.flat(
            conv_activation=activation,
            data_dir=str(cifar_dir),
            log_dir=str(sweep_dir / name),
            batch_size=8,
            max_steps=STEPS,
            summary_every=2,
            histogram_every=STEPS,
            eval_every=STEPS,
            checkpoint_every=STEPS,
            steps_per_execution=2,
        )
        runs.append((name, config_lib.validate(config)))
    trained, _, errors = runner.run_sweep(runs, sweep_dir)
    assert len(trained) == 2 and not errors

    run = _load(sweep_dir / "conv_activation-relu_seed0")
    tags = set(run.Tags()["tensors"])
    for tag, plugin in PROMISED.items():
        assert tag in tags, f"TensorBoard finds no {tag!r} in the run's events"
        found = run.SummaryMetadata(tag).plugin_data.plugin_name
        assert found == plugin, f"{tag!r} is shown by the {found!r} plugin, not {plugin!r}"
    assert [e.step for e in run.Tensors("test/accuracy")] == [STEPS]
    assert [e.step for e in run.Tensors("train/loss")] == [2, STEPS]
    histogram = tf.make_ndarray(run.Tensors("weights/conv1/kernel")[-1].tensor_proto)
    assert histogram.shape == (30, 3) and histogram[:, 2].sum() == 5 * 5 * 3 * 64  # every weight
    width, height, *pngs = tf.make_ndarray(run.Tensors("input/distorted")[-1].tensor_proto)
    assert (int(width), int(height)) == (24, 24) and pngs
    assert tf.io.decode_png(pngs[0]).shape == (24, 24, 3)

    experiment = _plugin_data(_load(sweep_dir), "_hparams_/experiment").experiment
    columns = ["arch", "dataset", "schedule", "conv_activation", "seed"]  # hparams.ALWAYS_COLUMNS
    assert [h.name for h in experiment.hparam_infos] == columns
    assert {m.name.tag for m in experiment.metric_infos} >= {"test/accuracy", "test/accuracy_raw"}
    for name, config in runs:
        start = _plugin_data(_load(sweep_dir / name), "_hparams_/session_start_info")
        values = start.session_start_info.hparams
        assert values["conv_activation"].string_value == config.switches.conv_activation
        assert values["seed"].number_value == 0
        # not varied here, but a later sweep on the folder may vary them: every run has them
        assert (values["pool"].string_value, values["lrn"].bool_value) == ("max", True)

    # A finished run without its row (trained by `train` into the folder): the next sweep writes it.
    run_dir = sweep_dir / runs[0][0]
    (run_dir / hparams.HPARAMS_MARKER).unlink()
    for events in run_dir.glob("events.out.tfevents.*"):
        if "_hparams_/session_start_info" in _load(events).Tags()["tensors"]:
            events.unlink()
    assert "_hparams_/session_start_info" not in _load(run_dir).Tags()["tensors"]
    trained, skipped, _ = runner.run_sweep(runs, sweep_dir)
    assert (trained, len(skipped)) == ([], 2)
    start = _plugin_data(_load(run_dir), "_hparams_/session_start_info")
    assert start.session_start_info.hparams["conv_activation"].string_value == "relu"
