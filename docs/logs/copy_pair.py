"""Copies the finding's linear/relu avg-pool runs (identical configs) into the activation-scale dir.

python docs/logs/copy_pair.py [SEED ...]   # default: seed 0
"""

import json
import shutil
import sys
from pathlib import Path

src, dst = Path("tensorboard_logs/finding_quick"), Path("tensorboard_logs/activation_scale_quick")
for seed in [int(s) for s in sys.argv[1:]] or [0]:
    for old, new in (
        (f"pool-avg_conv_relu-true_seed{seed}", f"conv_activation-relu_seed{seed}"),
        (f"pool-avg_conv_relu-false_seed{seed}", f"conv_activation-linear_seed{seed}"),
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
