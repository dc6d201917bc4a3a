"""Empty sub-sections are dropped from the report; sections and filled ones stay."""

from __future__ import annotations

import nbformat

from playbook.outline import drop_empty_subsections, heading_level


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text)


def code(*outputs: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


SHOWN = {"output_type": "display_data", "data": {"text/html": "<p>exhibit</p>"},
         "metadata": {}}
STDERR = {"output_type": "stream", "name": "stderr", "text": "warning"}


def test_heading_level_only_for_heading_cells():
    assert heading_level(md("## Levers")) == 2
    assert heading_level(md("# 6 Impact scenarios\n\nWhat churn compounds to.")) is None
    assert heading_level(code()) is None


def test_empty_subsections_are_dropped_and_the_rest_kept():
    cells = [
        md("# 6 Impact scenarios"), code(SHOWN),                 # section with its note
        md("## Growth arithmetic"), code(),                      # empty: dropped
        md("## Levers"), code(STDERR),                           # only stderr: dropped
        md("## Coverage"), md("### By owner"), code(SHOWN),      # filled below a sub-heading
        md("## Text only"), md("A sentence of interpretation."),  # text counts
        md("# Appendix"), code(),                                # a section always stays
    ]
    kept = [c.source for c in drop_empty_subsections(cells) if c.cell_type == "markdown"]
    assert kept == ["# 6 Impact scenarios", "## Coverage", "### By owner", "## Text only",
                    "A sentence of interpretation.", "# Appendix"]
