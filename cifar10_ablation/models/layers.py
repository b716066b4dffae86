"""The one place a switch becomes a Keras layer, and the layers Keras lacks.

    activation_layer("maxout", pieces=2, name="conv1_act")  -> Maxout(2)
    pool_layer("avg", name="pool1")                         -> 3x3/2 SAME average pool

Every net builds its activations and pools here, so a switch means the same layer in every net:
`activation_layer` maps an entry of switches.ACTIVATIONS to Keras' Activation by name, Identity
(linear), Abs or Maxout; `pool_layer` a pooling name to max or average pooling whose SAME
windows average only their real cells on every backend. Also here: the tutorial net's LRN and
split-bias convolution (TensorFlow-backend speed-ups with the same values), and the blocks the
other nets share (3x3 conv + batch norm, the classifier). Keras layers and keras.ops only, so
every layer runs on Keras 3's TensorFlow, JAX and PyTorch backends with the same outputs;
TensorFlow is imported only when that is the backend.
"""

import keras
import numpy as np

from cifar10_ablation import switches
from cifar10_ablation.config import CROP_SIZE

# Every net's input and output: standardized images (by default the tutorial's 24x24 crops) in,
# 10 logits out.
IMAGE_SIZE = CROP_SIZE
NUM_CLASSES = 10
LRN_DEPTH_RADIUS = 4
LRN_BIAS = 1.0
LRN_ALPHA = 0.001 / 9.0
LRN_BETA = 0.75
BATCH_NORM_MOMENTUM = 0.9  # PyTorch's 0.1: moving statistics that follow a short schedule
ACTIVATION_SUFFIX = "_act"  # every activation layer is named <the layer it follows>_act


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
        return self.valid_cell_average(inputs)

    def valid_cell_average(self, inputs):
        """The torch branch: window sums of the zero-padded input over the count of valid cells,
        in keras.ops (so tests/test_model.py runs it under TensorFlow too)."""
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


def activation_layer(activation, maxout_pieces, name):
    """The layer of an activation name (switches.ACTIVATIONS)."""
    if activation in switches.LINEAR_ACTIVATIONS:
        return keras.layers.Identity(name=name)
    if activation == "abs":
        return Abs(name=name)
    if activation == "maxout":
        return Maxout(maxout_pieces, name=name)
    if activation not in switches.KERAS_ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is not known; allowed: {switches.ACTIVATIONS}")
    return keras.layers.Activation(activation, name=name)


def pool_layer(pool, name, size=switches.POOL_SIZE, stride=switches.POOL_STRIDE):
    """Max or average pooling ("max", "avg"), SAME windows of `size`, `stride` apart."""
    pool_class = {"max": keras.layers.MaxPooling2D, "avg": SameAveragePooling2D}[pool]
    return pool_class(pool_size=size, strides=stride, padding="same", name=name)


def conv_bn(x, name, filters, strides, weight_decay, kernel_size=3):
    """SAME conv (3x3 unless said) without bias (batch norm's beta is the bias) -> `name`_bn."""
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=keras.regularizers.L2(weight_decay),
        name=name,
    )(x)
    return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)


def conv_bn_act(x, name, filters, switches, weight_decay, strides=1, activation=None):
    """conv_bn -> `name`_act: `activation`, else the conv activation of `switches` (maxout
    widens the conv)."""
    activation = activation or switches.conv_activation
    width = filters * switches.maxout_pieces if activation == "maxout" else filters
    x = conv_bn(x, name, width, strides, weight_decay)
    return activation_layer(activation, switches.maxout_pieces, f"{name}{ACTIVATION_SUFFIX}")(x)


def classifier(x, weight_decay=None, kernel_initializer="glorot_uniform"):
    """softmax_linear: the 10 logits, in float32 under a mixed-precision policy."""
    return keras.layers.Dense(
        NUM_CLASSES,
        dtype="float32",
        kernel_initializer=kernel_initializer,
        kernel_regularizer=keras.regularizers.L2(weight_decay) if weight_decay else None,
        name="softmax_linear",
    )(x)
