"""Types (issue 17, item 8): the package ships ``py.typed`` and mypy runs clean on the public
modules, with the configuration in ``pyproject.toml``."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ["graphmem/memory.py", "graphmem/hits.py", "graphmem/errors.py", "graphmem/settings.py", "graphmem/records.py"]


def test_the_package_ships_py_typed():
    assert resources.files("graphmem").joinpath("py.typed").is_file()


def test_mypy_runs_clean_on_the_public_modules(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                             "--cache-dir", str(tmp_path / "mypy-cache"), *PUBLIC],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 5 source files" in result.stdout
