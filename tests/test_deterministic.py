"""The same command prints the same bytes in every run: no output may depend on Python's
string-hash seed (a set's order), which differs between processes.  Shown numbers made in a
set's order once printed optim-step's LaTeX factors in a different order from run to run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUN_ALL = r"""
import hashlib, json, os, shlex, sys
os.environ["COLUMNS"] = "80"
sys.path.insert(0, sys.argv[1])
import readme
from typer.testing import CliRunner
from dlcalc.cli import app
out = {}
extra_lines = [  # beyond the README: every optimizer's fraction, and symbolic inputs
    "dlcalc optim-step --method adagrad --theta 1 --grad 0.5 --grad 0.3 --initial-accumulator-value 0.1",
    "dlcalc optim-step --method rmsprop --theta [1,2] --grad [0.5,-1] --grad [0.3,0.2] --centered",
    "dlcalc optim-step --method adam --theta 1 --loss 'theta**2' --steps 2 --lr 0.1",
    "dlcalc optim-step --method sgd --theta 1 --grad g --momentum mu --nesterov",
    "dlcalc adam-step --theta 1 --grad 0.5 --grad 0.3 --lr 0.1 --amsgrad",
    "dlcalc sigmoid-step --x u --t 0 --steps 2",
    "dlcalc quadratic-gd --H [[2,1],[1,3]] --w0 1,1 --lr eps --newton",
]
for line in readme.examples(open(sys.argv[2], encoding="utf-8").read()) + extra_lines:
    argv = shlex.split(line)[1:]
    if not argv or argv[0] == "batch" or "--plot" in argv:
        continue
    own = readme.without(argv, {"--json", "--latex", "--latex-document", "--brief"}, set())
    for extra in ([], ["--json"], ["--latex"]):
        r = CliRunner().invoke(app, own + extra)
        out[" ".join(own + extra)] = hashlib.sha1(r.stdout.encode()).hexdigest()
print(json.dumps(out))
"""


def _digests(seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    r = subprocess.run([sys.executable, "-c", _RUN_ALL, str(ROOT / "tools"), str(ROOT / "README.md")],
                       capture_output=True, text=True, env=env, timeout=600, check=True)
    return json.loads(r.stdout)


def test_readme_examples_print_the_same_under_any_hash_seed():
    a = _digests("0")
    assert len(a) > 60
    for seed in ("1", "7"):
        b = _digests(seed)
        differ = [k for k in a if a[k] != b.get(k)]
        assert not differ, (seed, differ[:5])
