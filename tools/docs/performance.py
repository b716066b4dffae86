"""docs/PERFORMANCE.md's figures, read from the committed benchmark logs in docs/bench/.

Each bench script ends its log with one JSON line (or, for the PyTorch reference and the profile,
one key=value line); this module reads those, never a typed number, so the page changes when a
log is measured again. Times per run are training steps alone: images per run over images/s.
"""

import json
import re
from pathlib import Path

import experiments
import flagfiles

from cifar10_ablation.config import CROP_SIZE
from cifar10_ablation.reports import markdown, report

# The preset flagfiles whose runs the time-per-run table prices (their max_steps x batch_size).
PRESET_FLAGFILES = ("tutorial", "fast", "quick")
LINEAR = "conv_relu=false,pool=avg"
PRECISIONS = ("float32", "bfloat16")  # the AMX host's alternated runs: default, --mixed_precision
# The CPU hosts the bigger nets were timed on (bench/train_throughput.py --arch=...), by bench
# folder: what one run of each depth flagfile costs there.
DEPTH_HOSTS = (
    ("2 cores, AVX2 only (AMD EPYC)", "avx2_host"),
    ("2 cores, AVX-512 and AMX (Intel Xeon)", "intel_amx_host"),
)


def last_json(path):
    """The log's last JSON line: what the bench script measured."""
    lines = [line for line in Path(path).read_text().splitlines() if line.startswith("{")]
    if not lines:
        raise ValueError(f"{path} ends with no JSON line: not a bench log")
    return json.loads(lines[-1])


def _match(path, pattern):
    found = re.search(pattern, Path(path).read_text(), re.M)
    if not found:
        raise ValueError(f"{path} has no line matching {pattern!r}")
    return found


def torch_rate(path):
    """Images/s of ../shared/bench/torch_reference.py, from its key=value line."""
    return float(_match(path, r"train_images_per_sec=([\d.]+)")[1])


def peak_memory_gb(path):
    """/usr/bin/time -v's peak resident set, in GB, and the run's averaged test accuracy."""
    kb = float(_match(path, r"Maximum resident set size \(kbytes\): (\d+)")[1])
    accuracy = float(_match(path, r"test accuracy ([\d.]+) \(averaged\)")[1])
    return kb / 1e6, accuracy


def final_accuracy(path):
    """The averaged weights' last test accuracy a training log printed."""
    return float(re.findall(r"test accuracy ([\d.]+) \(averaged\)", Path(path).read_text())[-1])


def images_per_run(flagfile):
    """Images one run of a flagfile trains: its max_steps x batch_size."""
    run = flagfiles.config(flagfile)
    return run.max_steps * run.batch_size


def preset_images(flags_dir):
    """{preset: images one run trains}, from the preset flagfiles."""
    return {name: images_per_run(Path(flags_dir) / f"{name}.flags") for name in PRESET_FLAGFILES}


def gpu_rates(bench):
    """{(arch, image size): images/s} of the all-ReLU net through Keras on JAX on the measured
    GPU, at JAX's default float32 precision (the first such row of each), and the GPU's name.
    Rows without an image size are the bench's 24x24 crops, its only input before it had one."""
    rates, device = {}, None
    for line in (Path(bench) / "gpu_h200" / "results.jsonl").read_text().splitlines():
        run = json.loads(line)
        default = run["float32_precision"].startswith("default")
        if run["backend"] == "jax" and default and run["conv_activation"] == "relu":
            key = (run["arch"], run.get("image_size", CROP_SIZE))
            rates.setdefault(key, run["images_per_second"])
            device = run["device_kind"]
    return rates, device


def _rate(value):
    return f"{value:,.0f}"


def _duration(seconds):
    minutes = seconds / 60
    if minutes < 2:
        return f"{seconds:.0f} s"
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _durations(fast, slow):
    """Fastest to slowest time, the unit said once where both share it: "2.4-3.5 h"."""
    low, high = _duration(fast), _duration(slow)
    if low == high:
        return low
    number, unit = low.split(" ")
    return f"{number}-{high}" if high.endswith(f" {unit}") else f"{low}-{high}"


