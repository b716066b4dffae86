"""--dataset's images in, the tutorial's batches out: the input pipeline.

    train_dataset(images, labels, ...)  -> endless distorted, shuffled batches
    eval_dataset(images, labels, ...)   -> every test image once, centrally cropped

The train stream is a pure function of (seed, step): each epoch is a stateless permutation of the
50,000 images and each batch's distortions are drawn from stateless ops seeded with the step.
So a run resumed at step s sees exactly the batches it would have seen, with no iterator state.
Distortions are the tutorial's (`cifar10_input.distorted_inputs`), applied to a whole batch;
a dataset without flips and colour distortions (MNIST) gets the random 24x24 crop only. With
augmentation="pad_crop" (the published ResNets' input) a batch is instead whole images,
standardized, zero-padded by 4 pixels, randomly cropped back and flipped; evaluation then sees
the whole image.
"""

import numpy as np
import tensorflow as tf

from cifar10_ablation.config import CROP_SIZE

# The map functions hold no Python control flow on tensors, so AutoGraph need not rewrite them
# (and all they call): that cost ~1 s of every process's start-up on 2 cores (measured).
_plain = tf.autograph.experimental.do_not_convert

MAX_BRIGHTNESS_DELTA = 63.0
CONTRAST_RANGE = (0.2, 1.8)
PAD = 4  # pad_crop's zero padding on every side


