"""Images/second of the training input pipeline (decoded images in memory, batched distortions).

    python bench/input_pipeline.py --data_dir=../shared/cifar10 [--batch_size=128] [--batches=400]

Prints one figure per line and, last, a machine-readable line:
    input_pipeline images_per_second=<float> batch_size=<int> threads=<int>
"""

import cifar10_ablation  # noqa: F401 - first: sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads

# isort: split

import argparse
import json
import os
import time

from cifar10_ablation import host
from cifar10_ablation.data import cifar10, pipeline


def pipeline_images_per_second(
    dataset, batch_size, batches, warmup=20, seed=0, augmentation="tutorial"
):
    """Images/second drawn from pipeline.train_dataset after `warmup` batches."""
    stream = pipeline.train_dataset(
        dataset.train_images, dataset.train_labels, batch_size, seed, augmentation=augmentation
    )
    iterator = iter(stream)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        images, _ = next(iterator)
    images.numpy()
    return batches * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/cifar10")
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=400)
    args = parser.parse_args()
    start = time.perf_counter()
    dataset = cifar10.load(args.data_dir)
    print(
        f"loaded {len(dataset.train_labels)} train images from {dataset.source} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    rate = pipeline_images_per_second(dataset, args.batch_size, args.batches)
    print(
        f"input_pipeline images_per_second={rate:.0f} batch_size={args.batch_size} "
        f"threads={os.cpu_count()}"
    )
    print(json.dumps({"images_per_second": round(rate, 1), "host": host.describe()}))


if __name__ == "__main__":
    main()
