"""Hostile text from client files and params is shown as text, never as live markup.

A client whose every text field (account names, industries, segments, owners, reason codes
and texts, status codes, a column header) and every text parameter (client name, report title
and version, uninformative reasons, reason rules, enterprise segments, a tier's role) holds
HTML, script, a ``javascript:`` link, a markdown link or ``$...$`` math renders a report and a
portfolio page in which an HTML parser finds no script element, no event handler and no
``javascript:`` URL, and the PDF has no ``javascript:`` link; the hostile strings are there
as literal text (escaped, not deleted).
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from test_broken_clients import Client, base_frames, csv, write

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
LINK = '<a href="javascript:alert(1)">x</a>'
MD_LINK = "[x](javascript:alert(1))"
MATH = r"$\alpha$"
HOSTILE = (IMG, SCRIPT, LINK, MD_LINK, MATH)
OWNER_HEADER = f"Owner {IMG}"


def hostile_client(notebooks: list[str], n: int = 150) -> Client:
    """The broken-client corpus's healthy base client with hostile text everywhere.

    150 accounts: enough decisions for the renewal model to keep the segment, so segment
    names reach the effect sentences (markdown) as well as the charts and tables."""
    f = base_frames(n)
    acc = f["accounts"]
    i = pd.Series(range(len(acc)))
    industries = [IMG, SCRIPT, LINK, MD_LINK]
    segments = [f"{MD_LINK} SMB", f"{MATH} Mid", f"{IMG} Ent"]
    acc["Account Name"] = [f"{HOSTILE[k % 5]} {k}" for k in i]
    acc["Industry"] = [industries[k % 4] for k in i]
    acc["Segment"] = [segments[k % 3] for k in i]
    acc[OWNER_HEADER] = [[IMG, LINK, MATH][k % 3] for k in i]
    status = {"Active": f"Active {LINK}", "Churned": f"Churned {SCRIPT}"}
    acc["Status"] = acc["Status"].map(status)
    churn = f["churn"]
    codes = {"price": SCRIPT, "product": LINK, "service": MD_LINK}
    churn["reason_code"] = churn["reason_code"].map(codes)
    churn["reason_text"] = [[f"too expensive {IMG}", f"{MATH} too expensive", LINK][k % 3]
                            for k in range(len(churn))]
    client = Client.base(n, **f)
    client.files["accounts.csv"] = csv(acc)
    client.files["churn.csv"] = csv(churn)
    # outcomes and triggers (06): hostile outcome text, trigger codes and notes; recent
    # triggers at active accounts reach the open list with hostile names and owners
    live = acc.loc[acc["Status"] == status["Active"], "Account ID"].head(30).tolist()
    trig_codes = {f"Left {SCRIPT}": "champion_left", f"Exec {IMG}": "exec_change"}
    client.files["triggers.csv"] = csv(pd.DataFrame({
        "account_id": live, "date": [f"2024-03-{1 + k % 25:02d}" for k in range(len(live))],
        "type": [list(trig_codes)[k % 2] for k in range(len(live))],
        "note": [HOSTILE[k % 5] for k in range(len(live))]}))
    client.files["outcomes.csv"] = csv(pd.DataFrame({
        "account_id": live, "outcome": [f"{HOSTILE[k % 5]} onboarding" for k in range(len(live))],
        "metric": MD_LINK, "baseline": 10.0, "target": 20.0, "value": 15.0,
        "measured_at": "2024-03-15"}))
    p = copy.deepcopy(client.params)
    p["client"] = {"name": f"{IMG} {MD_LINK} {MATH}"}
    p["report"] = {"notebooks": notebooks, "title": f"Report {SCRIPT}",
                   "version": f"v1 {LINK}"}
    p["tables"]["triggers"] = {"file": "triggers.csv", "codes": {"type": trig_codes}}
    p["tables"]["outcomes"] = {"file": "outcomes.csv"}
    table = p["tables"]["accounts"]
    table["columns"]["owner"] = OWNER_HEADER
    table["codes"]["status"] = {v: k.lower() for k, v in status.items()}
    p["churn"] = {"uninformative_reasons": ["", "other", IMG, MD_LINK],
                  "reason_rules": {f"Price {LINK}": ["expensive"]}}
    p["thresholds"] = {"enterprise_segments": [f"{IMG} Ent"]}
    p["health"] = {"bands": {"default": {"red": 50, "yellow": 75, "green": 100},
                             f"{IMG} Ent": {"red": 60, "yellow": 80, "green": 100}}}
    p["touch_model"] = {"tiers": {"high": {"role": f"CSM {IMG}"}},
                        "loaded_cost_per_role": {f"CSM {IMG}": 150000}}
    client.params = p
    return client


# --------------------------------------------------------------------------- inspecting HTML

URL_ATTRIBUTES = ("href", "src", "xlink:href", "action", "formaction")


class Page(HTMLParser):
    """What an HTML document would make live: elements, attributes, text and the CSP."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.svg_text: list[str] = []
        self._stack: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("text", "tspan", "script", "style", "title"):
            self._stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1] in ("text", "tspan"):
            self.svg_text.append(data)
        elif not self._stack or self._stack[-1] not in ("script", "style"):
            self.text.append(data)

    def live_markup(self) -> list[str]:
        """Every script element, event handler and script URL, described."""
        found = []
        for tag, attrs in self.tags:
            if tag == "script":
                found.append("<script> element")
            for name, value in attrs.items():
                if name.startswith("on"):
                    found.append(f"<{tag} {name}={value!r}>")
                squeezed = "".join(value.split()).lower()
                if name in URL_ATTRIBUTES and squeezed.startswith(("javascript:", "vbscript:")):
                    found.append(f"<{tag} {name}={value!r}>")
        return found

    def csp(self) -> str:
        """The Content-Security-Policy of the first meta tag that sets one ("" if none)."""
        for tag, attrs in self.tags:
            if tag == "meta" and attrs.get("http-equiv", "").lower() == \
                    "content-security-policy":
                return attrs.get("content", "")
        return ""

    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def assert_inert(document: str) -> Page:
    """No live markup, and a CSP that allows no script at all."""
    page = Page(document)
    assert page.live_markup() == []
    policy = [p.strip() for p in page.csp().split(";")]
    assert "default-src 'none'" in policy, page.csp()
    assert not any(p.startswith("script-src") for p in policy), page.csp()
    return page


