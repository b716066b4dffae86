"""tools/docs/units.py fills the non-linearity counts a run records into rows that predate them."""

import csv

import budget
import flagfiles
import units


def _write(path, rows):
    header = [
        "conv_activation",
        "fc_activation",
        "pool",
        "lrn",
        "run",
        "seed",
        "global_step",
        "test_accuracy",
        "train_seconds_total",
    ]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            dict(zip(header, (*switches, f"run{i}", 0, 100, 0.5, 9.0), strict=True))
            for i, switches in enumerate(rows)
        )


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_tutorial_net_s_counts_as_its_layer_shapes_give_them(tmp_path):
    path = tmp_path / "results_fast.csv"
    _write(path, [("relu", "relu", "max", "true"), ("linear", "linear", "avg", "true")])
    assert units.fill(path) == 2
    rows = _read(path)
    assert list(rows[0])[7:10] == ["test_accuracy", "activation_units", "max_pool_windows"]
    # 24x24x64 + 12x12x64 + 384 + 192 ReLUs; 3x3/2 max pools to 12x12x64 and 6x6x64
    assert (rows[0]["activation_units"], rows[0]["max_pool_windows"]) == ("46656", "11520")
    assert (rows[1]["activation_units"], rows[1]["max_pool_windows"]) == ("0", "0")
    assert units.fill(path) == 0 and _read(path) == rows  # filled rows are kept as they are


def test_a_csv_s_net_comes_from_its_flagfile(tmp_path):
    flagfile = tmp_path / "resnet20.flags"
    flagfile.write_text("--arch=resnet20\n--augmentation=pad_crop\n--max_steps=10\n")
    path = tmp_path / "beyond_resnet20.csv"
    _write(path, [("relu", "relu", "avg", "true")])
    units.fill(path, flagfiles.config(flagfile))
    # the stem and two ReLUs per block: 32x32x16 x 7, 16x16x32 x 6, 8x8x64 x 6 on whole images
    assert _read(path)[0]["activation_units"] == str(
        7 * 32 * 32 * 16 + 6 * 16 * 16 * 32 + 6 * 8 * 8 * 64
    )


def test_the_budget_plot_takes_each_config_once_with_its_counts(tmp_path):
    path = tmp_path / "results_fast.csv"
    _write(
        path,
        [
            ("relu", "relu", "max", "true"),
            ("relu", "relu", "max", "true"),
            ("linear", "relu", "avg", "true"),
        ],
    )
    units.fill(path)
    found = {p["config"]: p for p in budget.points(tmp_path)[0]}
    assert found["conv_activation=relu, pool=max"]["n"] == 2
    assert found["conv_activation=relu, pool=max"]["units"] == 46656
    assert found["conv_activation=linear, pool=avg"] | {"net": None} == {
        "net": None,
        "config": "conv_activation=linear, pool=avg",
        "units": 576,
        "windows": 0,
        "mean": 0.5,
        "n": 1,
        "by_seed": {0: 0.5},
        "costed": False,
    }
    budget.plot(tmp_path / "units.png", list(found.values()), [(1799, 0.8631, "published")])
    assert (tmp_path / "units.png").read_bytes()[:4] == b"\x89PNG"


def test_a_csv_of_one_config_so_far_still_names_it(tmp_path):
    path = tmp_path / "results_fast.csv"
    _write(path, [("relu", "relu", "max", "true"), ("relu", "relu", "max", "true")])
    units.fill(path)
    assert [p["config"] for p in budget.points(tmp_path)[0]] == ["conv_activation=relu"]


def test_a_budget_csv_without_the_counts_is_left_out_and_named(tmp_path):
    _write(tmp_path / "beyond_vgg.csv", [("relu", "relu", "max", "true")])
    text, found = budget.fragments(tmp_path)
    assert found == [] and text["units_plot"] == ""
    assert " ".join(text["units_left_out"].split()) == (
        "Left out, for runs that do not record `activation_units`: `beyond_vgg.csv` "
        "(`python tools/docs/units.py` fills them)."
    )


def test_a_bigger_net_s_cost_per_amount_of_non_linearity_kept(tmp_path):
    configs = {  # (conv_activation, downsample, stage_activations): units, windows, accuracy
        ("relu", "stride", ""): (1000, 0, 0.90),
        ("", "stride", "linear+relu"): (200, 0, 0.80),
        ("linear", "max", ""): (0, 50, 0.60),
        ("linear", "stride", ""): (0, 0, 0.40),
    }
    header = [
        "conv_activation",
        "downsample",
        "stage_activations",
        "run",
        "seed",
        "global_step",
        "test_accuracy",
        "activation_units",
        "max_pool_windows",
    ]
    with open(tmp_path / "depth_resnet18.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for (conv, down, stages), (count, windows, accuracy) in configs.items():
            for seed in range(3):
                writer.writerow(
                    [
                        conv or "relu",
                        down,
                        stages,
                        f"{conv}{down}{stages}{seed}",
                        seed,
                        10,
                        accuracy + 0.01 * seed * (accuracy < 0.9),
                        count,
                        windows,
                    ]
                )
    text, _ = budget.fragments(tmp_path)
    rows = [" | ".join(r.split(" | ")[1:4]) for r in text["cost_table"].splitlines()[2:]]
    assert rows == [  # every cost against all ReLUs with stride downsampling, paired by seed
        "200 of 1,000 activation units | downsample=stride, stage_activations=linear+relu | "
        "+9.00 (n=3)",
        "max pooling only | conv_activation=linear, downsample=max | +29.00 (n=3)",
        "no activation, no max pool | conv_activation=linear, downsample=stride | +49.00 (n=3)",
    ]
    assert "One Holm family per net, 3 costs with an interval in all" in text["cost_note"]
