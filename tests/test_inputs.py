"""The input pipeline: the tutorial's distortions, a seeded resumable train stream, eval crops."""

import numpy as np
import tensorflow as tf

from cifar10_ablation.data import cifar10, pipeline


def test_train_batches_are_standardized_24x24(cifar_dir):
    loaded = cifar10.load(cifar_dir)
    images, labels = next(
        iter(pipeline.train_dataset(loaded.train_images, loaded.train_labels, 32, 0))
    )
    assert images.shape == (32, 24, 24, 3) and images.dtype == tf.float32
    assert labels.shape == (32,) and labels.dtype == tf.int32
    np.testing.assert_allclose(tf.reduce_mean(images, [1, 2, 3]), 0, atol=1e-4)
    np.testing.assert_allclose(tf.math.reduce_std(images, [1, 2, 3]), 1, atol=1e-3)


def test_epochs_are_permutations_and_the_stream_is_seeded_and_resumable():
    # Random images: a distortion stream that ignored (seed, step) would give other crops.
    images = np.random.default_rng(0).integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
    index = np.arange(60, dtype=np.int32)  # labels carry each image's index

    def stream(seed, start_step=0, steps=9):
        dataset = pipeline.train_dataset(images, index, 20, seed, start_step)
        return [(x.numpy(), y.numpy()) for x, y in dataset.take(steps)]

    first = stream(seed=1)
    for epoch in range(3):  # 3 batches per epoch; each epoch holds every image once
        epoch_labels = np.concatenate([y for _, y in first[3 * epoch : 3 * epoch + 3]])
        np.testing.assert_array_equal(np.sort(epoch_labels), index)
    assert not np.array_equal(first[0][1], first[3][1])  # reshuffled each epoch
    again = stream(seed=1)
    assert len(again) == len(first) == 9
    for (x1, y1), (x2, y2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(x1, x2)
    other = stream(seed=2)
    assert not np.array_equal(first[0][1], other[0][1])
    assert not np.array_equal(first[0][0], other[0][0])
    resumed = stream(seed=1, start_step=4, steps=5)
    for (x1, y1), (x2, y2) in zip(first[4:], resumed, strict=True):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(x1, x2)


def test_batched_distortions_equal_tf_image_ops_per_image():
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3)), tf.uint8)
    draws = pipeline.random_distortions(8, tf.constant([3, 4], tf.int64))
    distorted = pipeline.distort(images, draws)
    for i in range(8):
        dy, dx = draws["offsets"][i].numpy()
        x = tf.image.crop_to_bounding_box(images[i], int(dy), int(dx), 24, 24)
        x = tf.cast(x, tf.float32)
        if draws["flips"][i]:
            x = tf.image.flip_left_right(x)
        x = tf.image.adjust_brightness(x, draws["brightness"][i])
        x = tf.image.adjust_contrast(x, draws["contrast"][i])
        x = tf.image.per_image_standardization(x)
        np.testing.assert_allclose(distorted[i].numpy(), x.numpy(), rtol=1e-4, atol=1e-4)


def test_distortion_draws_cover_the_tutorials_ranges():
    draws = pipeline.random_distortions(20000, tf.constant([0, 0], tf.int64))
    offsets = draws["offsets"].numpy()
    assert offsets.min() == 0 and offsets.max() == 8
    assert set(np.unique(offsets)) == set(range(9))
    assert 0.48 < draws["flips"].numpy().mean() < 0.52
    brightness, contrast = draws["brightness"].numpy(), draws["contrast"].numpy()
    assert -63 <= brightness.min() < -62 and 62 < brightness.max() <= 63
    assert 0.2 <= contrast.min() < 0.21 and 1.79 < contrast.max() <= 1.8


def test_eval_is_the_central_crop_and_every_image_once(cifar_dir):
    loaded = cifar10.load(cifar_dir)
    batches = list(pipeline.eval_dataset(loaded.test_images, loaded.test_labels, 8))
    assert [len(y) for _, y in batches] == [8, 8, 8, 6]  # 30 images, no padding
    images = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])
    np.testing.assert_array_equal(labels, loaded.test_labels)
    expected = tf.image.per_image_standardization(
        tf.cast(loaded.test_images[:, 4:28, 4:28], tf.float32)
    )
    np.testing.assert_allclose(images, expected.numpy(), rtol=1e-5, atol=1e-5)
