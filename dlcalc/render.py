"""Renderers: any :class:`~dlcalc.core.Solution` to Rich text, a JSON object, or LaTeX.

They know nothing about particular exercises.  User text is never interpreted as Rich
markup: the text output is a list of :class:`Line` parts with style names, which
:func:`to_rich` turns into :class:`rich.text.Text` objects for a terminal and
:func:`to_plain` joins for a file or pipe (the same bytes Rich would write there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlcalc import printing as P
from dlcalc.core import Solution, Step

#: at most this many steps are printed in text and LaTeX; the rest are elided (JSON has all)
SHOW_HEAD = 40
SHOW_TAIL = 12
#: rows of a record table (history, layers) shown in text
TABLE_HEAD = 8
TABLE_TAIL = 4
#: a result list longer than this shows its first VALUE_HEAD and last VALUE_TAIL entries in
#: text and LaTeX (a 256 x 64 batch would print 16,384 numbers); JSON has every entry
VALUE_MAX = 12
VALUE_HEAD = 8
VALUE_TAIL = 2


def _elide_value(v: Any) -> tuple[Any, bool]:
    """A long list (or matrix) shortened to its first and last entries with "…" between."""
    if not isinstance(v, (list, tuple)) or (v and isinstance(v[0], dict)):
        return v, False
    items = list(v)
    cut = len(items) > VALUE_MAX
    if cut:
        items = items[:VALUE_HEAD] + ["…"] + items[-VALUE_TAIL:]
    out = []
    for x in items:
        y, c = _elide_value(x)
        out.append(y)
        cut = cut or c
    return out, cut


def _elide(items: list[Any], head: int, tail: int) -> tuple[list[Any], int, list[Any]]:
    if len(items) <= head + tail:
        return items, 0, []
    return items[:head], len(items) - head - tail, items[-tail:]


def _step_lines(step: Step, digits: int) -> list[tuple[str, str, str]]:
    """(prefix, body, kind) of each line of one step: formula, = substituted, = value."""
    lines = []
    if step.formula is not None:
        lines.append(("", P.text(step.formula, digits), "formula"))
    if step.substituted is not None:
        lines.append(("= " if lines else "", P.text(step.substituted, digits), "substituted"))
    if step.value is not None:
        body = P.value_text(_elide_value(step.value)[0], digits)
        lines.append(("= " if lines and not body.startswith("≈") else "", body, "value"))
    return lines


# --------------------------------------------------------------------------- JSON


def to_json(solution: Solution, digits: int = 6, *, steps: bool = True) -> dict[str, Any]:
    """The JSON object of the contract: command, inputs, conventions, steps, result, exact.

    ``steps=False`` leaves the worked steps out (``dlcalc batch``: results only, faster).
    """
    rendered = []
    for s in solution.steps if steps else ():
        d: dict[str, Any] = {"title": s.title}
        if s.section:
            d["section"] = s.section
        d["formula"] = P.latex(s.formula, digits) if s.formula is not None else None
        d["substituted"] = P.latex(s.substituted, digits) if s.substituted is not None else None
        d["value"] = P.exact_str(s.value) if s.value is not None else None
        if s.note:
            d["note"] = s.note
        rendered.append(d)
    out = {
        "command": solution.command,
        "inputs": {k: P.exact_str(v) for k, v in solution.inputs.items()},
        "conventions": dict(solution.conventions),
        **({"steps": rendered} if steps else {}),
        "result": {k: P.json_value(v) for k, v in solution.result.items()},
        "exact": {k: P.exact_str(v) for k, v in solution.result.items()},
    }
    if solution.notes:
        out["notes"] = list(solution.notes)
    if solution.checks:
        out["check"] = {v.key: _check_json(v) for v in solution.checks}
    return out


def _check_json(v: Any) -> dict[str, Any]:
    """One verdict of --check: ok, expected, given, how it was judged, the mistake and the
    step where its working departs, with the mistaken step's value (and the right one)."""
    d = {"ok": v.ok, "expected": P.json_value(v.expected), "given": P.json_value(v.given),
         "judged": getattr(v, "judged", "") or None, "mistake": v.mistake, "departs_at": v.departs_at}
    if v.departs_at is not None:
        for name, s in (("mistaken_value", getattr(v, "mistaken_step", None)),
                        ("right_value", getattr(v, "right_step", None))):
            d[name] = P.json_value(s.value) if s is not None and s.value is not None else None
    return d


# --------------------------------------------------------------------------- LaTeX


def to_latex(solution: Solution, digits: int = 6, *, document: bool = False) -> str:
    """The whole working as one ``align*`` block, or a standalone document around it."""
    block = _latex_block(solution, digits)
    if not document:
        return block
    title = P.tex_escape(f"dlcalc {solution.command}")
    return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
            "\\usepackage[margin=2cm]{geometry}\n\\begin{document}\n"
            f"\\section*{{{title}}}\n{block}\n\\end{{document}}")


