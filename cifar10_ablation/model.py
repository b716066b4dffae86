"""The TensorFlow CIFAR-10 tutorial net as a Keras 3 model, with its non-linearities as switches.

    build_tutorial()  ->  keras.Model: 24x24x3 standardized images -> 10 logits.

Layers, initialisers and weight decay are the tutorial's (`cifar10.py` `inference()`):

    conv1 -> conv1_act -> pool1 -> norm1 -> conv2 -> conv2_act -> norm2 -> pool2 -> flatten
          -> local3 -> local3_act -> local4 -> local4_act -> softmax_linear

`convN`/`localN` are the linear layers; their activation is a separate `*_act` layer so the
pre-activation stays observable. archs.build_model, the one entry for every --arch, checks the
switches against switches.py's tables before any layer is built (`conv_activation`/`fc_activation`
an entry of `switches.ACTIVATIONS`, `pool` of `switches.POOLS`); an activation Keras has is then
built by that name, the others here.

Every layer runs on Keras 3's TensorFlow, JAX and PyTorch backends (`KERAS_BACKEND`) with the same
outputs; this module imports TensorFlow only when that is the backend.
"""

import keras
import numpy as np

from cifar10_ablation import switches

IMAGE_SIZE = 24
NUM_CLASSES = 10
CONV_FILTERS = 64
LOCAL3_UNITS = 384
LOCAL4_UNITS = 192
# TF's 0.004 * l2_loss(w) = 0.004 * sum(w^2) / 2 = keras L2(0.002).
FC_WEIGHT_DECAY = 0.004 / 2
LRN_DEPTH_RADIUS = 4
LRN_BIAS = 1.0
LRN_ALPHA = 0.001 / 9.0
LRN_BETA = 0.75
# Convolutions built as SplitBiasGradConv2D: both, the fastest training step with oneDNN on AVX2
# and AVX-512 (bench/conv_grad.py; docs/bench/families/conv_grad_*.log).
SPLIT_BIAS_GRAD_CONVS = ("conv1", "conv2")


def _inverse_power(d, beta):
    """d ** -beta. On CPU TF's Pow takes ~5 ms on an LRN input, rsqrt(d) * sqrt(rsqrt(d)) 0.3."""
    if beta == 0.75:
        root = keras.ops.rsqrt(d)
        return root * keras.ops.sqrt(root)
    return keras.ops.power(d, -beta)


def _lrn_tensorflow(x, band, bias, alpha, beta):
    """The TensorFlow backend's LRN: a band matmul with a hand-written gradient (float32 x)."""
    import tensorflow as tf  # only ever called with the TensorFlow backend

    def window_sum(v):
        """Sum over the 2 * depth_radius + 1 channels around each channel."""
        flat = tf.reshape(v, [-1, band.shape[0]])
        return tf.reshape(tf.matmul(flat, band), tf.shape(v))

    @tf.custom_gradient
    def normalize(x):
        d = bias + alpha * window_sum(tf.square(x))
        scale = _inverse_power(d, beta)
        y = x * scale

        def gradient(dy):
            # dx_k = dy_k scale_k - 2 alpha beta x_k sum_{i in window(k)} dy_i y_i / d_i
            return dy * scale - (2 * alpha * beta) * x * window_sum(dy * y / d)

        return y, gradient

    return normalize(x)


def _lrn_keras_ops(x, depth_radius, bias, alpha, beta):
    """The same band matmul in keras.ops for the other backends, differentiated by the backend.

    The band is built on the device: a numpy constant would be copied from the host on every
    call in PyTorch's eager mode, which waits for the copy.
    """
    channel = keras.ops.arange(x.shape[-1])
    distance = keras.ops.abs(channel[:, None] - channel[None, :])
    band = keras.ops.cast(distance <= depth_radius, x.dtype)
    d = bias + alpha * keras.ops.matmul(keras.ops.square(x), band)
    return x * _inverse_power(d, beta)


