"""The slide deck's house style: one accent colour, greys, the report's font, 16:9.

One place for what the deck template (:mod:`playbook.slides_template`) and the deck
builder (:mod:`playbook.slides`) share: colours (the charts' accent and greys,
:mod:`playbook.charts`), the font family of the report and its charts, the slide size and
the boxes every content slide places its parts in. Lengths are in inches, font sizes in
points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playbook import paths

#: The charts' colours and font (:mod:`playbook.charts`; a test checks they agree; not
#: imported from there, which would load matplotlib and seaborn for a deck).
ACCENT = "#1f4e79"
GREY = "#8c8c8c"
LIGHT_GREY = "#d0d0d0"
FONT = "DejaVu Sans"

#: The deck's template: ``templates/slides/house.pptx`` (written by
#: :func:`playbook.slides_template.build_template`; a firm may replace it with its own
#: master that keeps the layout names :data:`TITLE_LAYOUT` and :data:`CONTENT_LAYOUT`).
TEMPLATE_FOLDER = "slides"
TEMPLATE_FILE = "house.pptx"

#: Colours as ``RRGGBB`` hex: the accent of the report and its charts, and greys.
ACCENT_HEX = ACCENT.lstrip("#").upper()
INK_HEX = "262626"          # body text (the report's --ink)
GREY_HEX = "595959"         # subtitles, labels (--grey)
LIGHT_GREY_HEX = GREY.lstrip("#").upper()      # footers, notes
RULE_HEX = LIGHT_GREY.lstrip("#").upper()      # rules and table lines
TINT_HEX = "DCE6F0"         # the accent's light tint (table header band, key-figure tiles)
WHITE_HEX = "FFFFFF"

#: The report's font family (the charts' too: DejaVu Sans, shipped with matplotlib).
FONT_FAMILY = FONT

#: 16:9 slides, 13.333 x 7.5 inches (PowerPoint's widescreen).
SLIDE_WIDTH_IN = 13.333
SLIDE_HEIGHT_IN = 7.5

#: Layout names the deck uses in the template.
TITLE_LAYOUT = "Title Slide"
CONTENT_LAYOUT = "Title Only"


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide: left, top, width, height in inches."""

    left: float
    top: float
    width: float
    height: float


MARGIN_IN = 0.5
CONTENT_WIDTH_IN = SLIDE_WIDTH_IN - 2 * MARGIN_IN
#: "Exhibit 4" above the title.
LABEL_BOX = Box(MARGIN_IN, 0.3, CONTENT_WIDTH_IN, 0.3)
#: The action title (the layout's title placeholder).
TITLE_BOX = Box(MARGIN_IN, 0.6, CONTENT_WIDTH_IN, 1.05)
#: Metric, unit and period under the title.
SUBTITLE_BOX = Box(MARGIN_IN, 1.68, CONTENT_WIDTH_IN, 0.4)
#: The chart, the table or the text of a slide.
BODY_BOX = Box(MARGIN_IN, 2.15, CONTENT_WIDTH_IN, 4.55)
#: Source and n, left; page number and "Confidential", right.
FOOTER_BOX = Box(MARGIN_IN, 6.85, CONTENT_WIDTH_IN - 2.2, 0.45)
PAGE_BOX = Box(SLIDE_WIDTH_IN - MARGIN_IN - 2.0, 6.95, 2.0, 0.3)
#: "DRAFT" at the top right of every slide of a draft report (the notes' sign-off).
DRAFT_BOX = Box(SLIDE_WIDTH_IN - MARGIN_IN - 1.5, 0.18, 1.5, 0.3)
#: The accent rule across the top of every slide (the report cover's band).
BAND_HEIGHT_IN = 0.12

TITLE_PT = 22       # an action title of up to about 100 characters
TITLE_LONG_PT = 18  # a longer one (the slide still shows it whole)
LONG_TITLE_CHARS = 100
SUBTITLE_PT = 13
BODY_PT = 14
LABEL_PT = 11
FOOTER_PT = 9
#: Table type sizes, largest first, each with the most body rows it is used for.
TABLE_SIZES = ((14, 8), (12, 10), (10, 14), (9, 10_000))
#: Rows of a table a slide shows; the rest are in the report (the slide says how many).
TABLE_MAX_ROWS = 16
#: Pixels per inch of the charts' images (SVG rasterised at the size placed on the slide).
CHART_DPI = 150


def template_path() -> Path:
    """The deck template: ``templates/slides/house.pptx`` of the project root, or the
    checkout's when the root has none (:func:`playbook.paths.templates_dir`)."""
    mine = paths.project_root() / "templates" / TEMPLATE_FOLDER / TEMPLATE_FILE
    if mine.is_file():
        return mine
    return paths.CHECKOUT_DIR / "templates" / TEMPLATE_FOLDER / TEMPLATE_FILE
