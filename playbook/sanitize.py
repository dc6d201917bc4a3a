"""The last pass over every HTML page the playbook writes: nothing in it can run.

Client files and parameters are escaped where they are put into markdown or HTML
(:func:`playbook.textfmt.md_escape`, ``html.escape``); this pass is the second layer, over the
finished document (the report, the portfolio page, the data request). It removes

* elements that run or load code: ``script``, ``iframe``, ``frame``, ``frameset``,
  ``object``, ``embed``, ``applet``, ``base``, a ``meta`` refresh, and SVG ``animate`` /
  ``set`` elements that target a link attribute (with their content);
* event-handler attributes (every attribute whose name starts with ``on``);
* URL attributes (:data:`URL_ATTRIBUTES`) whose URL is not :func:`is_safe_url`: only
  relative URLs, ``http(s):``, ``mailto:``, ``tel:`` and, for images, ``data:image/png``,
  ``jpeg``, ``gif`` or ``webp`` stay (``javascript:``, ``vbscript:``, other ``data:`` and every
  other scheme go), also in inline SVG (``href``, ``xlink:href``).

Everything else is kept byte for byte: the document is parsed with the standard library's
:class:`html.parser.HTMLParser` only to find what to cut, and the cuts are made in the
original text.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import mistune

#: The policy every page carries in a ``<meta http-equiv="Content-Security-Policy">``: no
#: script of any kind, nothing loaded from anywhere; inline styles, inline SVG and ``data:``
#: images and fonts only (the report, the portfolio page and the data request need no more).
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                           "font-src data:; base-uri 'none'; form-action 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'

#: Elements removed with everything inside them.
DROPPED_ELEMENTS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed",
                              "applet", "base"})
#: Attributes that hold a URL a browser or the PDF engine may follow or load.
URL_ATTRIBUTES = frozenset({"href", "src", "xlink:href", "action", "formaction", "poster",
                            "background", "data", "cite", "longdesc", "ping", "srcset",
                            "manifest", "codebase", "dynsrc", "lowsrc"})
#: Schemes a link may use (a URL without a scheme is relative and always allowed).
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
#: ``data:`` URLs allowed for images (e.g. a matplotlib raster inside an SVG chart).
SAFE_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]")
_IMAGE_ELEMENTS = frozenset({"img", "image", "input"})
_ANIMATION_ELEMENTS = frozenset({"animate", "set"})
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_TAG_NAME = re.compile(r"<\s*([^\s/>]+)")
_ATTR_NAME = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?""")


def is_safe_url(url: str, *, image: bool = False) -> bool:
    """True if following or loading ``url`` cannot run code.

    Control characters and spaces are ignored (browsers drop tabs and line breaks inside a
    scheme, so ``java\\tscript:`` counts as ``javascript:``) and case does not matter.
    A URL without a scheme (``#sec-1``, ``acme/2026-Q3/report.html``) is safe; with one, the
    scheme must be in :data:`SAFE_SCHEMES`, or ``image`` must be true and the URL a
    :data:`SAFE_IMAGE_DATA` image.

    >>> is_safe_url("JavaScript:alert(1)"), is_safe_url("#sec-2"), is_safe_url("https://a.b")
    (False, True, True)
    """
    squeezed = "".join(ch for ch in url if ch > " " and ch != "\x7f").lower()
    scheme = _SCHEME.match(squeezed)
    if scheme is None:
        return True
    if scheme.group(1) in SAFE_SCHEMES:
        return True
    return image and bool(SAFE_IMAGE_DATA.match(squeezed))


def _attribute_is_safe(tag: str, name: str, value: str | None) -> bool:
    """False for an event handler or a URL attribute holding an unsafe URL."""
    if name.startswith("on"):
        return False
    if name not in URL_ATTRIBUTES or value is None:
        return True
    image = tag in _IMAGE_ELEMENTS and name in ("src", "href", "xlink:href", "srcset")
    urls = [part.split()[0] for part in value.split(",") if part.split()] \
        if name == "srcset" else [value]
    return all(is_safe_url(url, image=image) for url in urls)


