"""Write the deck template ``templates/slides/house.pptx`` from the house style.

The template is python-pptx's own default master made 16:9 and restyled from
:mod:`playbook.slides_style`: the theme's fonts are the report's (headings and body), its
colour scheme the accent and greys, the title style left-aligned in the accent, and the
title placeholders of the layouts the deck uses sit where the style's boxes say. A slide
a partner adds in PowerPoint therefore looks like the generated ones. Regenerate it with
``make slides-template`` (``python -m playbook.slides_template``); the result depends only
on the pinned python-pptx and the style module.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.util import Inches, Pt

from playbook import slides_style as st

_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"

#: Theme colour slots and the house colour each takes.
SCHEME = {
    "dk1": "000000", "lt1": st.WHITE_HEX, "dk2": st.INK_HEX, "lt2": "F2F2F2",
    "accent1": st.ACCENT_HEX, "accent2": st.GREY_HEX, "accent3": st.LIGHT_GREY_HEX,
    "accent4": st.RULE_HEX, "accent5": st.TINT_HEX, "accent6": "404040",
    "hlink": st.ACCENT_HEX, "folHlink": st.GREY_HEX,
}


def _restyle_theme(xml: bytes) -> bytes:
    """The theme with the house colours and the report's font for headings and body."""
    root = etree.fromstring(xml)
    for slot, hex_ in SCHEME.items():
        for el in root.iter(f"{{{_A}}}{slot}"):
            for child in list(el):
                el.remove(child)
            etree.SubElement(el, f"{{{_A}}}srgbClr", val=hex_)
    for tag in ("majorFont", "minorFont"):
        for font in root.iter(f"{{{_A}}}{tag}"):
            font.find(f"{{{_A}}}latin").set("typeface", st.FONT_FAMILY)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _restyle_title_style(master_element: etree._Element) -> None:
    """Titles left-aligned, bold, in the accent, at the title size."""
    style = master_element.find(f"{{{_P}}}txStyles/{{{_P}}}titleStyle/{{{_A}}}lvl1pPr")
    if style is None:
        return
    style.set("algn", "l")
    rpr = style.find(f"{{{_A}}}defRPr")
    rpr.set("sz", str(st.TITLE_PT * 100))
    rpr.set("b", "1")
    fill = rpr.find(f"{{{_A}}}solidFill")
    if fill is not None:
        for child in list(fill):
            fill.remove(child)
        etree.SubElement(fill, f"{{{_A}}}srgbClr", val=st.ACCENT_HEX)


def _place(shape: object, box: st.Box) -> None:
    shape.left, shape.top = Inches(box.left), Inches(box.top)
    shape.width, shape.height = Inches(box.width), Inches(box.height)


def build_template(path: Path) -> Path:
    """Write the house template to ``path`` (its folder is created) and return ``path``."""
    prs = Presentation()
    scale = Inches(st.SLIDE_WIDTH_IN) / prs.slide_width
    prs.slide_width, prs.slide_height = Inches(st.SLIDE_WIDTH_IN), Inches(st.SLIDE_HEIGHT_IN)
    master = prs.slide_master
    # The default master is 4:3 at the same height: stretch every placeholder's width.
    for owner in (master, *master.slide_layouts):
        for shape in owner.placeholders:
            if shape.width is not None:
                shape.left, shape.width = int(shape.left * scale), int(shape.width * scale)
    theme = master.part.part_related_by(RT.THEME)
    theme._blob = _restyle_theme(theme.blob)
    _restyle_title_style(master._element)
    layouts = {layout.name: layout for layout in master.slide_layouts}
    content = layouts[st.CONTENT_LAYOUT]
    _place(content.placeholders[0], st.TITLE_BOX)
    title_slide = layouts[st.TITLE_LAYOUT]
    _place(title_slide.placeholders[0], st.Box(1.0, 2.2, st.SLIDE_WIDTH_IN - 2.0, 1.6))
    _place(title_slide.placeholders[1], st.Box(1.0, 3.9, st.SLIDE_WIDTH_IN - 2.0, 1.4))
    for index, size in ((0, 32), (1, 16)):
        for paragraph in title_slide.placeholders[index].text_frame.paragraphs:
            paragraph.font.size = Pt(size)
    prs.core_properties.title = "cs-playbook house template"
    prs.core_properties.author = "cs-playbook"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(path)
    return path


if __name__ == "__main__":  # make slides-template
    build_template(Path(sys.argv[1]) if len(sys.argv) > 1 else st.template_path())
