"""How a report was made: the record kept in its notebook and the table shown at its end.

The batch plans each job's provenance (pxlib and Python versions, the
notebook and its hash, the kernel, the parameters as shown, every input
file's hash, the data folder); after the run :func:`add_provenance` stores it,
with the run date, in the notebook's metadata (``nb.metadata["pxlib"]``) and
appends it as a table (:func:`provenance_html`), so every report states how it
was made.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["add_provenance", "provenance_html", "python_version"]


def python_version() -> str:
    """The running Python's version, ``3.12.4``."""
    return sys.version.split()[0]


def _param_text(value: Any) -> str:
    """A parameter's value as typed in a parameters cell, without Python's quotes."""
    if isinstance(value, str):
        return value if value else "(empty)"
    if isinstance(value, list | tuple):
        return ", ".join(map(_param_text, value)) or "(none)"
    return str(value)


def provenance_html(prov: dict[str, Any], run_date: str) -> str:
    """One table: the software, the notebook, when, the data folder, each parameter and input file."""
    from pxlib import fmt
    from pxlib.escape import html_text as esc

    def row(what: str, value: str, code: bool = False) -> str:
        shown = f"<code>{esc(value)}</code>" if code else esc(value)
        return f'<tr><th scope="row">{esc(what)}</th><td>{shown}</td></tr>'

    when = fmt.date(run_date) + (f", {run_date[11:16]} UTC" if len(run_date) >= 16 else "")
    rows = [
        row("pxlib", str(prov.get("pxlib_version", ""))),
        row("Python", str(prov.get("python", ""))),
        row(
            "Notebook",
            f"{prov.get('notebook', '')} (sha256 {str(prov.get('notebook_sha256', ''))[:16]}…)",
        ),
        row("Kernel", str(prov.get("kernel", ""))),
        row("Run", when),
        row("Data folder", f"{prov.get('data_source', '')} (this organisation's rows only)"),
        *(row(f"Parameter: {k}", _param_text(v)) for k, v in prov.get("parameters", {}).items()),
        *(
            row(f"Input: {name}", f"sha256 {digest}", code=True)
            for name, digest in prov.get("inputs", {}).items()
        ),
    ]
    return (
        '<div class="pxlib-provenance">\n<h2>How this report was made</h2>\n'
        f"<table>{''.join(rows)}</table>\n</div>"
    )


def add_provenance(nb: Any, provenance: dict[str, Any], run_date: str) -> None:
    """Keep ``provenance`` (with ``run_date``) in ``nb``'s metadata and append it as a table."""
    import nbformat

    prov = {**provenance, "run_date": run_date}
    nb.metadata["pxlib"] = prov
    cell = nbformat.v4.new_markdown_cell(provenance_html(prov, run_date))
    cell.metadata["tags"] = ["pxlib-provenance"]
    nb.cells.append(cell)