@keras.saving.register_keras_serializable(package="cifar10_ablation")
class LocalResponseNormalization(keras.layers.Layer):
    """TF's `local_response_normalization` over channels: x / (bias + alpha * sum_window x^2)^beta.

    The window is 2 * depth_radius + 1 channels and alpha is NOT divided by it (TF semantics).
    Computed as a channel matmul with a 0/1 band matrix. With the TensorFlow backend it has a
    hand-written gradient: the same values as TF's LRN/LRNGrad ops (float32 round-off), ~5x
    faster forward and backward on CPU, where TF's LRNGrad loops over the window per element
    (bench/lrn.py). The other backends differentiate the same matmul in keras.ops.
    """

    def __init__(
        self, depth_radius=LRN_DEPTH_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA, beta=LRN_BETA, **kwargs
    ):
        super().__init__(**kwargs)
        self.depth_radius = depth_radius
        self.bias = bias
        self.alpha = alpha
        self.beta = beta

    def build(self, input_shape):
        channel = np.arange(input_shape[-1])
        self.band = (np.abs(channel[:, None] - channel[None, :]) <= self.depth_radius).astype(
            np.float32
        )

    def call(self, inputs):
        # In float32 whatever the compute dtype: a sum of 9 squares overflows float16.
        x = keras.ops.cast(inputs, "float32")
        if keras.backend.backend() == "tensorflow":
            y = _lrn_tensorflow(x, self.band, self.bias, self.alpha, self.beta)
        else:
            y = _lrn_keras_ops(x, self.depth_radius, self.bias, self.alpha, self.beta)
        return keras.ops.cast(y, inputs.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_radius": self.depth_radius,
            "bias": self.bias,
            "alpha": self.alpha,
            "beta": self.beta,
        }


def _add_bias_tensorflow(y, bias):
    """y + bias whose bias gradient is a plain sum over every axis but the channels."""
    import tensorflow as tf  # only ever called with the TensorFlow backend

    @tf.custom_gradient
    def add_bias(y, bias):
        def gradient(dy):  # summed in float32 also under mixed precision, as oneDNN's fused op
            axes = list(range(dy.shape.rank - 1))
            return dy, tf.cast(tf.reduce_sum(tf.cast(dy, tf.float32), axis=axes), dy.dtype)

        return tf.nn.bias_add(y, bias), gradient

    return add_bias(y, tf.convert_to_tensor(bias))  # read here: no variable inside add_bias


@keras.saving.register_keras_serializable(package="cifar10_ablation")
class SplitBiasGradConv2D(keras.layers.Conv2D):
    """Keras' Conv2D whose bias gradient is computed apart from its filter gradient (TF backend).

    oneDNN fuses Keras' bias gradient into the filter gradient
    (`_MklNativeConv2DBackpropFilterWithBias`), which on conv1's 3-channel input takes 2-3x the
    unfused filter gradient plus a sum; the custom gradient's Sum is not fused, and the training
    step runs ~10% (AVX2) to ~20% (AVX-512) faster (bench/conv_grad.py). Same weights, values
    and gradients as Keras' Conv2D (channels_last only).
    """

    def call(self, inputs):
        if (
            keras.backend.backend() != "tensorflow"
            or not self.use_bias
            or self.data_format != "channels_last"
        ):
            return super().call(inputs)
        y = _add_bias_tensorflow(self.convolution_op(inputs, self.kernel), self.bias)
        return self.activation(y)


@keras.saving.register_keras_serializable(package="cifar10_ablation")
class Abs(keras.layers.Layer):
    """|x|: a non-linearity that, unlike ReLU, discards the sign but no magnitude."""

    def call(self, inputs):
        return keras.ops.abs(inputs)


@keras.saving.register_keras_serializable(package="cifar10_ablation")
class Maxout(keras.layers.Layer):
    """Max over `pieces` consecutive channels: width * pieces channels in, width out."""

    def __init__(self, pieces, **kwargs):
        super().__init__(**kwargs)
        self.pieces = pieces

    def call(self, inputs):
        shape = keras.ops.shape(inputs)
        width = inputs.shape[-1] // self.pieces
        grouped = keras.ops.reshape(inputs, (*shape[:-1], width, self.pieces))
        return keras.ops.max(grouped, axis=-1)

    def get_config(self):
        return {**super().get_config(), "pieces": self.pieces}


