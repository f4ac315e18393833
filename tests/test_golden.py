"""Every command against golden values from an independent oracle.

The fixtures in tests/golden/ are written by tests/oracle/gen_torch.py (PyTorch float64)
and tests/oracle/gen_numpy.py (NumPy); this run needs neither.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

from golden_compare import close
from conftest import run_cli

GOLDEN = Path(__file__).parent / "golden"
CASES = [(f.stem, case) for f in sorted(GOLDEN.glob("*.json"))
         for case in json.loads(f.read_text())["cases"]]


@pytest.mark.parametrize("command,case", CASES, ids=[f"{c}:{k['id']}" for c, k in CASES])
def test_matches_oracle(command, case):
    r = run_cli(command, *case["args"], "--json")
    assert r.code == 0, r.stdout + r.stderr
    out = r.json()
    diffs = close(out["result"], case["expected"], case.get("rtol", 1e-12))
    assert not diffs, "\n".join(diffs[:10])


@pytest.mark.parametrize("command,case", CASES[::3], ids=[f"{c}:{k['id']}" for c, k in CASES[::3]])
def test_exact_round_trips(command, case):
    """Every `exact` string parses back (as a consumer would) to the JSON `result` value."""
    out = run_cli(command, *case["args"], "--json").json()
    assert set(out["exact"]) == set(out["result"])
    for key, value in out["result"].items():
        exact = out["exact"][key]
        if isinstance(value, bool):
            assert exact is value
            continue
        if value is None:  # a key that does not apply (init's bound of a normal scheme)
            assert sympy.sympify(exact) is None
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            continue  # records: each field is checked through its own key elsewhere
        parsed = sympy.sympify(exact)  # the consumer trusts our output
        as_float = json.loads(json.dumps(_floats(parsed)))
        assert not close(value, as_float, 1e-12), (key, exact, value)


def _floats(x):
    if x is None:  # a masked attention score: null in result, None in exact
        return None
    if isinstance(x, (list, tuple, sympy.MatrixBase)):
        return [_floats(e) for e in (x.tolist() if isinstance(x, sympy.MatrixBase) else x)]
    return int(x) if x.is_Integer else float(x)


def test_every_command_has_a_golden_file():
    from dlcalc import registry

    missing = set(registry.names()) - {f.stem for f in GOLDEN.glob("*.json")}
    assert not missing, f"no golden fixture (from an independent oracle) for {sorted(missing)}"
