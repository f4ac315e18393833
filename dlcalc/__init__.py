"""dlcalc: worked deep-learning exercises, step by step.

Importing this package is cheap on purpose: SymPy is imported lazily inside the
commands, so ``dlcalc --help`` and ``dlcalc --version`` answer at Python's start-up speed.
"""

__version__ = "0.1.0"
