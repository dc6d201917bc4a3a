"""The executed notebooks (and the executive summary before them) as one notebook.

What reaches the report:

* cells tagged ``parameters``, ``injected-parameters`` or ``remove_cell`` are dropped;
  cells tagged ``remove_output`` keep no output; stderr output (warnings) is dropped;
  code is never shown (the template hides every input);
* sub-section headings with nothing under them are dropped
  (:func:`playbook.outline.drop_empty_subsections`);
* every cell gets a fresh id and records which notebook it came from, so that the
  template's preprocessors (:mod:`playbook.render_preprocessors`) number the exhibits
  across the report and anchor the headings of the contents.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import nbformat

from playbook.outline import drop_empty_subsections
from playbook.render_preprocessors import PART_KEY

#: Cells with these tags never reach the report.
DROP_TAGS = frozenset({"parameters", "injected-parameters", "remove_cell"})
#: Cells with this tag reach the report without their outputs.
NO_OUTPUT_TAG = "remove_output"


def combine_notebooks(executed: Sequence[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """Merge executed notebooks, in order, into one notebook for the report.

    Returns
    -------
    NotebookNode
        The cells the report shows, each with a fresh id (``cell-0001`` ...) and
        ``metadata.playbook.part``: the index of its notebook in ``executed``. The kernel
        and language metadata are the first notebook's.
    """
    combined = nbformat.v4.new_notebook()
    if executed:
        for key in ("kernelspec", "language_info"):
            if key in executed[0].metadata:
                combined.metadata[key] = executed[0].metadata[key]
    for part, nb in enumerate(executed):
        cells = drop_empty_subsections(
            [report_cell(c) for c in nb.cells if not DROP_TAGS & set(cell_tags(c))])
        for cell in cells:
            cell.metadata[PART_KEY] = {"part": part}
            combined.cells.append(cell)
    for index, cell in enumerate(combined.cells, start=1):
        cell["id"] = f"cell-{index:04d}"
    return combined


def cell_tags(cell: nbformat.NotebookNode) -> list[str]:
    """A cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


def report_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a cell as the report shows it: no stderr, no outputs if so tagged."""
    cell = nbformat.from_dict(json.loads(json.dumps(cell)))
    cell.metadata.pop("papermill", None)
    cell.metadata.pop("execution", None)
    if cell.cell_type == "code":
        if NO_OUTPUT_TAG in cell_tags(cell):
            cell.outputs = []
        cell.outputs = [
            o for o in cell.outputs
            if not (o.output_type == "stream" and o.get("name") == "stderr")
        ]
    return cell
