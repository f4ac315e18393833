"""Every README example and golden case, printed as text, JSON and LaTeX, into a folder:
a refactor that must not change the output compares two snapshots.

    python tools/snapshot.py /tmp/before            # on the old code
    python tools/snapshot.py /tmp/after             # on the new code
    diff -r /tmp/before /tmp/after                  # nothing, or only the intended changes
    python tools/snapshot.py /tmp/after -k softmax  # only cases whose command line holds "softmax"

Runs in-process through Typer's CliRunner with COLUMNS=80, as the tests do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
_OUTPUT = {"--json", "--latex", "--latex-document", "--brief"}
_OUTPUT_VALUED = {"--digits", "--plot", "--timeout"}


def _own(argv: list[str]) -> list[str]:
    """argv without the output options (the snapshot adds its own)."""
    import readme

    return readme.without(argv, _OUTPUT, _OUTPUT_VALUED)


def cases() -> list[list[str]]:
    import readme

    out = [shlex.split(c)[1:] for c in readme.examples((ROOT / "README.md").read_text())]
    out = [_own(a) for a in out if a and a[0] != "batch"]
    for f in sorted((ROOT / "tests" / "golden").glob("*.json")):
        out += [[f.stem, *case["args"]] for case in json.loads(f.read_text())["cases"]]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("-k", default="", help="only command lines holding this text")
    args = ap.parse_args()
    os.environ["COLUMNS"] = "80"
    from typer.testing import CliRunner

    from dlcalc.cli import app

    args.folder.mkdir(parents=True, exist_ok=True)
    todo = [a for a in cases() if args.k in " ".join(a)]
    for argv in todo:
        line = " ".join(shlex.quote(t) for t in argv)
        name = f"{argv[0]}-{hashlib.sha1(line.encode()).hexdigest()[:10]}"
        parts = [f"$ dlcalc {line}\n"]
        for extra in ([], ["--json"], ["--latex"], ["--brief"]):
            r = CliRunner().invoke(app, [*argv, *extra])
            parts.append(f"--- {' '.join(extra) or 'text'} (exit {r.exit_code})\n{r.stdout}{r.stderr}\n")
        (args.folder / f"{name}.txt").write_text("".join(parts))
    print(f"{len(todo)} cases written to {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