def train_dataset(
    images, labels, batch_size, seed, start_step=0, flips=True, colors=True, augmentation="tutorial"
):
    """Endless (float32 [B,24,24,C], int32 [B]) batches; batch k depends only on (seed, k).
    With augmentation="pad_crop", whole [B,H,W,C] images padded, cropped and flipped instead.

    Epochs are consecutive stateless permutations (a perfect shuffle: the whole set is the
    buffer), concatenated so no image is dropped at epoch ends. Starting at `start_step` yields
    the same batches as a stream started at 0 and advanced `start_step` batches. `flips` and
    `colors` keep the tutorial's flips and brightness/contrast distortions (a dataset's own).
    """
    # Batches are gathered from the numpy arrays: a TF copy of the images captured by the
    # pipeline cost 150 MB, and its conversion 300 MB at peak (of 1.6 GB, measured).
    images, labels = np.asarray(images), np.asarray(labels)
    num_images, image_size = images.shape[0], images.shape[1]
    first_image = start_step * batch_size
    first_epoch, offset = divmod(first_image, num_images)

    def permutation(epoch):
        noise = tf.random.stateless_uniform([num_images], seed=tf.stack([seed, epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(noise))

    indices = (
        tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max)
        .flat_map(_plain(permutation))
        .skip(offset)
        .batch(batch_size, drop_remainder=True)
    )
    steps = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)

    def gather(batch_indices):
        batch = tf.numpy_function(
            lambda i: (images[i], labels[i]),
            [batch_indices],
            (tf.as_dtype(images.dtype), tf.as_dtype(labels.dtype)),
            stateful=False,
        )
        batch[0].set_shape([batch_size, *images.shape[1:]])
        batch[1].set_shape([batch_size])
        return batch

    def make_batch(step, batch_indices):
        batch_seed = tf.stack([tf.constant(seed, tf.int64), step])
        batch_images, batch_labels = gather(batch_indices)
        if augmentation == "pad_crop":
            return pad_crop(
                batch_images, random_pad_crops(batch_size, batch_seed, flips)
            ), batch_labels
        draws = random_distortions(batch_size, batch_seed, image_size, flips, colors)
        return distort(batch_images, draws), batch_labels

    return (
        tf.data.Dataset.zip(steps, indices)
        .map(_plain(make_batch), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def eval_dataset(images, labels, batch_size, augmentation="tutorial"):
    """Every image once, in order: central 24x24 crop (pad_crop: the whole image), standardized;
    the last batch may be short."""

    images, labels = np.asarray(images), np.asarray(labels)  # sliced in numpy, as in training

    def prepare(start):
        batch_images, batch_labels = tf.numpy_function(
            lambda i: (images[i : i + batch_size], labels[i : i + batch_size]),
            [start],
            (tf.as_dtype(images.dtype), tf.as_dtype(labels.dtype)),
            stateful=False,
        )
        batch_images.set_shape([None, *images.shape[1:]])
        batch_labels.set_shape([None])
        return eval_images(batch_images, augmentation), batch_labels

    return (
        tf.data.Dataset.range(0, len(images), batch_size)
        .map(_plain(prepare), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def random_distortions(batch_size, seed, image_size=32, flips=True, colors=True):
    """Per-image draws of the tutorial's distortions of image_size^2 images from a stateless
    [2] seed; without `flips` or `colors`, none of those (CIFAR-10's draws stay the same)."""
    crop_seed, flip_seed, brightness_seed, contrast_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=4)
    )
    max_offset = image_size - CROP_SIZE
    draws = {
        "offsets": tf.random.stateless_uniform(
            [batch_size, 2], crop_seed, minval=0, maxval=max_offset + 1, dtype=tf.int32
        )
    }
    if flips:
        draws["flips"] = tf.random.stateless_uniform([batch_size], flip_seed) < 0.5
    if colors:
        draws["brightness"] = tf.random.stateless_uniform(
            [batch_size], brightness_seed, -MAX_BRIGHTNESS_DELTA, MAX_BRIGHTNESS_DELTA
        )
        draws["contrast"] = tf.random.stateless_uniform(
            [batch_size], contrast_seed, *CONTRAST_RANGE
        )
    return draws


def distort(images, draws):
    """The tutorial's train distortions on a uint8 [B,H,W,C] batch -> float32 [B,24,24,C].

    Per image: crop 24x24 at `offsets` (no padding), flip left-right where `flips`, add the
    `brightness` delta (0..255 scale, no clipping), scale each channel's deviation from its mean
    by `contrast` (tf.image.adjust_contrast), then tf.image.per_image_standardization. Draws
    without flips or brightness/contrast skip those.
    """
    rows = draws["offsets"][:, :1] + tf.range(CROP_SIZE)
    cols = draws["offsets"][:, 1:] + tf.range(CROP_SIZE)
    x = tf.gather(tf.gather(images, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    x = tf.cast(x, tf.float32)
    if "flips" in draws:
        x = tf.where(draws["flips"][:, None, None, None], tf.reverse(x, axis=[2]), x)
    if "brightness" in draws:
        x = x + draws["brightness"][:, None, None, None]
        mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        x = (x - mean) * draws["contrast"][:, None, None, None] + mean
    return tf.image.per_image_standardization(x)


def random_pad_crops(batch_size, seed, flips=True):
    """Per-image draws of the pad_crop augmentation from a stateless [2] seed: crop offsets into
    the padded image, and flips."""
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    draws = {
        "offsets": tf.random.stateless_uniform(
            [batch_size, 2], crop_seed, minval=0, maxval=2 * PAD + 1, dtype=tf.int32
        )
    }
    if flips:
        draws["flips"] = tf.random.stateless_uniform([batch_size], flip_seed) < 0.5
    return draws


def pad_crop(images, draws):
    """The published ResNets' augmentation on a uint8 [B,H,W,C] batch -> float32 [B,H,W,C]: each
    image standardized, zero-padded by PAD pixels (zero: its mean), cropped back to HxW at
    `offsets` and flipped left-right where `flips`."""
    size = images.shape[1]
    x = tf.image.per_image_standardization(tf.cast(images, tf.float32))
    x = tf.pad(x, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]])
    rows = draws["offsets"][:, :1] + tf.range(size)
    cols = draws["offsets"][:, 1:] + tf.range(size)
    x = tf.gather(tf.gather(x, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    if "flips" in draws:
        x = tf.where(draws["flips"][:, None, None, None], tf.reverse(x, axis=[2]), x)
    return x


def eval_images(images, augmentation="tutorial"):
    """The evaluation input of uint8 [B,H,W,C]: the tutorial's central crop, or (pad_crop) the
    whole image, standardized."""
    if augmentation == "pad_crop":
        return tf.image.per_image_standardization(tf.cast(images, tf.float32))
    return center_crop_standardize(images)


def center_crop_standardize(images):
    """The tutorial's eval input: central 24x24 crop of uint8 [B,H,W,C], standardized."""
    offset = (images.shape[1] - CROP_SIZE) // 2
    crop = tf.image.crop_to_bounding_box(images, offset, offset, CROP_SIZE, CROP_SIZE)
    return tf.image.per_image_standardization(tf.cast(crop, tf.float32))