def _range(values, fmt=_rate):
    low, high = min(values), max(values)
    return fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)}-{fmt(high)}"


def concurrent_note(bench):
    """Two trainings side by side against one after the other (bench/concurrent_runs.py's log on
    the AVX2 host): what a sweep's CPU workers are set by."""
    log = "avx2_host/concurrent_runs.log"
    found = last_json(bench / log)
    ratio = {
        way: _range(found[way]["rate_vs_in_turn"], "{:.2f}x".format)
        for way in ("at once", "at once, 1 thread each")
    }
    repeats = len(found["in turn"]["wall_seconds"])
    return markdown.wrap(
        f"**Two runs at once.** On the 2-core AVX2 host, {found['runs']} tutorial-schedule "
        f"trainings side by side ({found['steps']} steps each, {repeats} repeats, each run's own "
        f"training images/s summed; [`bench/{log}`](bench/{log})) train "
        f"{ratio['at once, 1 thread each']} the images/s of the same runs one after the other "
        f"when each has one intra-op thread (half the cores), and {ratio['at once']} when each "
        "uses every core. "
        + (
            "So a sweep's `--parallel` workers without a GPU each get their share of the cores. "
            "These are 500-step runs; at steady state the gain may be smaller."
            if min(found["at once, 1 thread each"]["rate_vs_in_turn"]) > 1
            else "Side by side does not pay here: train one run at a time."
        )
    )


def run_rates(docs_dir):
    """What the bench's projection leaves out: the rates the committed runs of the tutorial net
    (results_*.csv, every config) trained at, per recorded CPU; "" where none recorded one."""
    by_cpu = {}
    for path in sorted(Path(docs_dir).glob("results_*.csv")):
        for row in report.read_csv(path):
            if row.get("cpu") and row.get("train_images_per_second"):
                by_cpu.setdefault(row["cpu"], []).append(row["train_images_per_second"])
    if not by_cpu:
        return ""
    said = [
        f"{_range(rates)} images/s on {cpu} ({len(rates)} runs)" for cpu, rates in by_cpu.items()
    ]
    return markdown.wrap(
        "The hosts are shared, so a run's own rate drifts from the bench's: the committed runs of "
        "the tutorial net (every config, the `results_*.csv` files' `train_images_per_second`) "
        f"trained at {'; '.join(said)}. The README's Reproduce table gives their times."
    )


def amx_rates(folder):
    """Per net timed on the Intel AMX host (float32 and --mixed_precision runs alternated, every
    log in the folder): its name and its all-ReLU images/s in each precision, grouped by the arch
    and precision each log's JSON records (logs from before --arch are the tutorial net's). The
    tutorial net first, then the bigger nets."""
    rates = {}
    for log in sorted(Path(folder).glob("*.log")):
        run = last_json(log)
        arch = run.get("arch", "tutorial")
        precision = "bfloat16" if run["mixed_precision"] else "float32"
        rates.setdefault((arch, precision), []).append(run["train_images_per_second"][arch])
    nets = [("the tutorial net", "tutorial")]
    nets += [(f"{e.net} on whole images", e.arch) for e in experiments.bigger()]
    missing = [f"{a} {p}" for _, a in nets for p in PRECISIONS if (a, p) not in rates]
    if missing:
        raise ValueError(f"{folder} has no bench log of {', '.join(missing)}")
    return [{"net": name, **{p: rates[arch, p] for p in PRECISIONS}} for name, arch in nets]


def amx_precisions(amx):
    """Each net's bfloat16 and float32 rates, and the gain from the least to the most it can be
    (slowest bfloat16 run over fastest float32 run, and the reverse)."""
    said = []
    for net in amx:
        low = min(net["bfloat16"]) / max(net["float32"])
        high = max(net["bfloat16"]) / min(net["float32"])
        said.append(
            f"{net['net']} {_range(net['bfloat16'])} against {_range(net['float32'])} "
            f"({low:.2f}-{high:.2f}x)"
        )
    return "; ".join(said)