# --------------------------------------------------------------------------- the whole report

@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """The hostile client's report (every notebook) and the portfolio page."""
    from playbook import portfolio
    from playbook.render import render_report

    root = tmp_path_factory.mktemp("hostile")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYBOOK_ROOT", str(root))
    mp.setenv("PLAYBOOK_REPORTS", str(root / "reports"))
    try:
        client = hostile_client(list(NOTEBOOKS))
        write(root, client)
        result = render_report(client.client, progress=False)
        index = portfolio.write_index([client.client])
    finally:
        mp.undo()
    return {"html": result.html, "pdf": result.pdf, "index": index}


NOTEBOOKS = ("01-revenue", "02-renewal-drivers", "03-segments-health", "04-capacity",
             "05-account-plan", "06-outcomes-triggers", "90-data-quality", "95-appendix")


def test_report_html_has_no_script_event_handler_or_script_url(rendered):
    assert_inert(rendered["html"].read_text(encoding="utf-8"))


def test_hostile_text_shows_in_the_report_as_typed(rendered):
    text = assert_inert(rendered["html"].read_text(encoding="utf-8")).all_text()
    for value in HOSTILE:
        assert value in text, value
    # generated sentences (markdown) keep client and params values literally:
    assert f"\u201c{IMG}\u201d, \u201c{MD_LINK}\u201d (any case)" in text  # appendix, params
    assert f"{IMG}'s (" in text or f"{LINK}'s (" in text or f"{MATH}'s (" in text  # owner
    assert f"{IMG} {MD_LINK} {MATH}" in text                  # the client's name
    assert "had a trigger in the last 90 days" in text        # 06's open list was shown
    for param in (f"Report {SCRIPT}", f"v1 {LINK}", f"CSM {IMG}", f"Price {LINK}"):
        assert param in text, param                           # title, version, role, rule
    segments = [f"Segment: {IMG} Ent", f"Segment: {MATH} Mid", f"Segment: {MD_LINK} SMB"]
    effects = [seg for seg in segments  # the renewal-driver effects, "... (+0.1 pts)"
               if re.search(re.escape(seg) + r" \([+−-]?[\d.]+ pts\)", text)]
    assert len(effects) >= 2


