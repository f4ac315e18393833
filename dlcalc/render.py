"""Renderers: any :class:`~dlcalc.core.Solution` to Rich text, a JSON object, or LaTeX.

They know nothing about particular exercises.  User text is never interpreted as Rich
markup: the text output is a list of :class:`Line` parts with style names, which
:func:`to_rich` turns into :class:`rich.text.Text` objects for a terminal and
:func:`to_plain` joins for a file or pipe (the same bytes Rich would write there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

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
        body = _value_block(_elide_value(step.value)[0], digits)
        lines.append(("= " if lines and not body.startswith("≈") else "", body, "value"))
    return lines


MATRIX_2D_MAX = 12  # rows of a matrix written out in 2-D; longer ones stay on one line


def _value_block(v: Any, digits: int) -> str:
    """A value's text; a matrix (2 to 12 rows of numbers) in 2-D, one row a line:

        ⎡2  1⎤
        ⎣1  3⎦
    """
    if isinstance(v, sympy.MatrixBase) and v.rows > 1 and v.cols > 1:
        v = v.tolist()
    if not (isinstance(v, (list, tuple)) and 1 < len(v) <= MATRIX_2D_MAX
            and all(isinstance(r, (list, tuple)) and r and len(r) == len(v[0]) for r in v)
            and not any(isinstance(x, (list, tuple, dict)) for r in v for x in r)):
        return P.value_text(v, digits)
    cells = [[P.cell_text(x, digits) if not isinstance(x, str) else x for x in r] for r in v]
    widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
    rows = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    n = len(rows)
    left = ["⎡"] + ["⎢"] * (n - 2) + ["⎣"]
    right = ["⎤"] + ["⎥"] * (n - 2) + ["⎦"]
    return "\n".join(f"{a}{r}{b}" for a, r, b in zip(left, rows, right))


# --------------------------------------------------------------------------- width


_BREAK_BEFORE = (" + ", " − ", " - ", " = ", " ≈ ", " ≤ ", " < ", " → ")


def _wrap(line: Line, width: int) -> list[Line]:
    """``line`` broken into lines of at most ``width`` columns: at the last operator
    (`` + ``, `` − ``, `` = ``…) or space that fits, continuing with a hanging indent;
    a token longer than the line is cut.  Styles follow their characters."""
    from rich.cells import cell_len

    parts = [(line.text, line.style), *line.more]
    full = "".join(t for t, _ in parts)
    if cell_len(full) <= width or width < 20:
        return [line]
    styles = [st for t, st in parts for _ in t]
    lead = len(full) - len(full.lstrip(" "))
    body = full.lstrip(" ")
    if body.startswith("• "):
        lead += 2
    elif body[:2] in ("= ", "≈ "):
        lead += 2
    hang = min(lead + 4, width // 2)
    out, start, first = [], 0, True
    while True:
        indent = 0 if first else hang
        room = width - indent
        rest = full[start:]
        if cell_len(rest) <= room:
            out.append((indent, start, len(full)))
            break
        cut = _break_at(rest, room, cell_len, line.math)
        end = start + cut
        while end > start + 1 and full[end - 1] == " ":
            end -= 1
        out.append((indent, start, end))
        start += cut
        while start < len(full) and full[start] == " ":
            start += 1
        first = False
    lines = []
    for i, (indent, a, b) in enumerate(out):
        segs: list[tuple[str, str | None]] = []
        for k in range(a, b):
            if segs and segs[-1][1] == styles[k]:
                segs[-1] = (segs[-1][0] + full[k], styles[k])
            else:
                segs.append((full[k], styles[k]))
        if i == 0:
            head, head_style = segs[0] if segs else ("", line.style)
            lines.append(Line(head, head_style, tuple(segs[1:])))
        else:
            lines.append(Line(" " * indent, None, tuple(segs)))
    return lines


def _break_at(text: str, room: int, cell_len: Any, math: bool) -> int:
    """Where to cut ``text`` so that the first piece fits in ``room`` columns: a formula
    before its last operator outside brackets, prose at its last space."""
    fit = room
    while fit > 0 and cell_len(text[:fit]) > room:
        fit -= 1
    window = text[:fit + 1]
    if math:
        depth, best, item = 0, -1, -1
        for i, ch in enumerate(window):
            depth += (ch in "([{⌈⌊") - (ch in ")]}⌉⌋")
            if depth <= 0 and any(window.startswith(op, i) for op in _BREAK_BEFORE):
                best = i
            elif depth == 1 and window.startswith(", ", i):
                item = i + 1  # between the entries of a vector
        if item > room // 3:
            return item
        if best > room // 3:
            return best
    space = window.rfind(" ")
    if space > room // 4:
        return space
    return max(fit, 1)


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


def to_latex(solution: Solution, digits: int = 6, *, document: bool = False, brief: bool = False) -> str:
    """The working as one ``align*`` block (``--latex``: KaTeX-valid, for pasting into a
    Markdown cell), or a standalone document that pdflatex compiles (``--latex-document``).
    ``brief``: the Answer (and checks) alone."""
    if brief:
        from dataclasses import replace

        solution = replace(solution, steps=(), conventions={}, inputs={})
    return _latex_document(solution, digits) if document else _latex_block(solution, digits)


def _value_row(v: Any, digits: int, first: bool) -> str:
    body = P.value_latex(_elide_value(v)[0], digits)
    if first:
        return "&" + body
    return ("&" if body.startswith(r"\approx") else "&= ") + body


def _step_rows(s: Step, digits: int) -> list[str]:
    """The align* rows of one step: formula, = substituted, = value (≈ decimal)."""
    rows, first = [], True
    if s.formula is not None:
        rows.append("&" + P.latex(s.formula, digits))
        first = False
    if s.substituted is not None:
        rows.append(("&" if first else "&= ") + P.latex(s.substituted, digits))
        first = False
    if s.value is not None:
        rows.append(_value_row(s.value, digits, first))
    return rows


def _check_sentence(v: Any) -> str:
    judged = f" {v.judged}" if getattr(v, "judged", "") else ""
    return (f"check {v.key}: " + ("right" + judged if v.ok else "wrong")
            + (f" (you {v.mistake}; the working departs at {v.departs_at})"
               if v.mistake and v.departs_at else f" (you {v.mistake})" if v.mistake else ""))


def _answer_rows(solution: Solution, digits: int) -> list[str]:
    rows = []
    for key, v in solution.result.items():
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], dict):
            continue  # records (history, layers) are in the working already
        body = P.value_latex(_elide_value(v)[0], digits)
        sep = " " if body.startswith(r"\approx") else " = "
        label = solution.labels.get(key, "")
        rows.append(r"&\text{" + P.tex_escape(key + (f" ({label})" if label else "")) + "}" + sep + body)
    return rows


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
        rows.extend(_step_rows(s, digits))
        if s.note:
            rows.append(r"&\quad\text{" + tx(s.note) + "}")
    for v in solution.checks:
        rows.append(r"&\text{" + tx(_check_sentence(v)) + "}")
    rows.append(r"&\textbf{Answer}")
    rows.extend(_answer_rows(solution, digits))
    body = " \\\\\n".join(rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


#: the preamble of --latex-document: packages every TeX distribution (and Overleaf) has.
#: \dlline sets one line of the working as display-style math, scaled down only when it is
#: wider than the text (no line runs into the margin); lines are paragraphs, so the working
#: breaks across pages anywhere.
_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage[margin=2cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.3em}
\sloppy
\newsavebox{\dlbox}
\newcommand{\dlline}[2][0em]{\par\hangindent=#1\hspace*{#1}%
  \sbox{\dlbox}{$\displaystyle #2$}%
  \ifdim\wd\dlbox>\dimexpr\linewidth-#1\relax\resizebox{\dimexpr\linewidth-#1\relax}{!}{\usebox{\dlbox}}%
  \else\usebox{\dlbox}\fi\par}
\newcommand{\dlfit}[1]{\sbox{\dlbox}{$#1$}%
  \ifdim\wd\dlbox>0.9\linewidth\resizebox{0.9\linewidth}{!}{\usebox{\dlbox}}\else\usebox{\dlbox}\fi}
"""

