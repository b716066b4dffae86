"""The compiled training steps of one run: gradients, the optimizer, averaged weights, sums.

    train_steps = compile_train_steps(state, strategy, global_batch, jit_compile, sums, bad_step)
    train_steps(iterator, tf.constant(25))   # 25 steps in one call into the TF graph

Under a tf.distribute strategy every replica computes the gradients of its share of the global
batch's mean loss and the optimizer sums them over the replicas.
"""

import keras
import tensorflow as tf


def compile_train_steps(state, strategy, global_batch, jit_compile, sums_variable, bad_step):
    """train_steps(iterator, num_steps): num_steps steps in one call into the TF graph.

    Each step adds its [loss, cross-entropy, correct, examples] sums over the global batch to
    `sums_variable` and, at its first non-finite loss, the step to `bad_step` (while it is -1).
    """
    model, optimizer, averages = state.model, state.optimizer, state.averages
    replicas = strategy.num_replicas_in_sync
    variables = model.trainable_variables
    loss_scaling = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    @tf.function(jit_compile=jit_compile, autograph=False)  # no tensor-dependent Python branch
    def gradients_and_sums(images, labels):
        """One replica's gradients of the global batch's mean loss (the optimizer sums the
        replicas'), and its [loss, cross-entropy, correct, examples] sums."""
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels, tf.cast(logits, tf.float32)
            )
            cross_entropy = tf.reduce_sum(per_example) / global_batch
            weight_decay = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
            loss = cross_entropy + weight_decay / replicas
            if loss_scaling:  # float16: gradients of the scaled loss, unscaled when applied
                loss = optimizer.scale_loss(loss)
        gradients = tape.gradient(loss, variables)
        examples = tf.cast(tf.shape(labels)[0], tf.float32)
        predictions = tf.argmax(logits, -1, output_type=labels.dtype)
        correct = tf.reduce_sum(tf.cast(tf.equal(predictions, labels), tf.float32))
        ce_sum = tf.reduce_sum(per_example)
        sums = tf.stack([ce_sum + examples * weight_decay, ce_sum, correct, examples])
        return gradients, sums

    def train_step(images, labels):
        gradients, sums = gradients_and_sums(images, labels)
        optimizer.apply_gradients(zip(gradients, variables, strict=False))
        return sums

    @tf.function
    def train_steps(iterator, num_steps):
        for _ in tf.range(num_steps):
            images, labels = next(iterator)
            sums = strategy.reduce(
                tf.distribute.ReduceOp.SUM,
                strategy.run(train_step, args=(images, labels)),
                axis=None,
            )
            averages.update(variables, optimizer.iterations)
            sums_variable.assign_add(tf.cast(sums, tf.float64))
            if not tf.math.is_finite(sums[0]) and bad_step < 0:
                bad_step.assign(optimizer.iterations)

    return train_steps