def amx_overlap(amx):
    """The nets whose float32 and bfloat16 rates overlap: no gain measured at all."""
    nets = [n["net"] for n in amx if min(n["bfloat16"]) <= max(n["float32"])]
    if not nets:
        return ""
    return f"; for {' and '.join(nets)} the two precisions' rates overlap"


def time_table(hosts, images):
    """Per host: the tutorial net's images/s and what each preset's run costs at that rate."""
    header = ["host", "tutorial net, images/s", *(f"`{p}` run" for p in images), "logs"]
    rows = []
    for label, rates, logs in hosts:
        cells = [_duration(n / min(rates)) for n in images.values()]
        if max(rates) > 1.15 * min(rates):  # a spread worth showing: the range, slow to fast
            cells = [_durations(n / max(rates), n / min(rates)) for n in images.values()]
        links = ", ".join(f"[{Path(log).name}]({log})" for log in logs)
        rows.append([label, _range(rates), *cells, links])
    return markdown.table(header, rows)


def net_logs(folder):
    """{arch: [(log, its float32 images/s of every config it timed)]} of a bench folder's logs
    that name an arch (the --arch runs; logs from before --arch are the tutorial net's)."""
    found = {}
    for log in sorted(Path(folder).glob("*.log")):
        run = last_json(log)
        if "arch" in run and not run["mixed_precision"]:
            found.setdefault(run["arch"], []).append((log, run["train_images_per_second"]))
    return found


def depth_table(bench, flags_dir):
    """Per bigger net and CPU host: its float32 images/s (all ReLUs; none, with max-pool
    downsampling: the bench's pair) and what one run of its flagfile's training steps costs
    there, fastest to slowest."""
    header = ["net", "one run", "host", "all ReLUs, images/s", "no ReLU, max-pool downsampling"]
    header += ["one run's time", "logs"]
    rows = []
    timed = {folder: net_logs(Path(bench) / folder) for _, folder in DEPTH_HOSTS}  # read once
    for experiment in experiments.bigger():
        images = images_per_run(Path(flags_dir) / Path(experiment.flagfile).name)
        for label, folder in DEPTH_HOSTS:
            logs = timed[folder].get(experiment.arch)
            if not logs:
                raise ValueError(f"{folder} has no float32 bench log of {experiment.arch}")
            relu = [rates[experiment.arch] for _, rates in logs]
            linear = [r for _, rates in logs for c, r in rates.items() if c != experiment.arch]
            rates = relu + linear
            time = _durations(images / max(rates), images / min(rates))
            links = ", ".join(f"[{log.name}](bench/{folder}/{log.name})" for log, _ in logs)
            rows.append(
                [experiment.net, f"{images:,} images", label, _range(relu), _range(linear), time]
                + [links]
            )
    return markdown.table(header, rows)


# The speed options' rows: each the same bench with one flag changed.
OPTIONS = (
    ("`train` as shipped (float32, 25 steps per graph call, no XLA on CPU)", "default.log"),
    ("1 step per graph call (`--steps_per_execution=1`)", "spe1.log"),
    ("XLA (`--jit_compile=true`)", "xla.log"),
    ("bfloat16 compute (`--mixed_precision`), float32 weights", "bf16.log"),
)


def option_results(bench):
    """Each OPTIONS log's last result, by log name: read once for every fragment."""
    return {log: last_json(bench / log) for _, log in OPTIONS}


def pipeline_note(options, gpu):
    """The bullet on the input pipeline's rate against the fastest CPU training rate of the
    options table (`options`: each OPTIONS log's last result), and against the GPU's training
    steps where those are faster."""
    pipeline = options["default.log"]["input_pipeline_images_per_second"]
    fastest = max(max(o["train_images_per_second"].values()) for o in options.values())
    text = (
        "**The input pipeline** (decoded images kept in memory, the tutorial's distortions "
        f"applied a batch at a time) delivers {_rate(pipeline)} images/s on the AMD AVX-512 "
        "host's 2 cores, "
        f"{pipeline / fastest:.0f}x the fastest training rate above: it never holds CPU "
        "training up"
    )
    if gpu["images_per_second"] > pipeline:
        text += (
            f". The {gpu['device_kind']}'s training steps alone "
            f"({_rate(gpu['images_per_second'])} images/s) outrun it; whether a GPU host's "
            "pipeline keeps up is not measured"
        )
    return markdown.wrap(text + ".", bullet=True)


