"""Regenerate the example outputs in README.md from the program itself, so they cannot drift.

README.md holds blocks like

    <!-- example: dlcalc param-count 784 256 10 -->
    ...generated: the text output, then the JSON output...
    <!-- /example -->

and this script reruns each command and rewrites what stands between the markers.
tests/test_readme.py fails when the README and the program disagree.

    python tools/readme.py          # rewrite README.md
    python tools/readme.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- example: (dlcalc [^\n]*?) -->\n)(.*?)(<!-- /example -->)", re.S)
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(argv: list[str]) -> tuple[int, str]:
    from typer.testing import CliRunner

    from dlcalc.cli import app

    result = CliRunner().invoke(app, argv, env=ENV)
    return result.exit_code, result.stdout


def _short_json(obj: dict) -> str:
    """The JSON output with long step lists folded, for reading."""
    shown = dict(obj)
    steps = shown.get("steps")
    if isinstance(steps, list) and len(steps) > 3:
        shown["steps"] = steps[:2] + [f"... {len(steps) - 2} more steps ..."]
    return json.dumps(shown, indent=2, ensure_ascii=False)


def allowed_codes(argv: list[str]) -> tuple[int, ...]:
    """Exit codes an example may end with: 0, or also 1 (a wrong answer shown on purpose)
    when it checks an answer with --check."""
    return (0, 1) if "--check" in argv else (0,)


def render(command: str) -> str:
    argv = shlex.split(command)[1:]
    code, text = run(argv)
    if code not in allowed_codes(argv):
        raise SystemExit(f"README example failed (exit {code}): {command}\n{text}")
    _, js = run(argv + ["--json"])
    text = "\n".join(line.rstrip() for line in text.rstrip().splitlines())
    return (f"```console\n$ {command}\n{text}\n```\n\n<details><summary>--json</summary>\n\n"
            f"```json\n{_short_json(json.loads(js))}\n```\n\n</details>\n")


def regenerate(readme: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group(2)) + m.group(4), readme)


def examples(readme: str) -> list[str]:
    return [m.group(2) for m in BLOCK.finditer(readme)]


def without(argv: list[str], flags: set[str], valued: set[str]) -> list[str]:
    """``argv`` without the options in ``flags`` and those in ``valued`` with their values
    (the output options, when a caller adds its own)."""
    out, skip = [], False
    for tok in argv:
        if skip:
            skip = False
        elif tok in valued:
            skip = True
        elif tok not in flags:
            out.append(tok)
    return out


def main() -> int:
    sys.path.insert(0, str(ROOT))
    current = README.read_text()
    fresh = regenerate(current)
    if "--check" in sys.argv[1:]:
        if fresh != current:
            print("README.md is out of date: run python tools/readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