def test_chart_labels_show_dollar_math_as_typed(rendered):
    page = Page(rendered["html"].read_text(encoding="utf-8"))
    labels = " ".join(page.svg_text)
    assert MATH in labels          # not typeset as a Greek alpha


def test_report_pdf_has_no_script_link(rendered):
    reader = PdfReader(rendered["pdf"])
    uris, actions = [], []
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            action = ref.get_object().get("/A") or {}
            actions.append(str(action.get("/S", "")))
            uris.append(str(action.get("/URI", "")))
    assert "/JavaScript" not in actions
    assert not [u for u in uris if "".join(u.split()).lower().startswith(
        ("javascript:", "vbscript:", "data:"))]
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "onerror=alert(1)" in text      # shown as text in the PDF too


def test_portfolio_page_shows_hostile_names_as_text(rendered):
    page = assert_inert(rendered["index"].read_text(encoding="utf-8"))
    assert f"{IMG} {MD_LINK} {MATH}" in page.all_text()


# --------------------------------------------------------------------------- other pages

def test_portfolio_page_escapes_every_text_of_a_results_file(tmp_path, monkeypatch):
    """A results.json written before currencies were checked (or edited by hand)."""
    from playbook import portfolio

    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "reports"))
    folder = tmp_path / "reports" / "acme" / "2026-Q3"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({
        "meta": {"as_of": "2026-09-30", "period_label": f"2026-Q3 {LINK}",
                 "client_name": IMG, "currency": SCRIPT},
        "01-revenue": {"findings": {"period": {"end_mrr": 100_000.0}}}}))
    page = assert_inert(portfolio.index_html(["acme"]))
    assert f"100K {SCRIPT}" in page.all_text() and IMG in page.all_text()


def test_data_request_shows_a_hostile_client_name_as_text():
    from playbook.data_request import request_html

    page = assert_inert(request_html(f"{IMG} {LINK}"))
    assert f"Data request: {IMG} {LINK}" in page.all_text()


def test_report_template_carries_the_policy_of_the_sanitiser():
    from playbook import paths
    from playbook.sanitize import CONTENT_SECURITY_POLICY, CSP_META

    template = paths.templates_dir() / paths.TEMPLATE_NAME / "index.html.j2"
    assert CSP_META in template.read_text(encoding="utf-8")
    assert "script" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CSP_META


def test_a_currency_that_is_not_an_iso_code_is_refused(client_factory):
    from conftest import BASE_PARAMS

    from playbook.config import load_params
    from playbook.errors import ParamsError

    params = copy.deepcopy(BASE_PARAMS)
    for currency in ("<b>US</b>", "usd", "US$", "EURO", ""):
        params["client"]["currency"] = currency
        client_factory.write(params=params)
        with pytest.raises(ParamsError) as exc:
            load_params("t")
        message = str(exc.value)
        assert "params/t.yaml" in message and "client.currency" in message
        assert "three capital letters, e.g. USD" in message
    params["client"]["currency"] = "CHF"          # any ISO code, not only those with a sign
    client_factory.write(params=params)
    assert load_params("t").client.currency == "CHF"


# --------------------------------------------------------------------------- the helpers

@pytest.mark.parametrize(("value", "escaped"), [
    ("Acme Ltd (Mid-market), 12.5% + 3", "Acme Ltd (Mid-market), 12.5% + 3"),
    ("<img src=x onerror=alert(1)>", r"\<img src=x onerror=alert(1)\>"),
    ("[x](javascript:alert(1))", r"\[x\](javascript:alert(1))"),
    (r"$\alpha$", r"\$\\alpha\$"),
    ("a_b *c* `d` ~e~ #1 & é|!", r"a\_b \*c\* \`d\` \~e\~ \#1 \& é\|\!"),
    ("line\n# heading\r\n- item", r"line \# heading - item"),
    ("- item", r"\- item"),
    ("+ item", r"\+ item"),
    ("12. item", r"12\. item"),
    ("3) item", r"3\) item"),
    (": definition", r"\: definition"),
    (42, "42"),
])
def test_md_escape_backslashes_what_markdown_would_read_as_markup(value, escaped):
    from playbook.textfmt import md_escape

    assert md_escape(value) == escaped


