"""The PDF engine: one function that turns the report's HTML into a paged PDF.

WeasyPrint lays out the self-contained HTML with the print rules of the template's CSS
(``@page`` size and margins, running header, "Page N of M", contents page numbers through
``target-counter``). Everything else in the playbook only calls :func:`html_to_pdf`, so the
engine can be swapped without touching the render path.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playbook.errors import RenderError
from playbook.storage import STORAGE_ERRNOS

#: WeasyPrint's loggers: CSS warnings ("unknown property ...") and layout progress.
_WEASYPRINT_LOGGERS = ("weasyprint", "weasyprint.progress")


@contextmanager
def _quiet_weasyprint(level: int = logging.ERROR) -> Iterator[None]:
    """Raise WeasyPrint's log level for the duration of a render, then restore it.

    WeasyPrint warns about every CSS property it does not implement (JupyterLab's and
    browser-only ones); those warnings say nothing about the report, so only errors (an
    unreadable image) get through. Its deprecation warnings about system libraries are
    silenced too.
    """
    loggers = [logging.getLogger(name) for name in _WEASYPRINT_LOGGERS]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        with warnings.catch_warnings():
            # "HarfBuzz-Subset will be required by future versions": about the system, not us
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="weasyprint")
            yield
    finally:
        for lg, lvl in zip(loggers, before, strict=True):
            lg.setLevel(lvl)


def warm_up() -> None:
    """Import WeasyPrint and lay out a one-line page, so that the report's render does not
    wait for the import and the font set-up (about 0.5 s): the render step calls this when
    a core is idle, while the last notebooks run."""
    with contextlib.suppress(Exception), _quiet_weasyprint():  # html_to_pdf says what fails
        import weasyprint

        weasyprint.HTML(string="<p>.</p>").render()


def html_to_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Render a self-contained HTML file to a paged PDF.

    Parameters
    ----------
    html_path : Path
        The report's HTML. It must be self-contained: only ``data:`` URLs are fetched
        (images and fonts embedded), so the render makes no network or file request.
    pdf_path : Path
        Where to write the PDF (overwritten).

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    RenderError
        When WeasyPrint cannot lay out or write the document.
    """
    try:
        with _quiet_weasyprint():
            import weasyprint  # imported here: its import warns about system libraries
            from weasyprint.urls import URLFetcher

            fetcher = URLFetcher(allowed_protocols={"data"})
            document = weasyprint.HTML(
                filename=str(html_path), url_fetcher=fetcher, media_type="print"
            )
            document.write_pdf(str(pdf_path))
    except Exception as exc:  # WeasyPrint raises many types; the caller needs one
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            raise  # disk full, read-only ...: the caller says what could not be written
        raise RenderError(
            f"Could not turn {html_path} into a PDF: {type(exc).__name__}: {exc}",
            fix="Open the HTML in a browser to check it; report the error with the HTML file.",
        ) from exc
    return pdf_path