@keras.saving.register_keras_serializable(package="cifar10_ablation")
class SameAveragePooling2D(keras.layers.AveragePooling2D):
    """Keras' AveragePooling2D whose 'same' windows average their valid cells on every backend.

    TF's and JAX's do, as tf.nn.avg_pool2d; Keras' torch backend (3.15) pads an uneven 'same'
    border by repeating the edge cells, so there the means over the zero-padded input are divided
    by those of a ones image: a window's sum over its count of valid cells.
    """

    def call(self, inputs):
        if keras.backend.backend() != "torch" or self.padding != "same":
            return super().call(inputs)
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        padding = [(0, 0)] * 4
        for axis, window, stride in zip(axes, self.pool_size, self.strides, strict=True):
            size = inputs.shape[axis]
            total = max((-(-size // stride) - 1) * stride + window - size, 0)
            padding[axis] = (total // 2, total - total // 2)  # TF's SAME: the odd cell after

        def window_means(v):
            return keras.ops.average_pool(
                keras.ops.pad(v, padding), self.pool_size, self.strides, "valid", self.data_format
            )

        return window_means(inputs) / window_means(keras.ops.ones_like(inputs[:1]))


def _pool_layer(pool, name):
    pool_class = {"max": keras.layers.MaxPooling2D, "avg": SameAveragePooling2D}[pool]
    return pool_class(
        pool_size=switches.POOL_SIZE, strides=switches.POOL_STRIDE, padding="same", name=name
    )


def _activation_layer(activation, maxout_pieces, name):
    if activation in switches.LINEAR_ACTIVATIONS:
        return keras.layers.Identity(name=name)
    if activation == "abs":
        return Abs(name=name)
    if activation == "maxout":
        return Maxout(maxout_pieces, name=name)
    return keras.layers.Activation(activation, name=name)


def build_tutorial(
    conv_activation="relu",
    fc_activation="relu",
    pool="max",
    lrn=True,
    maxout_pieces=switches.DEFAULT_MAXOUT_PIECES,
    channels=3,
):
    """The tutorial net; defaults give it exactly (1,068,298 trainable parameters).

    One function over 60 lines: it reads top to bottom as the tutorial's inference().

    Switches checked first by archs.build_model, which also builds the other architectures.

    Args:
      conv_activation: activation after conv1 and conv2, a name from `switches.ACTIVATIONS`.
      fc_activation: activation after local3 and local4, a name from `switches.ACTIVATIONS`.
      pool: "max" or "avg" for pool1 and pool2 (3x3, stride 2, SAME).
      lrn: keep norm1 and norm2 (True) or drop them (False).
      maxout_pieces: linear pieces per unit when an activation is "maxout"; the layer in front
        gets `pieces` times the units so the widths after the activation stay the tutorial's.
      channels: image channels of the input (3: CIFAR-10, 1: MNIST).

    Returns:
      A functional keras.Model mapping [batch, 24, 24, channels] float32 to [batch, 10] logits.
    """

    def units(width, activation):
        return width * maxout_pieces if activation == "maxout" else width

    def conv(name, bias, x):
        conv_class = SplitBiasGradConv2D if name in SPLIT_BIAS_GRAD_CONVS else keras.layers.Conv2D
        x = conv_class(
            units(CONV_FILTERS, conv_activation),
            5,
            padding="same",
            name=name,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.05),
            bias_initializer=keras.initializers.Constant(bias),
        )(x)
        return _activation_layer(conv_activation, maxout_pieces, f"{name}_act")(x)

    def local(name, width, x):
        x = keras.layers.Dense(
            units(width, fc_activation),
            name=name,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.04),
            bias_initializer=keras.initializers.Constant(0.1),
            kernel_regularizer=keras.regularizers.L2(FC_WEIGHT_DECAY),
        )(x)
        return _activation_layer(fc_activation, maxout_pieces, f"{name}_act")(x)

    def norm(name, x):
        return LocalResponseNormalization(name=name)(x) if lrn else x

    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, channels), name="images")
    x = conv("conv1", 0.0, inputs)
    x = _pool_layer(pool, "pool1")(x)
    x = norm("norm1", x)
    x = conv("conv2", 0.1, x)
    x = norm("norm2", x)
    x = _pool_layer(pool, "pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = local("local3", LOCAL3_UNITS, x)
    x = local("local4", LOCAL4_UNITS, x)
    logits = keras.layers.Dense(
        NUM_CLASSES,
        dtype="float32",  # logits and loss in float32 under a mixed-precision policy
        name="softmax_linear",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=1 / LOCAL4_UNITS),
        bias_initializer=keras.initializers.Constant(0.0),
    )(x)
    return keras.Model(inputs, logits, name="cifar10_tutorial")
