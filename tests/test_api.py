"""Issue 22: the Python API, built from the registry, and a real notebook in a real kernel."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

import dlcalc
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_import_dlcalc_does_not_import_sympy():
    code = "import sys, dlcalc; assert 'sympy' not in sys.modules, 'sympy imported'; print(dlcalc.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == dlcalc.__version__


def test_adam_step_from_python_as_on_the_command_line():
    w = dlcalc.solve("adam-step", theta=1, grad=[0.5, 0.3], lr=0.1)
    # two Adam steps by hand, exactly: m̂ and v̂ after step 2
    m2 = Fraction(9, 10) * Fraction(1, 20) + Fraction(1, 10) * Fraction(3, 10)
    assert w.exact["m_hat"] == sympy.Rational(m2 / (1 - Fraction(81, 100)))
    th1 = 1 - Fraction(1, 10) * Fraction(1, 2) / (Fraction(1, 2) + Fraction(1, 10**8))
    assert th1 == w.exact["history"][0]["theta"]
    assert w.result["theta"] == pytest.approx(0.8042509867088754, rel=1e-12)
    assert isinstance(w.result["theta"], float)
    assert w.command == "adam-step" and w.steps and "update" in w.conventions


def test_floats_are_read_as_their_shortest_decimal():
    w = dlcalc.solve("adam-step", theta=1, grad=[0.5], lr=0.1)
    assert w.exact["m"] == sympy.Rational(1, 20)  # (1 − 0.9)·0.5 exactly, not a binary float


def test_values_may_be_strings_lists_numpy_and_sympy():
    np = pytest.importorskip("numpy")
    a = dlcalc.solve("quadratic-gd", H=np.array([[2, 1], [1, 3]]), w0=[1, 1], lr=0.1)
    b = dlcalc.solve("quadratic-gd", H="2 1; 1 3", w0=np.array([1.0, 1.0]), lr="1/10")
    c = dlcalc.solve("quadratic-gd", H=sympy.Matrix([[2, 1], [1, 3]]), w0=[1, 1], lr=sympy.Rational(1, 10))
    assert a.exact["w"] == b.exact["w"] == c.exact["w"]
    u = sympy.Symbol("u")
    s = dlcalc.solve("adam-step", theta=u, grad=[sympy.Rational(1, 2)])
    assert {str(x) for x in s.exact["theta"].free_symbols} == {"u"}
    assert dlcalc.solve("param-count", sizes=[784, 256, 10]).result["total"] == 784 * 256 + 256 + 2560 + 10


def test_flags_and_positional_arguments_by_name():
    w = dlcalc.solve("bn-forward", values=[1, 2, 3, 4], eval=True)
    assert w.result["x_hat"] == pytest.approx([v / (1 + 1e-5) ** 0.5 for v in (1, 2, 3, 4)])
    nb = dlcalc.solve("param-count", sizes=[3, 4], no_bias=True)
    assert nb.result["total"] == 12


@pytest.mark.parametrize("call, option, words", [
    (dict(theta=1, grad=[0.5], beta1=1.5), "--beta1", "must be in [0, 1)"),
    (dict(theta=1, grad=[0.5], lr="x**"), "--lr", "not a valid expression"),
    (dict(theta=1, grd=[0.5]), None, "did you mean grad"),
    (dict(theta=1, grad=[0.5], amsgrad="yes"), "--amsgrad", "is a flag"),
    (dict(theta=1, grad=[0.5], lr=object()), "--lr", "cannot take"),
])
def test_bad_input_raises_input_error_with_the_cli_message(call, option, words):
    with pytest.raises(dlcalc.InputError) as info:
        dlcalc.solve("adam-step", **call)
    assert info.value.option == option
    assert words in info.value.message


def test_same_messages_as_the_command_line():
    with pytest.raises(dlcalc.InputError) as info:
        dlcalc.solve("adam-step", theta=1, grad=[0.5], beta1=1.5)
    r = run_cli("adam-step", "--theta", "1", "--grad", "0.5", "--beta1", "1.5")
    assert r.code == 2 and r.stderr.strip() == f"error: {info.value.message}"


def test_unknown_command_and_missing_required_option():
    with pytest.raises(dlcalc.InputError, match="did you mean 'adam-step'"):
        dlcalc.solve("adam_step", theta=1)
    with pytest.raises(dlcalc.InputError) as info:
        dlcalc.solve("quadratic-gd", w0=[1, 1], lr=0.1)
    assert info.value.option == "--H"


def test_check_returns_verdicts():
    w = dlcalc.solve("param-count", sizes=[784, 256, 10])
    right = w.check(total=203530)
    assert right.ok and right[0].ok and right[0].mistake is None
    wrong = w.check(total=203264)
    assert not wrong.ok
    assert wrong[0].mistake.startswith("forgot the biases") and wrong[0].departs_at


def test_json_latex_and_display_forms():
    w = dlcalc.solve("adam-step", theta=1, grad=[0.5, 0.3, -0.2], lr=0.1)
    cli = run_cli("adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2",
                  "--lr", "0.1", "--json").json()
    assert json.loads(w.to_json()) == cli
    assert w.to_latex() == run_cli("adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3",
                                   "--grad", "-0.2", "--lr", "0.1", "--latex").stdout.rstrip("\n")
    assert "0.754989" in repr(w) and len(repr(w)) < 200
    assert w._repr_latex_().startswith("$$") and "0.754989" in w._repr_markdown_()
    assert "<table>" in w._repr_html_() and "0.754989" in w._repr_html_()


def _readme_examples() -> list[list[str]]:
    sys.path.insert(0, str(ROOT / "tools"))
    import readme

    return [shlex.split(c)[1:] for c in readme.examples((ROOT / "README.md").read_text())]


def _api_call(argv: list[str]) -> tuple[str, dict]:
    """The Python call of a command line, by the command's declared options (no per-command code)."""
    from dlcalc import registry

    name, rest = argv[0], argv[1:]
    decl = registry.command(name)
    spell = {s: o for o in decl.options for s in o.spellings}
    kwargs: dict = {}
    positional: list[str] = []
    i = 0
    while i < len(rest):
        tok = rest[i]
        opt = spell.get(tok)
        if opt is None:
            positional.append(tok)
            i += 1
            continue
        if opt.kind == registry.FLAG:
            kwargs[opt.param] = True
            i += 1
        elif opt.kind == registry.SWITCH:
            kwargs[opt.param] = tok != opt.off
            i += 1
        elif opt.kind == registry.LIST:
            kwargs.setdefault(opt.param, []).append(rest[i + 1])
            i += 2
        else:
            kwargs[opt.param] = rest[i + 1]
            i += 2
    if positional:
        args = [o for o in decl.options if o.kind == registry.ARGUMENTS]
        kwargs[args[0].param] = positional
    return name, kwargs


