"""A sweep of --dataset: a data folder per dataset (--data_dir=cifar10:DIR,mnist:DIR), and every
grid point's data checked before the first run (cli.grid_runs, data.check)."""

import json
import subprocess
import sys

import pytest
from conftest import SMOKE_FLAGS

from cifar10_ablation import cli, data
from cifar10_ablation.cli import training
from cifar10_ablation.sweeps import runner


def test_data_dir_is_one_folder_or_one_per_dataset():
    assert training.data_dirs("../shared/cifar10") == {None: "../shared/cifar10"}
    assert training.data_dirs("/data/a:b,c") == {None: "/data/a:b,c"}  # a plain path
    folders = training.data_dirs("cifar10:../c,mnist:/m")
    assert folders == {"cifar10": "../c", "mnist": "/m"}
    assert training.data_dir_of(folders, "mnist") == "/m"
    assert training.data_dir_of({None: "/d"}, "mnist") == "/d"
    with pytest.raises(ValueError, match="names no folder for dataset=mnist: add mnist:"):
        training.data_dir_of({"cifar10": "../c"}, "mnist")
    for bad, match in (
        ("cifar10:../c,svhn:/s", "'svhn:/s' is not DATASET:FOLDER"),
        ("cifar10:../c,mnist:", "'mnist:' is not DATASET:FOLDER"),
        ("mnist:/a,mnist:/b", "names mnist twice"),
    ):
        with pytest.raises(ValueError, match=match):
            training.data_dirs(bad)


def test_the_cheap_check_finds_what_load_would_refuse(cifar_dir, mnist_dir, tmp_path):
    data.check("cifar10", cifar_dir)
    data.check("mnist", mnist_dir)
    with pytest.raises(data.DataError, match="does not exist"):
        data.check("mnist", tmp_path / "none")
    with pytest.raises(data.DataError, match="no MNIST in .*unreachable \\(offline\\)"):
        data.check("mnist", cifar_dir)  # the sweep: MNIST runs on the CIFAR-10 folder
    with pytest.raises(data.DataError, match="no CIFAR-10 in"):
        data.check("cifar10", mnist_dir)
    (mnist_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match="lacks t10k-labels-idx1-ubyte.gz"):
        data.check("mnist", mnist_dir)
    (tmp_path / "tfds" / "mnist").mkdir(parents=True)  # tensorflow-datasets' prepared mnist
    data.check("mnist", tmp_path / "tfds")


def test_a_dataset_sweep_with_a_missing_folder_is_refused_before_anything_trains(
    cifar_dir, tmp_path
):
    sweep_dir = tmp_path / "sweep"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cifar10_ablation.sweep",
            f"--data_dir=cifar10:{cifar_dir},mnist:{tmp_path / 'no_mnist'}",
            f"--log_dir={sweep_dir}",
            "--sweep=dataset=cifar10,mnist",
            *SMOKE_FLAGS,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: dataset=mnist: data_dir {tmp_path / 'no_mnist'} does not exist; pass "
        "--data_dir=<folder holding train-images-idx3-ubyte.gz and the other MNIST IDX files>"
    ]
    assert not sweep_dir.exists()  # nothing trained, nothing written


def test_a_dataset_sweep_reads_each_dataset_from_its_folder(
    parse_flags, cifar_dir, mnist_dir, tmp_path
):
    sweep_dir = tmp_path / "sweep"
    args = [
        f"--data_dir=cifar10:{cifar_dir},mnist:{mnist_dir}",
        f"--log_dir={sweep_dir}",
        "--sweep=dataset=cifar10,mnist",
        *SMOKE_FLAGS,
    ]
    runs = cli.grid_runs(parse_flags(cli.SWEEP, *args))
    assert [(n, c.data_dir) for n, c in runs] == [
        ("dataset-cifar10_seed0", str(cifar_dir)),
        ("dataset-mnist_seed0", str(mnist_dir)),
    ]
    trained, _, errors = runner.run_sweep(runs, sweep_dir)
    assert len(trained) == 2 and errors == []
    for name, config in runs:
        results = json.loads((sweep_dir / name / "results.json").read_text())
        assert results["config"]["dataset"] == config.dataset and results["global_step"] == 2
        assert results["data_source"].split(":", 1)[1].startswith(config.data_dir)