def options_table(options):
    """The speed options, each as the same bench with one flag changed (`options`: each
    OPTIONS log's last result)."""
    header = ["as run", "tutorial net, images/s", f"`{LINEAR.replace(',', ' ')}`", "log"]
    rows = []
    for label, log in OPTIONS:
        rates = options[log]["train_images_per_second"]
        rows.append(
            [label, _rate(rates["tutorial"]), _rate(rates[LINEAR]), f"[{log}](bench/{log})"]
        )
    return markdown.table(header, rows)


def families_table(bench):
    """Ours against the PyTorch reference and the matmul ceiling, per CPU family (two runs each)."""
    header = ["CPU family", "ours, images/s", "PyTorch, images/s", "ratio", "of the ceiling"]
    rows = []
    for family in json.loads((bench / "families" / "summary.json").read_text())["families"]:
        rows.append(
            [
                f"`{family['family']}`: {family['stands_for']}",
                " / ".join(_rate(r) for r in family["ours_images_per_second"]),
                " / ".join(_rate(r) for r in family["torch_images_per_second"]),
                f"{family['ratio_lowest_over_highest']:.2f}x",
                " / ".join(f"{f:.0%}" for f in family["fraction_of_ceiling"]),
            ]
        )
    return markdown.table(header, rows)


def gpu_table(bench):
    """The model factory through Keras's JAX and PyTorch backends on the lent GPU."""
    header = ["net", "backend", "float32 matmuls", "steps timed", "images/s"]
    rows = []
    for line in (bench / "gpu_h200" / "results.jsonl").read_text().splitlines():
        run = json.loads(line)
        net = run["arch"] if run["arch"] != "tutorial" else "tutorial net"
        if (run["conv_activation"], run["pool"]) != ("relu", "max"):
            net += f", conv {run['conv_activation']}, {run['pool']} pool"
        precision = run["float32_precision"].replace(" on a GPU", "")
        rows.append(
            [net, run["backend"], precision, f"{run['steps']:,}", _rate(run["images_per_second"])]
        )
    return markdown.table(header, rows)


def profile_top(bench, count=3):
    """The profile's step time and its `count` most expensive ops (ms per step, op name)."""
    text = (bench / "profile.log").read_text()
    step_ms = float(re.search(r"([\d.]+) ms per step", text)[1])
    ops = re.findall(r"^\s+([\d.]+) ms/step\s+\S+:(\S+)", text, re.M)
    return step_ms, [(float(ms), name) for ms, name in ops[:count]]


