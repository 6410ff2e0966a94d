"""The repository itself: nothing in it points at the machine it was developed on."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home/\w+|root|Users/\w+)/|\.\./shared/")
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", "outputs", "corpus", "runs", "build", ".venv", "venv"}


def test_no_development_machine_paths():
    hits = []
    for path in REPO.rglob("*"):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(REPO).parts):
            continue
        if path.suffix not in {".py", ".md", ".txt", ".ini", ".sh", ".json", ".cfg", ".toml", ".yml", ".yaml", ""}:
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        hits += [f"{path.relative_to(REPO)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                 if MACHINE_PATH.search(line) and "MACHINE_PATH" not in line]
    assert not hits, hits
