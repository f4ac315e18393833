"""minibatch: steps per epoch and in total, and the learning rate scaled with the batch size.

* steps per epoch: ``len(torch.utils.data.DataLoader(dataset, batch_size=B, drop_last=...))``
  = ⌈n/B⌉ (the last batch is partial, n − (⌈n/B⌉ − 1)·B examples), or ⌊n/B⌋ with
  ``drop_last=True`` (the n mod B leftover examples are skipped each epoch).
* total steps: epochs × steps per epoch.
* with a base batch size B₀ and its rate η₀: the linear scaling rule of Goyal et al. (2017),
  η = η₀·B/B₀ (default), or the square-root rule η = η₀·√(B/B₀) (``--scaling sqrt``).
* the note on what larger batches buy (Shallue et al. 2019): the steps to reach a target
  fall in proportion to the batch size at first, then ever more slowly, then not at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sympy

from dlcalc.board import Named, ceiling_of, eq, floor_of, step
from dlcalc.core import Math, Mistake, Solution, Step
from dlcalc.errors import InputError
from dlcalc.parse import parse_int, parse_scalar, symbol
from dlcalc.registry import FLAG, Command, Option

COMMAND = Command(
    name="minibatch",
    summary="Steps per epoch and total steps of a DataLoader, and the learning rate scaled with the batch size.",
    example="dlcalc minibatch --n 1000 --batch-size 32 --epochs 10 --base-batch-size 256 --base-lr 0.1",
    options=(
        Option("--n", "Number of training examples (1-10^15)."),
        Option("--batch-size", "Batch size B (1-10^15)."),
        Option("--epochs", "Number of epochs (default 1).", default="1"),
        Option("--drop-last", "Drop the last partial batch (DataLoader's drop_last=True): floor(n/B) steps.",
               kind=FLAG, default=False),
        Option("--base-batch-size", "B₀, the batch size the base learning rate was tuned for."),
        Option("--base-lr", "η₀, the learning rate at batch size B₀."),
        Option("--scaling", "linear (η₀·B/B₀, Goyal et al.; default) or sqrt (η₀·√(B/B₀))."),
    ),
)

MAX_N = 10**15
MAX_EPOCHS = 10**9


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of minibatch.

    Attributes:
        n: examples; batch_size: B; epochs; drop_last: DataLoader's drop_last.
        base_batch_size, base_lr: B₀ and η₀ (both None when no rate is asked).
        scaling: "linear" or "sqrt".
    """

    n: int
    batch_size: int
    epochs: int = 1
    drop_last: bool = False
    base_batch_size: int | None = None
    base_lr: Any = None
    scaling: str = "linear"


