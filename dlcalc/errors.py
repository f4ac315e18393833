"""The one exception type that means "bad input": exit code 2, one line naming the option."""

from __future__ import annotations


class InputError(Exception):
    """Bad input or a mathematically impossible request.

    ``option`` is the command-line option at fault (``"--H"``), or ``None`` when the
    problem is not tied to one option.  ``detail`` completes the sentence that starts
    with the option name, so the message reads ``--H must be square, got 2x3``.
    """

    def __init__(self, option: str | None, detail: str) -> None:
        self.option = option
        self.detail = " ".join(str(detail).split())  # always one line
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.option} {self.detail}" if self.option else self.detail