@pytest.mark.parametrize("value", [*HOSTILE, "a_b *c* `d` ~~e~~ &amp; <b>x</b>", "1. x\n# y",
                                   "- x", "www.example.org/x", "a | b", "**x** __y__"])
def test_md_escaped_text_renders_as_typed_in_both_markdown_renderers(value):
    """Ours (say) and nbconvert's (markdown cells and outputs, raw HTML allowed)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from playbook.sanitize import markdown_html
    from playbook.textfmt import md_escape

    typed = " ".join(value.split())
    for render in (markdown_html, markdown2html_mistune):
        out = render(f"Value {md_escape(value)} end.")
        page = Page(out)
        assert page.tags == [("p", {})], out        # one paragraph, no other element
        assert page.all_text() == f"Value {typed} end."


def test_say_renders_markdown_with_raw_html_as_text_and_no_script_link(client_factory,
                                                                      monkeypatch):
    from playbook import session

    client_factory.write()
    nb = session.start("t-nb", client="t")
    shown: list = []
    monkeypatch.setattr(session, "display", lambda obj: shown.append(obj))
    nb.say(f"**Churn** by {IMG} and [x](javascript:alert(1)) and [docs](https://example.org)")
    (out,) = shown
    assert isinstance(out, session.HTML)          # rendered here, not by nbconvert
    assert out.data == ("<p><strong>Churn</strong> by &lt;img src=x onerror=alert(1)&gt; "
                        'and x and <a href="https://example.org">docs</a></p>\n')


@pytest.mark.parametrize(("document", "clean"), [
    ('<p onclick="go()" class="a">Hi<script>alert(1)</script></p>', '<p class="a">Hi</p>'),
    ('<a href="javascript:alert(1)">x</a><a href="#sec-1">y</a>',
     '<a>x</a><a href="#sec-1">y</a>'),
    ('<a HREF=" JaVa&#9;Script:alert(1)" title="t">x</a>', '<a title="t">x</a>'),
    ('<a href="vbscript:x">v</a><a href="data:text/html,x">d</a><a href="https://e.org">e</a>',
     '<a>v</a><a>d</a><a href="https://e.org">e</a>'),
    ('<img src=x onerror=alert(1)><img src="data:image/png;base64,AA">',
     '<img src="x"><img src="data:image/png;base64,AA">'),
    ('<img src="data:image/svg+xml,<svg onload=alert(1)>">', "<img>"),
    ('<svg viewBox="0 0 1 1"><a xlink:href="javascript:alert(1)"><text>t</text></a>'
     '<image xlink:href="data:image/png;base64,AA"/><clipPath id="c"></clipPath></svg>',
     '<svg viewBox="0 0 1 1"><a><text>t</text></a>'
     '<image xlink:href="data:image/png;base64,AA"/><clipPath id="c"></clipPath></svg>'),
    ('<svg><a><animate attributeName="href" values="javascript:alert(1)"/></a>'
     '<set attributeName="xlink:href" to="javascript:1"></set>'
     '<animate attributeName="opacity"/></svg>',
     '<svg><a></a><animate attributeName="opacity"/></svg>'),
    ('<form action="javascript:x"><button formaction="vbscript:x">b</button></form>',
     "<form><button>b</button></form>"),
    ('a<iframe src="x"><p>in</p></iframe>b<object data="x"></object><embed src="x">'
     '<base href="https://e.org/">c', "abc"),
    ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><meta charset="utf-8">',
     '<meta charset="utf-8">'),
    ('<img srcset="a.png 1x, javascript:alert(1) 2x">', "<img>"),
    ("<script/>text</script>x", "textx"),
    ("<<script></script>script>alert(1)<</script>/script>", ""),   # a cut makes a tag
    ("<p>a &amp; b &lt;img&gt; <!-- c --> <br/></p>\n<SCRIPT>never closed",
     "<p>a &amp; b &lt;img&gt; <!-- c --> <br/></p>\n"),
    ('line1\nline2 <b\nonclick="x">z</b>\n<i>k</i>', "line1\nline2 <b>z</b>\n<i>k</i>"),
])
def test_sanitize_html_removes_what_can_run_and_keeps_the_rest_byte_for_byte(document,
                                                                             clean):
    from playbook.sanitize import sanitize_html

    assert sanitize_html(document) == clean
