"""Intermediates of a notebook computed ahead, by a kernel that would otherwise wait.

The report's notebooks run two (or more) at a time on warm kernels, in report order
(:mod:`playbook.render_execute`). The last notebook to start runs alone at the end while
the other kernels have nothing left to do: at 100,000 accounts the account plan (05) ran
8.8 s with one core idle, 3.6 s of it fitting the expansion model. Part of such a
notebook's work is an intermediate of the run's analysis context
(:class:`playbook.context.AnalysisContext`), computed once for the whole run
(:func:`playbook.once.computed_once`): a kernel asked for it earlier, between two other
notebooks, computes it beside them, and the notebook reads it when it gets there.

:data:`AHEAD` names, for each notebook, the context's intermediates worth computing ahead:
long ones, that need nothing the notebook shows first. The render step puts one task per
such notebook in the kernels' queue (:func:`playbook.render_execute.kernel_queue`);
the kernel runs :func:`compute_ahead`. What it computes is what the notebook would
compute (the same property of the same context on the same tables), so the figures are
the same whichever kernel computes it. A failure there changes nothing: the notebook then
computes it itself, and shows the error as it would have.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Notebook stem -> the analysis context's properties another kernel computes for it
#: ahead of time. Each must be one of :class:`playbook.context.AnalysisContext`'s
#: intermediates computed once for the run (``computed_once``), or the work is lost.
AHEAD: dict[str, tuple[str, ...]] = {
    "05-account-plan": ("expansion_model", "renewals_due_book"),
}

#: Notebook stem -> the notebooks it runs before when the kernels run one notebook at a
#: time (:func:`alone_order`; report order otherwise). The account plan leaves its workbook
#: to a forked child of the render step (:mod:`playbook.workbook_pending`), started as soon
#: as the notebook is done: run last, as in report order, that child wrote alone after the
#: last notebook (about 20 s at 1,000,000 accounts, where one kernel runs at a time: the
#: run's tail); run before the capacity and outcomes sections, it writes beside them on
#: the core their kernel leaves idle. Those read nothing the account plan computes, nor it
#: anything of theirs, so every figure is the same in either order; the report keeps
#: report order.
EARLY_ALONE: dict[str, tuple[str, ...]] = {
    "05-account-plan": ("04-capacity", "06-outcomes-triggers"),
}


def alone_order(stems: Sequence[str]) -> list[str]:
    """``stems`` (report order) in the order one kernel runs them: each notebook of
    :data:`EARLY_ALONE` moved just before the first of its notebooks that precedes it."""
    order = list(stems)
    for stem, before in EARLY_ALONE.items():
        if stem not in order:
            continue
        at = order.index(stem)
        earlier = [order.index(s) for s in before if s in order and order.index(s) < at]
        if earlier:
            order.insert(min(earlier), order.pop(at))
    return order


def compute_ahead(names: Sequence[str], *, client: str, period: str = "", as_of: str = "",
                  data_cache: str = "") -> dict[str, str]:
    """Read each of the run's context properties ``names`` (computing and storing each
    for the run's notebooks, unless another kernel did already). Returns, per name,
    ``"ok"`` or the error it raised (kept here: the notebook that reads the property
    computes it again and deals with the error itself). Nothing is computed without the
    run's data cache (``data_cache`` empty or holding no entry for these parameters):
    then every name maps to ``"no data cache"``.

    Runs in a kernel of the run (:meth:`playbook.kernels.WarmKernel.execute_code`)."""
    from playbook.config import load_params
    from playbook.session import run_data

    params = load_params(client, period=period or None, as_of=as_of or None)
    cached = run_data(params, data_cache)
    if cached is None:
        return {name: "no data cache" for name in names}
    context = cached[1]
    outcome = {}
    for name in names:
        try:
            getattr(context, name)
        except Exception as exc:  # noqa: BLE001 - the notebook meets it again, and says it
            outcome[name] = f"{type(exc).__name__}: {exc}"
        else:
            outcome[name] = "ok"
    return outcome


def ahead_code(names: Sequence[str], *, client: str, period: str, as_of: str,
               data_cache: str) -> str:
    """The code a kernel runs for :func:`compute_ahead` (it leaves no name behind)."""
    arguments = (f"{list(names)!r}, client={client!r}, period={period!r}, as_of={as_of!r}, "
                 f"data_cache={data_cache!r}")
    return f"__import__('playbook.ahead', fromlist=['_']).compute_ahead({arguments})"