def _drops_element(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """Elements removed whole: code, a meta refresh, SVG animation of a link."""
    if tag in DROPPED_ELEMENTS:
        return True
    values = {k: (v or "").strip().lower() for k, v in attrs}
    if tag == "meta" and values.get("http-equiv") == "refresh":
        return True
    return tag in _ANIMATION_ELEMENTS and values.get("attributename") in URL_ATTRIBUTES


def _rebuilt_tag(raw: str, tag: str, attrs: list[tuple[str, str | None]]) -> str:
    """``raw`` start tag without its unsafe attributes (the others re-quoted)."""
    name = _TAG_NAME.match(raw)
    tag_text = name.group(1) if name else tag
    rest = raw[name.end():] if name else ""
    originals = [m.group(1) for m in _ATTR_NAME.finditer(rest.rstrip("/>"))]
    if [o.lower() for o in originals] != [k for k, _ in attrs]:
        originals = [k for k, _ in attrs]  # unusual markup: keep the parser's (lower-case) names
    parts = [tag_text]
    for original, (key, value) in zip(originals, attrs, strict=True):
        if not _attribute_is_safe(tag, key, value):
            continue
        parts.append(original if value is None else
                     f'{original}="{html.escape(value, quote=True)}"')
    closing = "/>" if raw.rstrip().endswith("/>") else ">"
    return "<" + " ".join(parts) + closing


class _Cutter(HTMLParser):
    """Finds the spans of a document to cut or replace (offsets into the original text)."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=False)
        self.document = document
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", document)]
        self.edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
        self.skipping: str | None = None  # name of the element being removed whole
        self.depth = 0
        self.skip_start = 0

    def position(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        raw = self.get_starttag_text() or ""
        start = self.position()
        if self.skipping is not None:
            if tag == self.skipping and not closed:
                self.depth += 1
            return
        if _drops_element(tag, attrs):
            if closed or tag in ("base", "meta", "embed", "frame"):  # void: nothing inside
                self.edits.append((start, start + len(raw), ""))
            else:
                self.skipping, self.depth, self.skip_start = tag, 1, start
            return
        if not all(_attribute_is_safe(tag, k, v) for k, v in attrs):
            self.edits.append((start, start + len(raw), _rebuilt_tag(raw, tag, attrs)))

    def handle_endtag(self, tag: str) -> None:
        start = self.position()
        end = self.document.find(">", start)
        end = len(self.document) if end < 0 else end + 1
        if self.skipping is not None:
            if tag == self.skipping:
                self.depth -= 1
                if self.depth == 0:
                    self.edits.append((self.skip_start, end, ""))
                    self.skipping = None
            return
        if tag in DROPPED_ELEMENTS:
            self.edits.append((start, end, ""))  # a stray end tag of a removed element

    def finish(self) -> list[tuple[int, int, str]]:
        self.close()
        if self.skipping is not None:  # never closed: it runs to the end of the document
            self.edits.append((self.skip_start, len(self.document), ""))
        return self.edits


def sanitize_html(document: str) -> str:
    """``document`` without anything that can run code (see the module's docstring).

    Passes are repeated until one changes nothing: a cut can join the text around it into
    new markup (``<<script></script>script>`` becomes ``<script>`` after one pass).

    >>> sanitize_html('<p onclick="x()">Hi<script>alert(1)</script></p>')
    '<p>Hi</p>'
    """
    while True:
        cleaner = _one_pass(document)
        if cleaner == document:
            return document
        document = cleaner  # (each pass that changes it removes markup: this ends)


def _one_pass(document: str) -> str:
    """One parse of ``document`` and the cuts it calls for."""
    cutter = _Cutter(document)
    cutter.feed(document)
    edits = cutter.finish()
    out, position = [], 0
    for start, end, replacement in sorted(edits):
        if start < position:  # inside a span already cut
            continue
        out += [document[position:start], replacement]
        position = end
    out.append(document[position:])
    return "".join(out)


class _SafeMarkdown(mistune.HTMLRenderer):
    """Markdown to HTML: raw HTML is shown as text, a link or image with an unsafe URL is
    shown as its text only."""

    def __init__(self) -> None:
        super().__init__(escape=True)

    def link(self, text: str, url: str, title: str | None = None) -> str:
        return super().link(text, url, title) if is_safe_url(url) else text

    def image(self, text: str, url: str, title: str | None = None) -> str:
        if is_safe_url(url, image=True):
            return super().image(text, url, title)
        return html.escape(mistune.util.striptags(text))


_MARKDOWN = mistune.create_markdown(renderer=_SafeMarkdown())


def markdown_html(text: str) -> str:
    """``text`` (CommonMark) as HTML in which nothing can run: raw HTML in the markdown is
    shown as text (``<b>`` stays the four characters), and a link or image whose URL is not
    :func:`is_safe_url` keeps only its text.

    >>> markdown_html("**Hi** <img src=x onerror=alert(1)> [x](javascript:alert(1))")
    '<p><strong>Hi</strong> &lt;img src=x onerror=alert(1)&gt; x</p>\\n'
    """
    return str(_MARKDOWN(text))
