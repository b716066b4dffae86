"""Copies the finding's seed-1 and seed-2 pairs (same configs) into the activation-scale dir."""

import json
import shutil
from pathlib import Path

src, dst = Path("tensorboard_logs/finding_quick"), Path("tensorboard_logs/activation_scale_quick")
for old, new in (
    *((f"pool-avg_conv_relu-true_seed{s}", f"conv_activation-relu_seed{s}") for s in (1, 2)),
    *((f"pool-avg_conv_relu-false_seed{s}", f"conv_activation-linear_seed{s}") for s in (1, 2)),
):
    if not (src / old / "results.json").exists() or (dst / new).exists():
        print("skip", old)
        continue
    shutil.copytree(src / old, dst / new)
    for name in ("config.json", "results.json"):
        p = dst / new / name
        d = json.loads(p.read_text())
        (d["config"] if name == "results.json" else d)["log_dir"] = str(dst / new)
        p.write_text(json.dumps(d, indent=2))
    print("copied", old, "->", new)