#: a line of the working longer than this (LaTeX source characters) is split at its
#: top-level + and − signs, one piece a line
LONG_LINE = 160


def _display(rows: list[str]) -> str:
    """Rows ``&lhs``, ``&= rhs`` of the working as \\dlline paragraphs (see _PREAMBLE)."""
    out = []
    for row in rows:
        body = row[1:] if row.startswith("&") else row
        pieces = _split_top_level(body) if len(body) > LONG_LINE else [body]
        indent = "1.5em" if body.startswith(("=", r"\approx")) else "0em"
        out.append(f"\\dlline[{indent}]{{{pieces[0]}}}")
        out += [f"\\dlline[3em]{{{p}}}" for p in pieces[1:]]
    return "\n".join(out)


def _split_top_level(body: str) -> list[str]:
    """A long formula cut before its top-level + and − signs (outside braces and
    \\left…\\right), into pieces of about LONG_LINE characters."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(body):
        if body.startswith(r"\left", i) and not body[i + 5:i + 6].isalpha():
            depth, i = depth + 1, i + 5
            continue
        if body.startswith(r"\right", i) and not body[i + 6:i + 7].isalpha():
            depth, i = depth - 1, i + 6
            continue
        ch = body[i]
        depth += (ch == "{") - (ch == "}")
        if ch in "+-" and depth == 0 and i - start > LONG_LINE // 2 and body[i - 1] == " ":
            pieces.append(body[start:i].rstrip())
            start = i
        i += 1
    pieces.append(body[start:].strip())
    return [p for p in pieces if p]


def _input_tex(v: Any, digits: int) -> str:
    """An input in the document: text (layer specs) as breakable text, a value as math
    scaled down only when wider than the line."""
    if isinstance(v, str) or (isinstance(v, (list, tuple)) and v and all(isinstance(x, str) for x in v)):
        return P.tex_escape(v if isinstance(v, str) else ", ".join(v))
    return "\\dlfit{" + P.latex(_elide_value(v)[0], digits) + "}"


def _latex_document(solution: Solution, digits: int) -> str:
    tx = P.tex_escape
    parts = [_PREAMBLE, "\\begin{document}", f"\\section*{{{tx('dlcalc ' + solution.command)}}}"]
    if solution.inputs:
        parts.append("\\subsection*{Inputs}\n\\begin{itemize}")
        parts += [f"\\item {tx(k)}: " + _input_tex(v, digits) for k, v in solution.inputs.items()]
        parts.append("\\end{itemize}")
    if solution.conventions:
        parts.append("\\subsection*{Conventions}\n\\begin{itemize}")
        parts += [f"\\item \\textbf{{{tx(name)}}}: {tx(conv)}" for name, conv in solution.conventions.items()]
        parts.append("\\end{itemize}")
    if solution.steps:
        parts.append("\\subsection*{Working}")
    head, skipped, tail = _elide(list(solution.steps), SHOW_HEAD, SHOW_TAIL)
    section = None
    for i, s in enumerate(head + tail):
        if skipped and i == len(head):
            parts.append(f"\\emph{{{tx(f'… {skipped} more steps (all of them in --json) …')}}}")
        if s.section and s.section != section:
            parts.append(f"\\subsubsection*{{{tx(s.section)}}}")
            section = s.section
        parts.append(f"\\textbf{{{tx(s.title)}}}")
        rows = _step_rows(s, digits)
        if rows:
            parts.append(_display(rows))
        if s.note:
            parts.append(f"\\emph{{{tx(s.note)}}}")
    parts.append("\\subsection*{Answer}")
    answer = _answer_rows(solution, digits)
    if answer:
        parts.append(_display(answer))
    for note in solution.notes:
        parts.append(f"Note: {tx(note)}")
    if solution.checks:
        parts.append("\\subsection*{Check}\n\\begin{itemize}")
        parts += [f"\\item {tx(_check_sentence(v))}" for v in solution.checks]
        parts.append("\\end{itemize}")
    parts.append("\\end{document}")
    return "\n\n".join(parts)


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
    math: bool = False  # a formula: broken before its operators, not at any space


@dataclass(frozen=True)
class Records:
    """A table of records (an optimizer's history, a network's layers)."""

    key: str
    records: list[dict[str, Any]]
    columns: tuple[str, ...] | None = None  # a subset of the columns (a table split to fit)
    compact: bool = False                   # cells as decimals only, without exact forms


def _fit_records(item: Records, digits: int, width: int) -> list[Records]:
    """``item`` as one or more tables that fit in ``width`` columns: as it is; else with
    decimal-only cells; else split into column groups, each led by the first column (the
    step).  Rich would fold the cells of a table too wide into fragments."""
    from dataclasses import replace

    if _table_width(*_table_cells(item, digits)) <= width:
        return [item]
    compact = replace(item, compact=True)
    cols, rows = _table_cells(compact, digits)
    if _table_width(cols, rows) <= width or len(cols) < 3:
        return [compact]
    groups, current = [], [cols[0]]
    for c in cols[1:]:
        trial = replace(compact, columns=tuple(current + [c]))
        if len(current) > 1 and _table_width(*_table_cells(trial, digits)) > width:
            groups.append(current)
            current = [cols[0], c]
        else:
            current.append(c)
    groups.append(current)
    return [replace(compact, key=item.key if i == 0 else f"{item.key} (continued)", columns=tuple(g))
            for i, g in enumerate(groups)]


def _table_width(cols: list[str], rows: list[list[str]]) -> int:
    from rich.cells import cell_len

    cells = [cols, *rows]
    sizes = [max(cell_len(r[i]) for r in cells) for i in range(len(cols))]
    return sum(sizes) + 2 * len(cols) - 2 + len(cols) - 1


def text_lines(solution: Solution, digits: int = 6, width: int | None = None, *,
               brief: bool = False) -> list[Line | Records]:
    """The whole working as lines of text, in order (for either text renderer), each line
    at most ``width`` columns (80 when None): long lines are broken at spaces (formulas at
    their operators) with a hanging indent.  ``brief``: the Answer (and checks) alone."""
    width = width or 80
    lines = _lines(solution, digits, brief)
    return [x for item in lines for x in (_fit_records(item, digits, width) if isinstance(item, Records)
                                          else _wrap(item, width))]


def _lines(solution: Solution, digits: int, brief: bool) -> list[Line | Records]:
    if brief:
        return _answer_lines(solution, digits, brief=True)
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
            style = "green" if kind == "value" else None
            first, *rest = body.split("\n")
            out.append(Line("    " + prefix.rjust(2), None, ((first, style),), math=True))
            out += [Line("      ", None, ((r, style),)) for r in rest]  # a matrix, row by row
        if s.note:
            out.append(Line(f"      {s.note}", "italic dim"))
    return out + _answer_lines(solution, digits, brief=False)


def _answer_lines(solution: Solution, digits: int, brief: bool) -> list[Line | Records]:
    out: list[Line | Records] = [Line("Answer" if brief else "\nAnswer", "bold cyan")]
    for key, v in solution.result.items():
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], dict):
            if not brief:  # records (a history, the layers) are working: --brief leaves them out
                out.append(Records(key, list(v)))
            continue
        short, cut = _elide_value(v)
        shown = P.value_text(short, digits) if brief else _value_block(short, digits)
        if cut:
            shown += "  (long: every entry is in --json)"
        label = solution.labels.get(key, "")
        head = f"  {key}" + (f" ({label})" if label else "") + " "
        first, *rest = shown.split("\n")
        out.append(Line(head + ("" if first.startswith("≈") else "= "), "bold", ((first, "bold green"),)))
        pad = " " * (len(head) + (0 if first.startswith("≈") else 2))
        out += [Line(pad, None, ((r, "bold green"),)) for r in rest]
    for note in () if brief else solution.notes:
        out.append(Line(f"note: {note}", "yellow"))
    if solution.checks:
        out.append(Line("Check" if brief else "\nCheck", "bold cyan"))
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
                if v.departs_at and not brief:
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


def to_rich(solution: Solution, digits: int = 6, width: int | None = None, *, brief: bool = False) -> list[Any]:
    """Rich renderables of the whole working, in order, laid out for ``width`` columns."""
    from rich.text import Text

    out: list[Any] = []
    for item in text_lines(solution, digits, width, brief=brief):
        if isinstance(item, Records):
            out.append(_records_table(item, digits))
            continue
        t = Text(item.text, style=item.style or "")
        for part, style in item.more:
            t.append(part, style=style)
        out.append(t)
    return out


#: what rich.text.Text removes from any text (rich.control.STRIP_CONTROL_CODES)
_RICH_STRIPS = {7: None, 8: None, 11: None, 12: None, 13: None}


def to_plain(solution: Solution, digits: int = 6, width: int | None = None, *,
             brief: bool = False) -> str | None:
    """The text output without styles, exactly as Rich prints it to a file or pipe, or None
    when only Rich can lay it out (a table wider than ``width``, the console width, or with
    ``width`` None, as for a stream that is not UTF-8, where Rich draws ASCII boxes; tabs).

    A pipe gets no colour, so this skips loading Rich's console: ~20 ms of a ~0.35 s run.
    """
    lines = []
    for item in text_lines(solution, digits, width, brief=brief):
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
    if item.columns is not None:
        cols = [c for c in cols if c in item.columns]
    cell = _compact_cell if item.compact else _cell
    head, skipped, tail = _elide(item.records, TABLE_HEAD, TABLE_TAIL)
    rows = [[cell(r.get(c), digits) for c in cols] for r in head]
    if skipped:
        rows.append(["…"] * len(cols))
        rows.extend([cell(r.get(c), digits) for c in cols] for r in tail)
    return cols, rows


def _compact_cell(v: Any, digits: int) -> str:
    """A cell as its decimal alone (``0.394737`` for 15/38 ≈ 0.394737)."""
    text = _cell(v, digits)
    return text.rsplit("≈ ", 1)[-1] if "≈" in text and not text.startswith("[") else text


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


def _records_table(item: Records, digits: int) -> Any:
    from rich.table import Table
    from rich.text import Text

    cols, rows = _table_cells(item, digits)
    table = Table(title=item.key, title_justify="left", show_edge=False, pad_edge=False)
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
