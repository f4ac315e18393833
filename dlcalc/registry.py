"""The one registry of commands: which exercise module answers each one, and how a command
declares its options.

This module is light on purpose (no SymPy): ``dlcalc --help`` lists the commands from
:data:`EXERCISES` without importing any exercise.  Everything else (the Typer layer,
``--check``, ``batch``, the plots and the Python API) finds an exercise here.

An exercise module provides (see CONTRIBUTING.md)::

    COMMAND: Command                      # its declaration: options, help, example
    Inputs                                # a frozen dataclass of parsed inputs
    parse(**options) -> Inputs            # the options' raw values -> Inputs (InputError on bad input)
    solve(inp, **flags) -> Solution       # the worked solution; flags are mistake switches
    MISTAKES: tuple[Mistake, ...]         # the common mistakes --check can name
    plot(solution, fig) -> None           # optional: what --plot draws

Adding a command is one exercise module and one line in :data:`EXERCISES`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

#: option kinds
TEXT = "text"            # --lr 0.1: one value, read by the exercise's parse
FLAG = "flag"            # --newton: on when given
SWITCH = "switch"        # --half/--no-half: True, False (or None when neither is given and default is None)
LIST = "list"            # --grad 0.5 --grad 0.3: repeatable, a list of values
ARGUMENTS = "arguments"  # positional values: 784 256 10
KINDS = (TEXT, FLAG, SWITCH, LIST, ARGUMENTS)


@dataclass(frozen=True)
class Option:
    """One option (or the positional arguments) of a command.

    Attributes:
        name: the option as typed (``"--weight-decay"``), or the metavar of positional
            arguments (``"SIZES"``).
        help: one or two sentences for ``--help``.
        default: the value when the option is not given: text as a user would type it
            (``"0.001"``), a bool for flags and switches, or None (not given).
        kind: one of :data:`KINDS`.
        aliases: other spellings of the option (``("--lambda",)``).
        off: the negative spelling of a switch (``"--no-half"``).
        required: whether the command fails without it (Typer reports it as missing).
        show_default: whether ``--help`` shows the default.
    """

    name: str
    help: str
    default: Any = None
    kind: str = TEXT
    aliases: tuple[str, ...] = ()
    off: str | None = None
    required: bool = False
    show_default: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown option kind {self.kind!r}")
        if self.kind == SWITCH and not self.off:
            raise ValueError(f"switch {self.name} needs its off spelling")

    @property
    def param(self) -> str:
        """The Python name: dashes as underscores (``weight_decay``; ``H`` for ``--H``).
        Positional arguments are named by their metavar in lower case (``sizes``)."""
        if self.kind == ARGUMENTS:
            return self.name.lower()
        return self.name.lstrip("-").replace("-", "_")

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, *((self.off,) if self.off else ()))


@dataclass(frozen=True)
class Command:
    """A command's declaration.

    Attributes:
        name: the subcommand (``"adam-step"``).
        summary: one line: what it works out.
        description: more help, shown under the summary by ``--help`` (may be "").
        example: a command line that works (``"dlcalc adam-step --theta 1 --grad 0.5"``).
        options: the exercise's own options, in ``--help`` order; every command also gets
            the shared ones (``--json``, ``--latex``, ``--check``, …) from the CLI.
        plot: whether ``--plot FILE.png`` is offered (the module then has ``plot``).
        dash_values: whether positional values may start with ``-`` (negative numbers);
            a mistyped option among them is refused with the nearest real one.
        conditional_keys: result keys that exist only with some option or input, each with
            the rest of the sentence that says when (``{"newton_w": "needs --newton"}``):
            ``--check`` names it instead of calling the key unknown.
    """

    name: str
    summary: str
    options: tuple[Option, ...]
    example: str
    description: str = ""
    plot: bool = False
    dash_values: bool = False
    conditional_keys: dict[str, str] = field(default_factory=dict)

    def option(self, param: str) -> Option:
        for opt in self.options:
            if opt.param == param:
                return opt
        raise KeyError(param)


#: command -> (exercise module, one-line summary for ``dlcalc --help``), in help order.
EXERCISES: dict[str, tuple[str, str]] = {
    "param-count": ("dlcalc.exercises.param_count",
                    "Learnable parameters of a network, layer by layer, with the formula."),
    "sigmoid-step": ("dlcalc.exercises.sigmoid_step",
                     "Gradient-descent step(s) of one sigmoid neuron, squared error (or BCE) + L2."),
    "adam-step": ("dlcalc.exercises.adam_step",
                  "Adam / AdamW / AMSGrad step by step: moments, bias correction, update."),
    "bn-forward": ("dlcalc.exercises.bn_forward",
                   "Batch-norm forward (and backward with --grad-out), running statistics, eval mode."),
    "quadratic-gd": ("dlcalc.exercises.quadratic_gd",
                     "Gradient descent and Newton on f(w) = wᵀHw via H = QΛQᵀ, with convergence analysis."),
    "dropout-expectation": ("dlcalc.exercises.dropout_expectation",
                            "Expected loss under multiplicative weight noise or dropout = loss + an L2-like penalty."),
    "optim-step": ("dlcalc.exercises.optim_step",
                   "SGD (momentum, Nesterov), RMSProp, Adagrad, Adadelta, Adam/AdamW/AMSGrad step by step, as torch.optim."),
    "lr-schedule": ("dlcalc.exercises.lr_schedule",
                    "Learning-rate schedules as torch.optim.lr_scheduler computes them (step, cosine, one-cycle, noam, …)."),
    "ema": ("dlcalc.exercises.ema",
            "Exponential moving average v_t = βv_{t−1} + (1 − β)x_t, its unrolled sum and the bias correction."),
    "minibatch": ("dlcalc.exercises.minibatch",
                  "Steps per epoch and total steps of a DataLoader, and the learning rate scaled with the batch size."),
    "backprop": ("dlcalc.exercises.backprop",
                 "A small network forward and backward by the chain rule (every δ and gradient), and the update."),
    "softmax": ("dlcalc.exercises.softmax",
                "Softmax with cross-entropy or the multiclass hinge, ∂L/∂z = p − y, the two-class sigmoid."),
    "init": ("dlcalc.exercises.init_scheme",
             "Weight initialization as torch.nn.init (Xavier, He, LeCun) and the variance through depth."),
    "attention": ("dlcalc.exercises.attention",
                  "Scaled dot-product attention, causal or masked: QKᵀ/√d_k, row-wise softmax, weighted sum of V."),
    "ln-forward": ("dlcalc.exercises.ln_forward",
                   "Layer-norm (or RMSNorm with --rms) forward, and backward with --grad-out."),
    "deslant": ("dlcalc.exercises.deslant",
                "Deslant by moments: centroid, covariance, principal axes, skew μ₁₁/μ₀₂ and the shear."),
}


def names() -> list[str]:
    return list(EXERCISES)


def module(name: str) -> ModuleType:
    """The exercise module of command ``name`` (imported on first use)."""
    mod = importlib.import_module(EXERCISES[name][0])
    if mod.COMMAND.name != name:  # pragma: no cover - a registry typo
        raise RuntimeError(f"{EXERCISES[name][0]} declares {mod.COMMAND.name!r}, not {name!r}")
    return mod


def command(name: str) -> Command:
    return module(name).COMMAND
