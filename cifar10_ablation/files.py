"""Files written whole or not at all, and JSON read back with the file named in its error.

    write_json_atomic(run_dir / "results.json", results)
    write_text_atomic(docs / "RESULTS.md", text)
    results = load_json(run_dir / "results.json")

A run stopped (SIGTERM, a full disk, a crash) mid-write leaves the old file, never half of the
new one: each write goes to a temporary file in the same folder, synced, then renamed over.
"""

import json
import os
import tempfile
from pathlib import Path


def write_text_atomic(path, text):
    """text to a temporary file beside path, synced, then renamed over path."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_text(values):
    """values as the project's JSON files hold them: indented, keys sorted, a final newline."""
    return json.dumps(values, indent=2, sort_keys=True) + "\n"


def write_json_atomic(path, values):
    """json_text(values), written as write_text_atomic writes."""
    write_text_atomic(path, json_text(values))


def load_json(path):
    """A JSON file's object; ValueError naming the file when it is not JSON (a file cut short)."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is unreadable: {error}") from None