@pytest.mark.parametrize("argv", _readme_examples(), ids=" ".join)
def test_result_equals_the_cli_json_result_for_every_readme_example(argv):
    if argv[0] == "batch" or "--check" in argv:
        pytest.skip("not a single exercise")
    name, kwargs = _api_call(argv)
    assert dlcalc.solve(name, **kwargs).result == run_cli(*argv, "--json").json()["result"]


def test_the_example_notebook_runs_in_a_real_kernel():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "examples" / "dlcalc.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    first = nb.cells[1]
    assert first.source.startswith("import dlcalc")
    data = first.outputs[0]["data"]
    shown = data.get("text/latex", "") + data.get("text/markdown", "")
    assert "0.804251" in shown  # θ after the two Adam steps, as the command line prints it
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_the_readme_ta_recipe_runs(tmp_path, capsys, monkeypatch):
    import re

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## From Python and Jupyter"):readme.index("## Speed")]
    recipe = re.findall(r"```python\n(.*?)```", section, re.S)[1]
    (tmp_path / "answers.csv").write_text("student,theta\nana,0.804\nben,0.8774\ncai,0.8o4\ndee,0.80425\n")
    monkeypatch.chdir(tmp_path)
    exec(compile(recipe, "README recipe", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ana right"
    assert out[1].startswith("ben wrong: carried the bias-corrected moments forward")
    assert out[2].startswith("cai unreadable: --check")
    assert out[3] == "dee right"