def _latex_block(solution: Solution, digits: int) -> str:
    rows: list[str] = []
    tx = P.tex_escape
    for name, conv in solution.conventions.items():
        rows.append(r"&\text{" + tx(f"{name}: {conv}") + "}")
    head, skipped, tail = _elide(list(solution.steps), SHOW_HEAD, SHOW_TAIL)
    section = None
    for i, s in enumerate(head + tail):
        if skipped and i == len(head):
            rows.append(r"&\text{" + tx(f"... {skipped} more steps (all of them in --json) ...") + "}")
        if s.section and s.section != section:
            rows.append(r"&\textbf{" + tx(s.section) + "}")
            section = s.section
        rows.append(r"&\text{" + tx(s.title) + ":}")
        first = True
        if s.formula is not None:
            rows.append("&" + P.latex(s.formula, digits))
            first = False
        if s.substituted is not None:
            rows.append(("&" if first else "&= ") + P.latex(s.substituted, digits))
            first = False
        if s.value is not None:
            rows.append(("&" if first else "&= ") + P.latex(_elide_value(s.value)[0], digits))
        if s.note:
            rows.append(r"&\quad\text{" + tx(s.note) + "}")
    for v in solution.checks:
        judged = f" {v.judged}" if getattr(v, "judged", "") else ""
        rows.append(r"&\text{" + tx(f"check {v.key}: " + ("right" + judged if v.ok else "wrong")
                                   + (f" (you {v.mistake}; the working departs at {v.departs_at})"
                                      if v.mistake and v.departs_at else f" (you {v.mistake})" if v.mistake
                                      else "")) + "}")
    rows.append(r"&\textbf{Answer}")
    for key, v in solution.result.items():
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], dict):
            continue  # records (history, layers) are in the working already
        rows.append(r"&\text{" + tx(key) + "} = " + P.latex(_elide_value(v)[0], digits))
    body = " \\\\\n".join(rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


# --------------------------------------------------------------------------- Rich text


@dataclass(frozen=True)
class Line:
    """One line of the text output: ``text`` in ``style``, then ``more`` (text, style) parts.

    Rich styles ("bold cyan") are only names here; :func:`to_rich` gives them to Rich, and
    :func:`to_plain` drops them.
    """

    text: str
    style: str | None = None
    more: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Records:
    """A table of records (an optimizer's history, a network's layers)."""

    key: str
    records: list[dict[str, Any]]


def text_lines(solution: Solution, digits: int = 6) -> list[Line | Records]:
    """The whole working as lines of text, in order (for either text renderer)."""
    out: list[Line | Records] = [Line(solution.command, "bold")]
    if solution.inputs:
        out.append(Line("inputs: ", "dim", ((",  ".join(f"{k} = {P.value_text(v, digits)}"
                                                        for k, v in solution.inputs.items()), None),)))
    if solution.conventions:
        out.append(Line("\nConventions", "bold cyan"))
        for name, conv in solution.conventions.items():
            out.append(Line("  • ", None, ((f"{name}: ", "bold"), (conv, None))))
    if solution.steps:
        out.append(Line("\nWorking", "bold cyan"))
    head, skipped, tail = _elide(list(solution.steps), SHOW_HEAD, SHOW_TAIL)
    section = None
    for i, s in enumerate(head + tail):
        if skipped and i == len(head):
            out.append(Line(f"  … {skipped} more steps (all of them in --json) …", "dim"))
        if s.section and s.section != section:
            out.append(Line(f"  {s.section}", "bold magenta"))
            section = s.section
        out.append(Line(f"  {s.title}", "bold"))
        for prefix, body, kind in _step_lines(s, digits):
            out.append(Line("    " + prefix.rjust(2), None, ((body, "green" if kind == "value" else None),)))
        if s.note:
            out.append(Line(f"      {s.note}", "italic dim"))
    out.append(Line("\nAnswer", "bold cyan"))
    for key, v in solution.result.items():
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], dict):
            out.append(Records(key, list(v)))
            continue
        short, cut = _elide_value(v)
        shown = P.value_text(short, digits)
        if cut:
            shown += "  (long: every entry is in --json)"
        out.append(Line(f"  {key} " + ("" if shown.startswith("≈") else "= "), "bold", ((shown, "bold green"),)))
    for note in solution.notes:
        out.append(Line(f"note: {note}", "yellow"))
    if solution.checks:
        out.append(Line("\nCheck", "bold cyan"))
        for v in solution.checks:
            judged = getattr(v, "judged", "")
            how = (f" (right {judged})" if v.ok else f" (judged {judged})") if judged else ""
            out.append(Line("  ✓ " if v.ok else "  ✗ ", "bold green" if v.ok else "bold red",
                            ((f"{v.key}: expected {P.value_text(v.expected, digits)}, "
                              f"given {P.value_text(v.given, digits)}", None), (how, "dim"))))
            if not v.ok:
                why = (f"this is what you get if you {v.mistake}" if v.mistake
                       else "no common mistake we know of gives this value")
                if v.departs_at:
                    why += f"; the working first departs at “{v.departs_at}”:"
                out.append(Line(f"      {why}", "yellow"))
                if v.departs_at:
                    out.extend(_departure_lines(v, digits))
    return out