def parse(*, n: str | None, batch_size: str | None, epochs: str, drop_last: bool = False,
          base_batch_size: str | None = None, base_lr: str | None = None, scaling: str | None = None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    if n is None:
        raise InputError("--n", "is missing: the number of training examples")
    if batch_size is None:
        raise InputError("--batch-size", "is missing: the batch size B")
    nn = parse_int(n, "--n", lo=1, hi=MAX_N)
    b = parse_int(batch_size, "--batch-size", lo=1, hi=MAX_N)
    e = parse_int(epochs if epochs is not None else "1", "--epochs", lo=1, hi=MAX_EPOCHS)
    if (base_batch_size is None) != (base_lr is None):
        missing = "--base-lr" if base_lr is None else "--base-batch-size"
        raise InputError(missing, "is missing: the scaled rate needs both --base-batch-size and --base-lr")
    b0 = parse_int(base_batch_size, "--base-batch-size", lo=1, hi=MAX_N) if base_batch_size is not None else None
    lr0 = None
    if base_lr is not None:
        lr0 = parse_scalar(base_lr, "--base-lr")
        if lr0.is_number and (lr0.is_real is False or bool(lr0 < 0)):
            raise InputError("--base-lr", f"must be a number ≥ 0, got {base_lr.strip()[:40]!r}")
    rule = "linear"
    if scaling is not None:
        rule = scaling.strip().lower()
        if rule not in ("linear", "sqrt"):
            raise InputError("--scaling", f"must be linear or sqrt, got {scaling.strip()[:30]!r}")
        if b0 is None:
            raise InputError("--scaling", "needs --base-batch-size and --base-lr (the rate it scales)")
    return Inputs(nn, b, e, bool(drop_last), b0, lr0, rule)


N, B, E, S, B0, LR0 = symbol("n"), symbol("B"), symbol("E"), symbol("S"), symbol("B_0"), symbol("eta_0")
T, ETA = symbol("T"), symbol("eta")
LAST = Named("b_last", "b_last", r"b_{\text{last}}")

#: the formulas, written once
CEIL = eq(S, ceiling_of(N / B))
FLOOR = eq(S, floor_of(N / B))
LAST_BATCH = eq(LAST, sympy.Add(N, sympy.Mul(-1, sympy.Mul(sympy.Add(S, -1, evaluate=False), B, evaluate=False),
                                             evaluate=False), evaluate=False))
TOTAL = eq(T, E * S)


@functools.lru_cache(maxsize=None)
def _scaled(rule: str, inverse: bool) -> Any:
    """η = η₀·B/B₀ or η₀·√(B/B₀) (B₀/B: the mistake), built on first use (a √ costs ms to build)."""
    ratio = B0 / B if inverse else B / B0
    return eq(ETA, LR0 * (sympy.sqrt(ratio) if rule == "sqrt" else ratio))


WHY = {"linear": "linear scaling (Goyal et al. 2017): k times the batch, k times the rate",
       "sqrt": "square-root scaling (Krizhevsky 2014, Hoffer et al. 2017): keeps the variance of the "
               "update's gradient noise about constant"}
LARGE_BATCHES = Step("what larger batches buy (Shallue et al. 2019)", Math(
    "steps to a target ∝ 1/B (perfect scaling), then diminishing returns, then constant",
    r"\text{steps to a target} \propto 1/B \text{ (perfect scaling), then diminishing returns, then constant}"),
    note="measured over many models and data sets: doubling the batch halves the steps needed to reach a "
         "target error only up to a critical batch size; beyond it the steps fall ever more slowly and then "
         "stop falling (maximal data parallelism), so the extra examples per step are wasted. Where the "
         "curve bends depends on the model and the data; linear scaling of the rate is a heuristic for the "
         "first regime")


def _per_epoch(inp: Inputs) -> list[Step]:
    """Steps per epoch (⌈n/B⌉, or ⌊n/B⌋ with drop_last) and, when kept, the last batch's size."""
    n, bsz = inp.n, inp.batch_size
    if inp.drop_last:
        per_epoch, left = n // bsz, n % bsz
        note = ("n < B: all the examples make one partial batch, and it is dropped: no step at all"
                if per_epoch == 0 else
                f"the last {left:,} example{'s' if left != 1 else ''} of each epoch (n mod B) are dropped"
                if left else "B divides n: nothing is dropped")
        return [step("steps per epoch (drop_last=True)", FLOOR, {N: n, B: bsz}, value=sympy.Integer(per_epoch),
                     note=note)]
    per_epoch = -(-n // bsz)
    last = n - (per_epoch - 1) * bsz
    return [step("steps per epoch", CEIL, {N: n, B: bsz}, value=sympy.Integer(per_epoch),
                 note="DataLoader's default drop_last=False keeps the last, partial batch"),
            step("size of the last batch", LAST_BATCH, {N: n, S: per_epoch, B: bsz}, value=sympy.Integer(last),
                 note="a full batch: B divides n" if last == bsz else "the last batch is partial")]


def _scaled_lr(inp: Inputs, inverse_scaling: bool) -> Step:
    """η₀ scaled from batch size B₀ to B, linearly or by the square root."""
    b0, bsz = inp.base_batch_size, inp.batch_size
    ratio = sympy.Rational(b0, bsz) if inverse_scaling else sympy.Rational(bsz, b0)
    lr = inp.base_lr * (sympy.sqrt(ratio) if inp.scaling == "sqrt" else ratio)
    return step("scaled learning rate", _scaled(inp.scaling, inverse_scaling), {LR0: inp.base_lr, B: bsz, B0: b0},
                value=lr, note=WHY[inp.scaling])


def solve(inp: Inputs, *, inverse_scaling: bool = False) -> Solution:
    """Steps per epoch, total steps and the scaled rate; the flag is a mistake."""
    steps = _per_epoch(inp)
    per_epoch = int(steps[0].value)
    total = inp.epochs * per_epoch
    steps.append(step("total steps", TOTAL, {E: inp.epochs, S: per_epoch}, value=sympy.Integer(total),
                      note="one optimizer step per batch"))
    result: dict[str, Any] = {"steps_per_epoch": sympy.Integer(per_epoch), "total_steps": sympy.Integer(total)}
    conventions = {
        "steps": "steps_per_epoch = len(torch.utils.data.DataLoader(dataset, batch_size=B, drop_last="
                 f"{inp.drop_last})) = " + ("floor(n/B)" if inp.drop_last else "ceil(n/B)")
                 + "; total_steps = epochs × steps_per_epoch",
    }
    inputs: dict[str, Any] = {"n": sympy.Integer(inp.n), "batch_size": sympy.Integer(inp.batch_size),
                              "epochs": sympy.Integer(inp.epochs), "drop_last": inp.drop_last}
    if inp.base_batch_size is not None:
        steps.append(_scaled_lr(inp, inverse_scaling))
        result["lr"] = steps[-1].value
        conventions["lr"] = ("η = η₀·√(B/B₀)" if inp.scaling == "sqrt" else "η = η₀·B/B₀ (Goyal et al.)") + \
            " with η₀ tuned at batch size B₀"
        inputs.update(base_batch_size=sympy.Integer(inp.base_batch_size), base_lr=inp.base_lr, scaling=inp.scaling)
    steps.append(LARGE_BATCHES)
    return Solution(command="minibatch", inputs=inputs, conventions=conventions, steps=tuple(steps), result=result)


MISTAKES = (
    Mistake("dropped the last partial batch (floor(n/B) instead of ceil(n/B) steps)",
            lambda kw: {"drop_last": True} if not kw["drop_last"] and kw["n"] % kw["batch_size"] else None),
    Mistake("counted the last partial batch although drop_last drops it (ceil(n/B) instead of floor(n/B))",
            lambda kw: {"drop_last": False} if kw["drop_last"] and kw["n"] % kw["batch_size"] else None),
    Mistake("forgot to multiply by the number of epochs", lambda kw: {"epochs": 1} if kw["epochs"] > 1 else None),
    Mistake("used linear scaling instead of square-root scaling",
            lambda kw: {"scaling": "linear"} if kw["scaling"] == "sqrt" and kw["base_batch_size"] else None),
    Mistake("used square-root scaling instead of linear scaling",
            lambda kw: {"scaling": "sqrt"} if kw["scaling"] == "linear" and kw["base_batch_size"] else None),
    Mistake("scaled the rate the wrong way round (by B₀/B instead of B/B₀)",
            lambda kw: {"inverse_scaling": True} if kw["base_batch_size"] and kw["base_batch_size"] != kw["batch_size"]
            else None),
)
