"""A function run in a forked child (issue 22: the loader's memory given back, the slide
deck written while the PDF is laid out): its result, its errors as they were, a killed
child said as such; the same in this process where a fork is not possible."""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest

from playbook import forked, render, render_export, slides
from playbook.errors import ChildTraceback, DataError, DataIssue, GeneratedFolderError, RenderError
from tests.test_render import ALPHA, BETA, PARAMS, meta


def _pid_and_sum(*numbers: int) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


@pytest.mark.parametrize("fork", [True, False])
def test_the_result_comes_back(fork):
    pid, total = forked.ForkedCall(_pid_and_sum, 2, 3, 4, what="Adding", fork=fork).result()
    assert total == 9
    assert (pid != os.getpid()) is fork


def _data_error() -> None:
    raise DataError([DataIssue("mrr", "data/t/mrr.csv", "mrr", "3 cells are not numbers",
                               "a number per cell", "Fix the cells.")])


def _keyword_error() -> None:
    raise GeneratedFolderError("not ours", fix="pick another folder", kind="edited")


def _unpicklable_error() -> None:
    exc = ValueError("odd one")
    exc.lock = threading.Lock()  # an attribute pickle refuses
    raise exc


@pytest.mark.parametrize("fork", [True, False])
def test_errors_keep_their_class_message_and_attributes(fork):
    with pytest.raises(DataError) as err:
        forked.ForkedCall(_data_error, what="Loading", fork=fork).result()
    assert "3 cells are not numbers" in str(err.value)
    assert [i.table for i in err.value.issues] == ["mrr"]
    assert isinstance(err.value.__cause__, ChildTraceback)
    assert "_data_error" in str(err.value.__cause__)
    with pytest.raises(GeneratedFolderError) as err:
        forked.ForkedCall(_keyword_error, what="Writing", fork=fork).result()
    assert err.value.kind == "edited" and err.value.fix == "pick another folder"


def test_an_error_that_does_not_pickle_still_says_what_it_was():
    with pytest.raises(RenderError, match="ValueError: odd one"):
        forked.ForkedCall(_unpicklable_error, what="Writing", fork=True).result()


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_child_gives_its_exit_code():
    with pytest.raises(RenderError, match="Writing the slides stopped.*exit code -9"):
        forked.ForkedCall(_killed, what="Writing the slides").result()


def test_the_deck_is_written_beside_the_pdf_by_another_process(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    real_slides, real_pdf = slides.write_slides, render_export.html_to_pdf

    def deck(*args, **kwargs):
        with pids.open("a") as fh:
            fh.write(f"slides {os.getpid()}\n")
        return real_slides(*args, **kwargs)

    def pdf(*args, **kwargs):
        with pids.open("a") as fh:
            fh.write(f"pdf {os.getpid()}\n")
        return real_pdf(*args, **kwargs)

    monkeypatch.setattr(slides, "write_slides", deck)
    monkeypatch.setattr(render_export, "html_to_pdf", pdf)
    out = render.render_notebooks([ALPHA, BETA], PARAMS, tmp_path / "reports" / "a" / "q",
                                  meta(), progress=False)
    assert out.pptx.is_file() and out.pptx.stat().st_size > 10_000
    assert out.pdf.is_file()
    who = dict(line.split() for line in pids.read_text().splitlines())
    assert who["pdf"] == str(os.getpid()) and who["slides"] != who["pdf"]
    seconds = json.loads(out.manifest.read_text())["run"]["seconds"]
    assert seconds["pptx"] >= 0 and seconds["pdf"] > 0


def test_a_deck_that_fails_fails_the_run_and_keeps_the_previous_report(tmp_path,
                                                                        monkeypatch):
    out = tmp_path / "reports" / "a" / "q"
    out.mkdir(parents=True)
    (out / "report.pdf").write_bytes(b"%PDF-previous")

    def broken(*_args, **_kwargs):
        raise RenderError("the deck's template is missing", fix="restore it")

    monkeypatch.setattr(slides, "write_slides", broken)
    with pytest.raises(RenderError, match="template is missing"):
        render.render_notebooks([ALPHA, BETA], PARAMS, out, meta(), progress=False)
    assert (out / "report.pdf").read_bytes() == b"%PDF-previous"
    assert sorted(p.name for p in out.parent.iterdir()) == ["q"]