def _departure_lines(v: Any, digits: int) -> list[Line]:
    """The right step's line beside the mistaken one, where the working departs."""
    right, wrong = getattr(v, "right_step", None), getattr(v, "mistaken_step", None)
    out = []
    for label, s in (("right:   ", right), ("mistaken:", wrong)):
        if s is None:
            out.append(Line(f"        {label} (no such step)", "dim"))
            continue
        body = " ".join(prefix + text for prefix, text, _ in _step_lines(s, digits))
        if s is wrong and right is not None and wrong.title != right.title:
            body = f"{s.title}: {body}" if body else s.title
        out.append(Line(f"        {label} ", "bold", ((body or s.title, "green" if s is right else "red"),)))
    return out


def to_rich(solution: Solution, digits: int = 6) -> list[Any]:
    """Rich renderables of the whole working, in order."""
    from rich.text import Text

    out: list[Any] = []
    for item in text_lines(solution, digits):
        if isinstance(item, Records):
            out.append(_records_table(item.key, item.records, digits))
            continue
        t = Text(item.text, style=item.style or "")
        for part, style in item.more:
            t.append(part, style=style)
        out.append(t)
    return out


#: what rich.text.Text removes from any text (rich.control.STRIP_CONTROL_CODES)
_RICH_STRIPS = {7: None, 8: None, 11: None, 12: None, 13: None}


def to_plain(solution: Solution, digits: int = 6, width: int | None = None) -> str | None:
    """The text output without styles, exactly as Rich prints it to a file or pipe, or None
    when only Rich can lay it out (a table wider than ``width``, the console width, or with
    ``width`` None, as for a stream that is not UTF-8, where Rich draws ASCII boxes; tabs).

    A pipe gets no colour, so this skips loading Rich's console: ~20 ms of a ~0.35 s run.
    """
    lines = []
    for item in text_lines(solution, digits):
        if isinstance(item, Records):
            table = _plain_table(item, digits, width)
            if table is None:
                return None
            lines.extend(table)
            continue
        line = item.text + "".join(part for part, _ in item.more)
        if "\t" in line:
            return None  # Rich expands tabs
        lines.append(line.translate(_RICH_STRIPS))
    return "\n".join(lines)


def _table_cells(item: Records, digits: int) -> tuple[list[str], list[list[str]]]:
    """Column names and the rows of cell text (long tables elided with a row of "…")."""
    cols: list[str] = []
    for r in item.records:
        cols.extend(c for c in r if c not in cols)
    head, skipped, tail = _elide(item.records, TABLE_HEAD, TABLE_TAIL)
    rows = [[_cell(r.get(c), digits) for c in cols] for r in head]
    if skipped:
        rows.append(["…"] * len(cols))
        rows.extend([_cell(r.get(c), digits) for c in cols] for r in tail)
    return cols, rows


def _plain_table(item: Records, digits: int, width: int | None) -> list[str] | None:
    """The lines Rich prints for :func:`_records_table` when every cell fits unfolded in
    ``width`` columns (then Rich's layout is the natural one, rebuilt here); else None."""
    from rich.cells import cell_len

    cols, rows = _table_cells(item, digits)
    cells = [cols, *rows]
    if width is None or any(("\n" in c or "\t" in c or c != c.translate(_RICH_STRIPS)
                             or any(cell_len(ch) == 0 for ch in c)) for r in cells for c in r):
        return None  # zero-width characters: Rich's column layout is its own
    sizes = [max(cell_len(r[i]) for r in cells) for i in range(len(cols))]
    last = len(cols) - 1
    pads = [(0 if i == 0 else 1, 0 if i == last else 1) for i in range(len(cols))]
    total = sum(w + a + b for w, (a, b) in zip(sizes, pads)) + last
    if total > width or cell_len(item.key) > total:
        return None

    def row(r: list[str], bar: str) -> str:
        return bar.join(" " * a + c + " " * (w - cell_len(c)) + " " * b for c, w, (a, b) in zip(r, sizes, pads))

    title = item.key + " " * (total - cell_len(item.key))
    rule = "╇".join("━" * (w + a + b) for w, (a, b) in zip(sizes, pads))
    return [title, row(cols, "┃"), rule, *(row(r, "│") for r in rows)]


def _records_table(key: str, records: list[dict[str, Any]], digits: int) -> Any:
    from rich.table import Table
    from rich.text import Text

    cols, rows = _table_cells(Records(key, records), digits)
    table = Table(title=key, title_justify="left", show_edge=False, pad_edge=False)
    for c in cols:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*[Text(c) for c in r])
    return table


def _cell(v: Any, digits: int) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return P.cell_text(v, digits)