def fragments(docs_dir, flags_dir):
    """The PERFORMANCE.md fragments, every figure from the logs under docs_dir/bench."""
    bench = Path(docs_dir) / "bench"
    images = preset_images(flags_dir)
    options = option_results(bench)
    default = options["default.log"]
    shipped = [r["train_images_per_second"] for r in (default, last_json(bench / "default2.log"))]
    avx2 = [last_json(bench / "avx2_host" / n) for n in ("default1.log", "default2.log")]
    amx = amx_rates(bench / "intel_amx_host")
    gpu = json.loads((bench / "gpu_h200" / "results.jsonl").read_text().splitlines()[0])
    hosts = [
        (
            "2 cores, AVX-512 (AMD EPYC)",
            [r["tutorial"] for r in shipped],
            ["bench/default.log", "bench/default2.log"],
        ),
        (
            "2 cores, AVX2 only (AMD EPYC)",
            [r["train_images_per_second"]["tutorial"] for r in avx2],
            ["bench/avx2_host/default1.log", "bench/avx2_host/default2.log"],
        ),
        (
            "2 cores, AVX-512 and AMX (Intel Xeon)",
            amx[0]["float32"],
            ["bench/intel_amx_host/default1.log", "bench/intel_amx_host/default2.log"],
        ),
        (
            f"1 {gpu['device_kind']}, Keras on JAX (training steps only, no TensorFlow)",
            [gpu["images_per_second"]],
            ["bench/gpu_h200/jax_tutorial.log"],
        ),
    ]
    bf16 = options["bf16.log"]["train_images_per_second"]["tutorial"]
    lrn = last_json(bench / "lrn.log")
    conv = last_json(bench / "families" / "conv_grad_avx512.log")
    families = {
        f["family"]: f
        for f in json.loads((bench / "families" / "summary.json").read_text())["families"]
    }
    memory = {
        name: peak_memory_gb(bench / "memory" / f"quick500_{name}.log")
        for name in ("before", "after", "after_split", "after_without_jax")
    }
    step_ms, top = profile_top(bench)
    onednn_on = min(families["avx2"]["ours_images_per_second"])
    onednn_off = max(families["avx2_onednn_off"]["ours_images_per_second"])
    float32 = [  # the bf16 check's config at the same preset in float32, every committed seed
        r["test_accuracy"]
        for r in report.read_csv(Path(docs_dir) / "results_quick.csv")
        if (r["conv_activation"], r["fc_activation"], r["pool"]) == ("relu", "linear", "avg")
    ]
    torch = [torch_rate(bench / n) for n in ("torch.log", "torch2.log")]
    value = {
        "time_table": time_table(hosts, images),
        "depth_table": depth_table(bench, flags_dir),
        "run_rates": run_rates(docs_dir),
        "concurrent_runs": concurrent_note(bench),
        "options_table": options_table(options),
        "families_table": families_table(bench),
        "gpu_table": gpu_table(bench),
        "shipped_rate": _range([r["tutorial"] for r in shipped]),
        "torch_rate": _range(torch),
        "torch_ratio": f"{min(r['tutorial'] for r in shipped) / max(torch):.1f}x",
        "ceiling_rate": _rate(default["ceiling_images_per_second"]),
        "ceiling_fraction": f"{default['fraction_of_ceiling']['tutorial']:.0%}",
        "matmul_gflops": _rate(max(default["matmul_gflops"].values())),
        "pipeline": pipeline_note(options, gpu),
        "bf16_gain": f"{bf16 / default['train_images_per_second']['tutorial']:.2f}x",
        "amx_precisions": amx_precisions(amx),
        "amx_overlap": amx_overlap(amx),
        "bf16_accuracy": markdown.percent(
            final_accuracy(Path(docs_dir) / "logs" / "bf16_quick.log")
        ),
        "float32_accuracy": _range(float32, markdown.percent),
        "float32_seeds": str(len(float32)),
        "onednn_gain": f"{onednn_on / onednn_off:.2f}x",
        "lrn_ms": f"{lrn['ms_forward_backward']['tf.nn.local_response_normalization']:.1f} ms "
        f"to {lrn['ms_forward_backward']['model.LocalResponseNormalization']:.1f} ms",
        "lrn_difference": f"{max(lrn['max_abs_difference'].values()):.0e}",
        "conv1_grad_ms": f"{conv['layers']['conv1']['ms']['filter_grad keras_conv2d']:.1f} ms to "
        f"{conv['layers']['conv1']['ms']['filter_grad split_bias']:.1f} ms",
        "conv_split_gain": f"{conv['train_speedup']['split_conv1_conv2']:.2f}x",
        "memory_before": f"{memory['before'][0]:.1f} GB",
        "memory_now": _range(
            [memory[n][0] for n in ("after_split", "after_without_jax")], lambda g: f"{g:.2f}"
        )
        + " GB",
        "memory_jax": f"{(memory['after'][0] - memory['after_without_jax'][0]) * 1000:.0f} MB",
        "memory_accuracy": markdown.percent(memory["after_split"][1]),
        "profile_step_ms": f"{step_ms:.1f}",
        "profile_top": "; ".join(f"`{name}` {ms:.1f} ms" for ms, name in top),
        "profile_share": f"{sum(ms for ms, _ in top) / step_ms:.0%}",
    }
    return value
