"""The combined notebook as the report's files: HTML through nbconvert with the template
``templates/playbook``, then a paged PDF (:func:`playbook.render_pdf.html_to_pdf`).

The template (``conf.json``, ``index.html.j2``, ``static/report.css``) inherits
JupyterLab's HTML, hides every input and prompt, adds the cover and the contents page, and
declares the preprocessors that number the exhibits, anchor the headings and mark number
columns (:mod:`playbook.render_preprocessors`). The HTML is self-contained, and nothing in
it can run (:func:`playbook.sanitize.sanitize_html`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from dataclasses import asdict
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from playbook import paths
from playbook import textfmt as tf
from playbook.errors import RenderError
from playbook.render_manifest import ReportMeta
from playbook.render_pdf import html_to_pdf
from playbook.sanitize import sanitize_html


def notebook_to_html(nb: nbformat.NotebookNode, meta: ReportMeta) -> str:
    """The report as one self-contained HTML document (cover, contents, sections).

    Raises
    ------
    RenderError
        When nbconvert cannot export the notebook with the template.
    """
    exporter = HTMLExporter(
        extra_template_basedirs=[str(paths.templates_dir())],
        template_name=paths.TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        # embed_images re-parses each inline HTML tag alone and breaks <span>..</span> in
        # markdown; images in markdown cells must be attachments or outputs.
        embed_images=False,
    )
    # The cover's dates as the report writes every date ("30 Sep 2026"; playbook.textfmt).
    exporter.register_filter("report_date", tf.date)
    exporter.register_filter("report_time", tf.date_time)
    resources = {
        "metadata": {"name": meta.title, "path": str(paths.notebooks_dir())},
        "report": asdict(meta),
    }
    try:
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:
        raise RenderError(f"nbconvert could not export the report: {type(exc).__name__}: {exc}",
                          fix="Check the template in templates/playbook.") from exc
    return body


def write_report_html(nb: nbformat.NotebookNode, meta: ReportMeta, folder: Path,
                      timings: MutableMapping[str, float], say: Callable[[str], None]) -> Path:
    """Write ``report.html`` of the combined notebook into ``folder``; the seconds it took
    go to ``timings["html"]`` and are said through ``say``. Returns its path."""
    tick = time.perf_counter()
    html_path = folder / "report.html"
    html_path.write_text(sanitize_html(notebook_to_html(nb, meta)),
                         encoding="utf-8")  # nothing in it can run (playbook.sanitize)
    timings["html"] = round(time.perf_counter() - tick, 2)
    say(f"  HTML {timings['html']:.1f} s")
    return html_path


def write_report_pdf(html_path: Path, folder: Path, timings: MutableMapping[str, float],
                     say: Callable[[str], None]) -> Path:
    """Lay out ``html_path`` as ``report.pdf`` in ``folder``; the seconds it took go to
    ``timings["pdf"]`` and are said through ``say``. Returns its path."""
    tick = time.perf_counter()
    pdf_path = html_to_pdf(html_path, folder / "report.pdf")
    timings["pdf"] = round(time.perf_counter() - tick, 2)
    say(f"  PDF {timings['pdf']:.1f} s")
    return pdf_path
