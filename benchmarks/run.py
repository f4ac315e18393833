"""Speed and memory of dlcalc against the import floor (issue 9).

Every case is timed against its floor in the same run, alternating A/B, and judged by the
ratio of the medians, so a busy or slow machine moves both sides alike.  The ratio of the
CPU times (user + system) is shown beside it: on a virtual machine whose CPU is taken by
others (steal time) it moves less than the wall clock.  Peak memory (max RSS of the child)
is compared with ``python -c "import sympy"``.

    python benchmarks/run.py            # all cases, 7 rounds
    python benchmarks/run.py -n 15      # more rounds
    python benchmarks/run.py -k adam    # only cases whose name contains "adam"
    python benchmarks/run.py --readme   # also every example command of the README (target 1.3)

Prints a Markdown table and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
DLCALC = shutil.which("dlcalc", path=str(Path(PY).parent)) or shutil.which("dlcalc")

FLOOR_CLI = [PY, "-c", "import typer, rich"]
FLOOR = [PY, "-c", "import sympy, typer, rich"]
FLOOR_MEM = [PY, "-c", "import sympy"]


def _batch_256x64() -> str:
    rng = random.Random(1)
    rows = [[round(rng.gauss(0, 1), 3) for _ in range(64)] for _ in range(256)]
    return json.dumps(rows, separators=(",", ":"))  # about 110,000 characters, under Linux's 128 KiB per argument


def _batch_file(tmp: Path) -> Path:
    """1,000 mixed homework-sized exercises for `dlcalc batch`."""
    rng = random.Random(2)
    lines = []
    for i in range(1000):
        kind = i % 6
        a = rng.randint(1, 9) / 10
        if kind == 0:
            job = {"command": "param-count", "args": [str(rng.randint(2, 900)), str(rng.randint(2, 300)), "10"]}
        elif kind == 1:
            job = {"command": "sigmoid-step", "args": ["--x", str(a), "--t", str(i % 2)]}
        elif kind == 2:
            job = {"command": "adam-step", "args": ["--theta", "1", "--grad", str(a), "--grad", "0.3", "--lr", "0.1"]}
        elif kind == 3:
            job = {"command": "bn-forward", "args": ["1", "2", str(3 + a), "4"]}
        elif kind == 4:
            job = {"command": "quadratic-gd", "args": ["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]",
                                                         "--lr", str(a / 4), "--steps", "3"]}
        else:
            job = {"command": "dropout-expectation", "args": ["--y", "1", "--u", "[1, 2, 0.5]",
                                                                "--w", f"[{a}, -0.5, 1]", "--alpha", "0.2"]}
        lines.append(json.dumps(job))
    path = tmp / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def cases(tmp: Path) -> list[tuple[str, list[str], list[str], float]]:
    """(name, command, floor, target ratio): the cases below, and every other registered
    command by the example of its declaration (a homework-sized case), so that no command
    goes unmeasured."""
    import shlex

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from dlcalc import registry

    d = [DLCALC or "dlcalc"]
    listed = _listed(d)
    measured = {c[1][1] for c in listed if len(c[1]) > 1}
    for name in registry.names():
        if name not in measured:
            argv = shlex.split(registry.command(name).example)[1:]
            listed.append((f"{name} (its example)", d + argv, FLOOR, 1.3))
    return _with_batch(listed, d, tmp)


def _listed(d: list[str]) -> list[tuple[str, list[str], list[str], float]]:
    return [
        ("dlcalc --help", d + ["--help"], FLOOR_CLI, 1.5),
        ("dlcalc --version", d + ["--version"], FLOOR_CLI, 1.5),
        ("param-count 784 256 10", d + ["param-count", "784", "256", "10"], FLOOR, 1.3),
        ("sigmoid-step --x 1 --t 0", d + ["sigmoid-step", "--x", "1", "--t", "0"], FLOOR, 1.3),
        ("adam-step, 3 given gradients", d + ["adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3",
                                              "--grad", "-0.2", "--lr", "0.1"], FLOOR, 1.3),
        ("bn-forward 1 2 3 4", d + ["bn-forward", "1", "2", "3", "4"], FLOOR, 1.3),
        ("quadratic-gd 2x2", d + ["quadratic-gd", "--H", "[[2,1],[1,3]]", "--w0", "[1,1]", "--lr", "0.1",
                                  "--steps", "10", "--newton"], FLOOR, 1.3),
        ("dropout-expectation, 3 inputs", d + ["dropout-expectation", "--y", "1", "--u", "[1, 2, 0.5]",
                                               "--w", "[0.5, -0.5, 1]", "--alpha", "0.2"], FLOOR, 1.3),
        ("quadratic-gd 3x3, 1,000,000 steps", d + ["quadratic-gd", "--H", "[[4,1,0],[1,3,1],[0,1,2]]",
                                                   "--w0", "[1,-1,2]", "--lr", "0.05", "--steps", "1000000"],
         FLOOR, 1.5),
        ("adam-step, 1000 steps of --loss, 2-D", d + ["adam-step", "--theta", "[1, -2]", "--loss",
                                                      "(theta1-1)**2 + (theta2+2)**2 + theta1*theta2",
                                                      "--steps", "1000", "--lr", "0.01"], FLOOR, 2.0),
        ("bn-forward 256x64 inline", d + ["bn-forward", "--x", _batch_256x64()], FLOOR, 2.0),
        ("optim-step, 1000 steps of --loss, 2-D (rmsprop)", d + [
            "optim-step", "--method", "rmsprop", "--theta", "[1, -2]", "--loss",
            "(theta1-1)**2 + (theta2+2)**2 + theta1*theta2", "--steps", "1000", "--lr", "0.01"], FLOOR, 2.0),
    ]


def readme_cases(d: list[str]) -> list[tuple[str, list[str], list[str], float]]:
    """Every example command line of the README, a homework case each (``--plot`` left out:
    it draws with matplotlib, an extra; ``batch`` examples read files of their own)."""
    import shlex

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tools"))
    import readme

    out = []
    for line in readme.examples((root / "README.md").read_text()):
        argv = shlex.split(line)[1:]
        if not argv or argv[0] == "batch" or "--plot" in argv:
            continue
        out.append(("README: " + " ".join(argv)[:70], d + argv, FLOOR, 1.3))
    return out


def _with_batch(listed: list, d: list[str], tmp: Path) -> list:
    return listed + [("batch: 1,000 mixed exercises", d + ["batch", str(_batch_file(tmp))], FLOOR, 10.0)]


def measure(cmd: list[str]) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS in KiB, exit code and CPU seconds (user + system) of one run."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--rounds", type=int, default=7)
    ap.add_argument("-k", "--filter", default="")
    ap.add_argument("--readme", action="store_true", help="also time every README example")
    opts = ap.parse_args()
    if DLCALC is None:
        print("dlcalc is not installed next to this Python", file=sys.stderr)
        return 2
    # an installed package has its bytecode compiled; an editable checkout may not
    # (PYTHONDONTWRITEBYTECODE), and compiling on every run is not what users pay
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PY, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "dlcalc")],
                   check=False, env=env)
    with tempfile.TemporaryDirectory() as tmpdir:
        every = cases(Path(tmpdir)) + (readme_cases([DLCALC]) if opts.readme else [])
        selected = [c for c in every if opts.filter in c[0]]
        mem_floor = max(measure(FLOOR_MEM)[1] for _ in range(3))
        rows, missed = [], 0
        for name, cmd, floor, target in selected:
            ts, fs, cts, cfs, mem, codes = [], [], [], [], 0, set()
            measure(cmd)  # warm the file cache
            for _ in range(opts.rounds):
                f, _, _, cf = measure(floor)
                t, rss, code, ct = measure(cmd)
                fs.append(f)
                ts.append(t)
                cfs.append(cf)
                cts.append(ct)
                mem = max(mem, rss)
                codes.add(code)
            ratio = statistics.median(ts) / statistics.median(fs)
            cpu_ratio = statistics.median(cts) / statistics.median(cfs)
            mem_ratio = mem / mem_floor
            expected = {0, 1} if "--check" in cmd else {0}  # a README --check may show a wrong answer
            ok = ratio <= target and mem_ratio <= 1.5 and codes <= expected
            missed += not ok
            rows.append((name, statistics.median(ts), statistics.median(fs), ratio, cpu_ratio, target, mem_ratio,
                         ok, codes if not codes <= expected else None))
    print(f"| case | median s | floor s | ratio | CPU ratio | target | peak mem / `import sympy` | |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, t, f, ratio, cpu_ratio, target, mem_ratio, ok, codes in rows:
        verdict = "ok" if ok else ("FAILED (exit " + ",".join(map(str, sorted(codes))) + ")"
                                   if codes is not None else "MISSED")
        print(f"| {name} | {t:.3f} | {f:.3f} | {ratio:.2f} | {cpu_ratio:.2f} | ≤ {target} | {mem_ratio:.2f} (≤ 1.5) "
              f"| {verdict} |")
    print(f"\n{len(rows) - missed} of {len(rows)} within target; "
          f"{opts.rounds} rounds, A/B alternating; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
