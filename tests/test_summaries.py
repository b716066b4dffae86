"""Our histogram summary writes what tf.summary.histogram writes, without its one-hot."""

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.histogram import summary_v2

from cifar10_ablation.training import summaries


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).standard_normal((50, 6, 6, 8)).astype(np.float32),
        np.maximum(np.random.default_rng(1).standard_normal(5000), 0),  # many exact zeros
        np.full((7, 3), 2.5, np.float32),  # a single value
        np.zeros((0,), np.float32),  # no values
        np.array([-1.0, 1.0], np.float32),  # the max sits on the last edge
    ],
)
def test_buckets_equal_tensorboards(values):
    ours = summaries.histogram_buckets(tf.constant(values))
    theirs = summary_v2._buckets(tf.constant(values), tf.constant(30)).numpy()
    assert ours.shape == theirs.shape == (30, 3)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert ours[:, 2].sum() == values.size


def test_written_histogram_reads_as_tensorboards(tmp_path):
    values = np.random.default_rng(2).standard_normal(1000).astype(np.float32)
    for folder, write in (("ours", summaries.histogram), ("theirs", tf.summary.histogram)):
        with tf.summary.create_file_writer(str(tmp_path / folder)).as_default():
            write("conv1_act/activations", values, step=3)
    loaded = {}
    for folder in ("ours", "theirs"):
        accumulator = event_accumulator.EventAccumulator(
            str(tmp_path / folder), size_guidance={event_accumulator.TENSORS: 0}
        )
        accumulator.Reload()
        (event,) = accumulator.Tensors("conv1_act/activations")
        metadata = accumulator.SummaryMetadata("conv1_act/activations")
        loaded[folder] = (event.step, tf.make_ndarray(event.tensor_proto), metadata)
    assert loaded["ours"][0] == loaded["theirs"][0] == 3
    np.testing.assert_allclose(loaded["ours"][1], loaded["theirs"][1], atol=1e-12)
    assert loaded["ours"][2] == loaded["theirs"][2]


def test_buckets_counted_in_chunks_equal_one_pass(monkeypatch):
    values = tf.constant(np.random.default_rng(3).standard_normal(14_400).astype(np.float32))
    whole = summaries.histogram_buckets(values)
    monkeypatch.setattr(summaries, "CHUNK", 1000)  # 15 chunks, the last one short
    np.testing.assert_array_equal(summaries.histogram_buckets(values), whole)
    np.testing.assert_allclose(
        whole, summary_v2._buckets(values, tf.constant(30)).numpy(), rtol=0, atol=1e-12
    )
