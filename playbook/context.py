"""The analysis context: each intermediate several sections share, computed once per run.

A notebook gets it from its session (``nb.ctx``, built by :func:`playbook.session.start`
from the run's parameters and validated tables) and reads what it needs::

    decisions = nb.ctx.renewal_decisions      # computed on first use, then kept
    moves = nb.ctx.mrr_movements

Each shared intermediate has one definition here, so two sections cannot build it two ways:
the renewal decisions and month-to-month accounts (sections 1, 3, 4), the MRR movements
(1, 6), the value scores and tiers (4, 5), the health score now and at past renewals' cut-offs
(1, 4), the relationship flags (4, 5), the renewal model with its modelling table (3
and the appendix), and the account plan's expansion model (5: one intermediate, so that a
kernel can compute it ahead of the notebook, :mod:`playbook.ahead`). Each is a
:func:`functools.cached_property`: computed once, when first read, by the pure function of
:mod:`playbook.analyses` that defines it. The context reads no file and shows nothing.

Dates are days (``pd.Timestamp``); money is in the client's currency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from playbook import metrics, once
from playbook.analyses import account_state, backtest, drivers, expansion, health, revenue, segments
from playbook.config import Params
from playbook.errors import InsufficientDataError
from playbook.quality import QualityNote
from playbook.read_only import mark_read_only, shared_name

T = TypeVar("T")

#: Months before the as-of date whose renewal decisions :attr:`AnalysisContext.
#: health_at_cutoff` scores at least: the surprise non-renewals look back a year (the
#: health backtest looks back ``health.backtest_months``, whichever is longer counts).
SURPRISE_MONTHS = 12


class AnalysisContext:
    """Shared intermediates of one run (one client, one as-of date), each computed once.

    Parameters
    ----------
    params : Params
        The run's merged parameters (``as_of`` set).
    tables : mapping
        The validated canonical tables by name (:attr:`playbook.loader.ClientData.tables`);
        a table the client did not supply is absent.
    problems : sequence of QualityNote, optional
        The data contradictions the loader recorded (severity ``problem``): headline
        figures resting on a contradicted table are withheld (:attr:`headline_metrics`).
    shared : Path, optional
        The run's folder of intermediates computed once for all its notebooks
        (:func:`playbook.once.computed_once`): the value scores, the health scores at past
        renewals' cut-offs, the renewal model's table, fit and out-of-fold quality, and the
        open book, are read from there when another kernel of the run computed them first. None
        (interactive use): computed here.
    """

    def __init__(self, params: Params, tables: Mapping[str, pd.DataFrame],
                 problems: Sequence[QualityNote] = (), *, shared: Path | None = None) -> None:
        self.params = params
        self.tables = tables
        self.problems = tuple(problems)
        self.as_of = pd.Timestamp(params.as_of)
        self.shared = shared
        self._retention: dict[int, dict] = {}

    def _table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    # ------------------------------------------------------------------ renewals
    @cached_property
    def renewal_decisions(self) -> pd.DataFrame:
        """Every renewal decision made on or before the as-of date, with its outcome.

        :func:`playbook.analyses.drivers.renewal_decisions` with the ``contracts``
        parameters; one row per decision (``account_id``, ``decision_date``, ``renewed``
        1/0, ...), indexed as that function numbers them (a later decision a renewals table
        lists is left out, its index with it)."""
        made = drivers.renewal_decisions(self.tables["accounts"], self._table("renewals"),
                                         self._table("churn_events"), as_of=self.as_of,
                                         **self.params.renewal_options())
        return made[made["decision_date"] <= self.as_of]

    @cached_property
    def month_to_month_accounts(self) -> pd.Series:
        """IDs of the accounts on a one-month contract, which make no renewal decisions
        (:func:`playbook.analyses.drivers.month_to_month_accounts`)."""
        return drivers.month_to_month_accounts(self.tables["accounts"],
                                               term_months=self.params.contracts.term_months)

    # ------------------------------------------------------------------ revenue
    @cached_property
    def counted_mrr(self) -> pd.DataFrame:
        """The ``mrr`` table as the report counts it: churn recognised as
        ``churn.recognise_at`` says (:func:`playbook.analyses.revenue.recognise_churn`: under
        ``cancellation``, an account's MRR stops in the month of its churn event even while
        it pays out its term). Every MRR figure (bridge, headline rates, trend, cohorts)
        reads this one table. Needs ``mrr`` (KeyError without it).

        The rows the policy removes are found once for the run's notebooks (their labels,
        :func:`playbook.once.computed_once`); each kernel drops them from its own copy of
        the table, which is the table itself when nothing is removed."""
        mrr = self.tables["mrr"]
        if not mrr.index.is_unique:  # labels would not name the rows: compute it here
            return self._recognised(mrr)
        dropped = once.computed_once(self.shared, "churn_recognised_drop",
                                     lambda: mrr.index.difference(self._recognised(mrr).index))
        # read-only like the table it comes from: look-ups by date keep their sums for it
        # (shared by the run's kernels as the table's are: every kernel drops the same rows)
        if dropped.empty:
            return mrr
        shared = shared_name(mrr)
        return mark_read_only(mrr.drop(index=dropped), shared_as=None if shared is None
                              else (shared[0], f"{shared[1]} counted"))

    def _recognised(self, mrr: pd.DataFrame) -> pd.DataFrame:
        """:func:`playbook.analyses.revenue.recognise_churn` of ``mrr`` with this run's
        churn events and ``churn.recognise_at``."""
        return revenue.recognise_churn(mrr, self._table("churn_events"),
                                       recognise_at=self.params.churn.recognise_at)

    @cached_property
    def mrr_movements(self) -> pd.DataFrame:
        """Each account's MRR movement per month (new, expansion, reactivation, contraction,
        churn) of :attr:`counted_mrr`, with reactivation within
        ``churn.reactivation_window_months`` (:func:`playbook.analyses.revenue.
        mrr_movements`). Needs the ``mrr`` table (KeyError without it)."""
        c = self.params.churn
        return revenue.mrr_movements(self.counted_mrr,
                                     reactivation_window_months=c.reactivation_window_months,
                                     count_same_month_churn=c.count_same_month_churn,
                                     churn_events=self._table("churn_events"))

    def retention_over(self, months: int) -> dict:
        """The MRR bridge and retention rates of the last ``months`` months up to the as-of
        date (:func:`playbook.analyses.revenue.retention_summary` on
        :attr:`mrr_movements`): the revenue section's trailing window
        (``period.trailing_months``) and the scenarios' trailing year (12) read the same
        computation. Kept per window length."""
        if months not in self._retention:
            start = self.as_of - pd.DateOffset(months=months - 1)
            self._retention[months] = revenue.retention_summary(self.mrr_movements, start,
                                                                self.as_of)
        return self._retention[months]

    # ------------------------------------------------------------------ headline metrics
    @cached_property
    def retention_window(self) -> metrics.RetentionWindow:
        """The trailing window of the headline rates: ``period.trailing_months`` up to the
        as-of month, shortened to the MRR history (:func:`playbook.metrics.retention_window`;
        InsufficientDataError without a month of history, KeyError without ``mrr``)."""
        return metrics.retention_window(self.tables["mrr"], self.as_of,
                                        self.params.period.trailing_months)

    @cached_property
    def retention_cohort(self) -> pd.DataFrame:
        """The base of the trailing window, one row per account paying in its base month,
        followed to the as-of month (:func:`playbook.metrics.retention_cohort` of
        :attr:`counted_mrr`): the one
        population of every logo-churn figure (headline, churn by variable, by tier)."""
        return metrics.retention_cohort(self.counted_mrr, self.retention_window)

    @cached_property
    def headline_metrics(self) -> dict[str, Any]:
        """The headline rates (:func:`playbook.metrics.headline_metrics`) with ``withheld``:
        the figures that break an invariant or rest on contradicted data, each with its
        reason and fix (:func:`playbook.metrics.withheld_figures`). Computed once for the
        run's notebooks (revenue, segments, capacity and the account plan read them)."""
        def compute() -> dict[str, Any]:
            out = metrics.headline_metrics(self.counted_mrr, self.retention_window)
            out["withheld"] = metrics.withheld_figures(out, self.problems)
            return out
        return once.computed_once(self.shared, "headline_metrics", compute)

    # ------------------------------------------------------------------ customers
    @cached_property
    def accounts(self) -> pd.DataFrame:
        """The accounts table with status and churn date from billing
        (:func:`playbook.analyses.account_state.accounts_as_billed` of :attr:`counted_mrr`):
        an account is a customer at the as-of date when it pays in the as-of month, so the
        value, lifecycle, health and coverage sections count the same accounts and MRR as
        the headline figures. Without ``mrr``, the accounts table as loaded."""
        acc = self.tables["accounts"]
        if self._table("mrr") is None:
            return acc
        return once.computed_once(self.shared, "accounts_as_billed", lambda: (
            account_state.accounts_as_billed(acc, self.counted_mrr, self.as_of)))

    # ------------------------------------------------------------------ value
    def value_scores_on(self, day: pd.Timestamp) -> pd.DataFrame:
        """Each account's value score as of ``day`` (:func:`playbook.analyses.segments.
        value_scores` with ``value.weights``; ``mrr`` is its MRR on that day). Not kept:
        :attr:`value_scores` is the as-of date's."""
        return segments.value_scores(self.accounts, as_of=day,
                                     weights=self.params.value.weights,
                                     usage=self._table("usage"),
                                     csm_inputs=self._table("csm_inputs"),
                                     mrr=self._table("mrr"))

    def value_tiers_of(self, scores: pd.DataFrame) -> pd.Series:
        """The value tier of each account of ``scores`` (:func:`playbook.analyses.segments.
        value_tiers`: by ``value.tier_shares`` of the accounts, or by ``value.tier_cutoffs``
        on the score when ``value.tier_method`` is ``cutoffs``)."""
        v = self.params.value
        return segments.value_tiers(scores, shares=v.tier_shares,
                                    cutoffs=v.tier_cutoffs if v.tier_method == "cutoffs"
                                    else None)

    @cached_property
    def value_scores(self) -> pd.DataFrame:
        """Value scores as of the as-of date (:meth:`value_scores_on`), computed once for
        the run's notebooks (sections 4, 5, 6 and capacity read them)."""
        return once.computed_once(self.shared, "value_scores",
                                  lambda: self.value_scores_on(self.as_of))

    @cached_property
    def value_tiers(self) -> pd.Series:
        """Value tiers as of the as-of date (:meth:`value_tiers_of` of :attr:`value_scores`)."""
        return self.value_tiers_of(self.value_scores)

    # ------------------------------------------------------------------ health
    def health_options(self) -> dict[str, Any]:
        """The keyword arguments every health scoring of the run takes: ``health.weights``,
        ``health.bands``, ``health.measure_options``, and the windows of the optional
        measures (``outcomes.lookback_days``, ``triggers.churn_window_days``)."""
        h = self.params.health
        return {"weights": h.weights, "bands": h.bands, **h.measure_options.model_dump(),
                "outcome_lookback_days": self.params.outcomes.lookback_days,
                "trigger_window_days": self.params.triggers.churn_window_days}

    @cached_property
    def health_scores(self) -> pd.DataFrame:
        """Health score, band and measure scores of every account active on the as-of date
        (:func:`playbook.analyses.health.health_scores` with ``health.weights``,
        ``health.bands`` and ``health.measure_options``), computed once for the run's
        notebooks (revenue, segments, account plan and outcomes read it)."""
        return once.computed_once(self.shared, "health_scores", lambda: (
            health.health_scores(self.accounts, as_of=self.as_of,
                                 usage=self._table("usage"),
                                 surveys=self._table("surveys"),
                                 tickets=self._table("tickets"),
                                 csm_inputs=self._table("csm_inputs"),
                                 outcomes=self._table("outcomes"),
                                 triggers=self._table("triggers"),
                                 **self.health_options())))

    @cached_property
    def health_measures(self) -> pd.DataFrame:
        """The measures the health score actually uses, with their effective weights
        (:func:`playbook.analyses.health.measures_available` of :attr:`health_scores`)."""
        return health.measures_available(self.health_scores, self.params.health.weights)

    @property
    def has_health_score(self) -> bool:
        """True when the score rests on at least ``health.MIN_MEASURES`` measures: one
        measure alone (e.g. ticket load) is not a health score, so nothing that reads the
        score (surprises, backtest, bands) is shown without it."""
        return len(self.health_measures) >= health.MIN_MEASURES

    @cached_property
    def health_window_start(self) -> pd.Timestamp:
        """The earliest decision date :attr:`health_at_cutoff` covers: the longer of
        :data:`SURPRISE_MONTHS` and ``health.backtest_months`` before the as-of date."""
        months = max(SURPRISE_MONTHS, self.params.health.backtest_months)
        return self.as_of - pd.DateOffset(months=months)

    @cached_property
    def health_at_cutoff(self) -> pd.DataFrame:
        """Health score and band of each renewal decision's account at the decision's
        cut-off (``drivers.cutoff_days`` before it), for the decisions of
        :attr:`renewal_decisions` dated from :attr:`health_window_start` to the as-of date
        (:func:`playbook.analyses.backtest.health_at_cutoff`, same weights, bands and
        measure options as :attr:`health_scores`). Indexed like the decisions; one without
        a score is left out. Use :meth:`health_before` for a subset of decisions."""
        decisions = self.renewal_decisions
        recent = decisions[decisions["decision_date"] >= self.health_window_start]
        return once.computed_once(self.shared, "health_at_cutoff", lambda: (
            backtest.health_at_cutoff(recent, self.tables,
                                      cutoff_days=self.params.drivers.cutoff_days,
                                      **self.health_options())))

    def health_before(self, decisions: pd.DataFrame) -> pd.DataFrame:
        """The rows of :attr:`health_at_cutoff` of ``decisions`` (rows of
        :attr:`renewal_decisions` dated from :attr:`health_window_start`), in index order.

        Raises
        ------
        ValueError
            When a decision predates :attr:`health_window_start` (it was not scored).
        """
        early = decisions["decision_date"] < self.health_window_start
        if early.any():
            raise ValueError(f"{int(early.sum())} decision(s) predate "
                             f"{self.health_window_start:%Y-%m-%d}, the first date scored "
                             "at its cut-off")
        scored = self.health_at_cutoff
        return scored[scored.index.isin(decisions.index)]

    # ------------------------------------------------------------------ relationships
    def relationship_flags_on(self, day: pd.Timestamp) -> pd.DataFrame:
        """The relationship metrics and risk flags of the accounts active on ``day``
        (:func:`playbook.analyses.relationships.relationship_flags` of :attr:`accounts`
        with the ``thresholds`` and ``triggers.churn_window_days``). Needs ``contacts`` and
        ``touches`` (KeyError without them). Not kept: :attr:`relationship_flags` is the
        as-of date's."""
        t = self.params.thresholds
        return health.relationship_flags(
            self.accounts, self.tables["contacts"], self.tables["touches"],
            self._table("usage"), as_of=day, exec_days=t.exec_contact_days_before_renewal,
            user_days=t.user_contact_days_after_drop,
            renewal_horizon_days=t.renewal_horizon_days,
            strong_exec_enterprise=t.strong_exec_relationships_enterprise,
            strong_exec_smb=t.strong_exec_relationships_smb,
            enterprise_segments=tuple(t.enterprise_segments),
            usage_drop_share=t.usage_drop_share,
            strong_adoption_depth=t.strong_adoption_depth, triggers=self._table("triggers"),
            champion_days=self.params.triggers.churn_window_days)

    @cached_property
    def relationship_flags(self) -> pd.DataFrame:
        """The relationship flags on the as-of date (:meth:`relationship_flags_on`),
        computed once for the run's notebooks (sections 4 and 5 read them)."""
        return once.computed_once(self.shared, "relationship_flags",
                                  lambda: self.relationship_flags_on(self.as_of))

    # ------------------------------------------------------------------ renewal model
    @cached_property
    def _modelling(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        return once.computed_once(self.shared, "renewal_modelling", lambda: (
            drivers.modelling_table(self.renewal_decisions, self.tables,
                                    cutoff_days=self.params.drivers.cutoff_days,
                                    **self.params.feature_options())))

    @property
    def modelling_rows(self) -> pd.DataFrame:
        """Every decision of :attr:`renewal_decisions` with its features measured at the
        cut-off (:func:`playbook.analyses.drivers.modelling_table`), short history
        included."""
        return self._modelling[0]

    @property
    def features_built(self) -> dict[str, Any]:
        """What :func:`playbook.analyses.drivers.modelling_table` built: ``built``
        (feature names), ``units``, ``skipped`` (feature -> why), ``notes``, ..."""
        return self._modelling[1]

    @cached_property
    def _history_split(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        options = self.params.feature_options()
        lookback = drivers.history_days(contact_days_cap=options["contact_days_cap"],
                                        nps_lookback_days=options["nps_lookback_days"])
        return drivers.drop_short_history(self.modelling_rows, drivers.data_start(self.tables),
                                          lookback)

    @property
    def modelling_table(self) -> pd.DataFrame:
        """The rows of :attr:`modelling_rows` whose features rest on history the data holds
        (:func:`playbook.analyses.drivers.drop_short_history`): what the model is fitted
        on."""
        return self._history_split[0]

    @property
    def modelling_history(self) -> dict[str, Any]:
        """How many decisions were left out for short history, and from which data start
        (the second value of :func:`playbook.analyses.drivers.drop_short_history`)."""
        return self._history_split[1]

    @cached_property
    def derived_decisions(self) -> bool:
        """True when the decisions are derived from churn events and anniversaries (no
        renewals table)."""
        return bool((self.renewal_decisions["source"] == "derived").any())

    @cached_property
    def model_features(self) -> list[str]:
        """The features the renewal model is asked to use: ``drivers.features`` that were
        built, else the defaults (:func:`playbook.analyses.drivers.chosen_features`)."""
        return drivers.chosen_features(self.params.drivers.features, self.features_built,
                                       derived=self.derived_decisions)

    @cached_property
    def features_left_out(self) -> dict[str, str]:
        """Built features kept out of the model on purpose, with why (tenure when the
        decisions are derived: :data:`playbook.analyses.drivers.
        TENURE_WITH_DERIVED_DECISIONS`)."""
        if (self.derived_decisions and "tenure_years" in self.features_built["built"]
                and "tenure_years" not in self.model_features):
            return {"tenure_years": drivers.TENURE_WITH_DERIVED_DECISIONS}
        return {}

    def _tried_once(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` computed once for the run (:func:`playbook.once.computed_once`
        under ``name``) and kept in this context; an :class:`InsufficientDataError` it
        raises is kept too and raised again at each read (the fit is tried once)."""
        tried = self.__dict__.setdefault("_tried", {})
        if name not in tried:
            try:
                tried[name] = once.computed_once(self.shared, name, compute)
            except InsufficientDataError as exc:  # so a second reader is told the same
                tried[name] = exc
        if isinstance(tried[name], InsufficientDataError):
            raise tried[name]
        return tried[name]

    @property
    def renewal_model(self) -> drivers.DriverModel:
        """The logistic regression of renewal on :attr:`model_features` over
        :attr:`modelling_table` (:func:`playbook.analyses.drivers.fit_renewal_model`).

        Raises
        ------
        InsufficientDataError
            When the data cannot support the model (one outcome only, no usable feature):
            the same error each time it is read (the fit is tried once)."""
        return self._tried_once("renewal_model", lambda: drivers.fit_renewal_model(
            self.modelling_table, self.model_features, units=self.features_built["units"],
            recorded_after=self.features_built.get("recorded_after_cutoff")))

    @property
    def renewal_quality(self) -> dict[str, Any]:
        """The renewal model's out-of-sample quality: ``drivers.cv_folds``-fold
        cross-validated AUC and Brier score with the out-of-fold predictions
        (:func:`playbook.analyses.drivers.cross_validated_quality` over
        :attr:`modelling_table` with the model's features, ``drivers.random_seed``).

        Raises
        ------
        InsufficientDataError
            Without a renewal model (:attr:`renewal_model`), or with fewer decisions of the
            rarer outcome than folds."""
        d = self.params.drivers
        return self._tried_once("renewal_quality", lambda: drivers.cross_validated_quality(
            self.modelling_table, self.renewal_model.features, folds=d.cv_folds,
            seed=d.random_seed, units=self.features_built["units"]))

    # ------------------------------------------------------------------ account plan
    @property
    def expansion_model(self) -> expansion.ExpansionModel:
        """The logistic regression of expansion within ``expansion.horizon_months`` on the
        features at each cut-off (:func:`playbook.analyses.expansion.expansion_table` over
        :attr:`counted_mrr`, then :func:`playbook.analyses.expansion.fit_expansion_model`
        with ``expansion.features``, ``drivers.cv_folds`` and ``drivers.random_seed``).
        Needs ``mrr`` (KeyError without it). Raises :class:`InsufficientDataError` when the
        history cannot support it (too few expansions, no usable feature), each time it is
        read (the fit is tried once)."""
        e, d = self.params.expansion, self.params.drivers

        def fit() -> expansion.ExpansionModel:
            table, report = expansion.expansion_table(
                self.counted_mrr, self.tables, as_of=self.as_of,
                horizon_months=e.horizon_months, cutoff_every_months=e.cutoff_every_months,
                min_rise_share=e.min_rise_share, seats_full_share=e.seats_full_share,
                feature_options=self.params.feature_options())
            return expansion.fit_expansion_model(
                table, e.features, folds=d.cv_folds, seed=d.random_seed,
                min_expansions=e.min_expansions, units=report["units"],
                recorded_after=report.get("recorded_after_cutoff"))

        return self._tried_once("expansion_model", fit)

    @cached_property
    def open_book_inputs(self) -> tuple[pd.DataFrame, pd.Series]:
        """The renewals due within ``thresholds.renewal_horizon_days`` after the as-of
        date with their features measured ``drivers.cutoff_days`` before each, and MRR at
        the as-of date per account (:func:`playbook.analyses.drivers.open_book_inputs`):
        what the open book scores, computed once for the run (the renewal drivers' book
        and the account plan's both score it)."""
        p = self.params
        return once.computed_once(self.shared, "open_book_inputs", lambda: (
            drivers.open_book_inputs(
                self.tables, self.as_of, horizon_days=p.thresholds.renewal_horizon_days,
                cutoff_days=p.drivers.cutoff_days, renewal_options=p.renewal_options(),
                feature_options=p.feature_options())))

    def open_book(self, reason_columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The open book: :attr:`open_book_inputs` scored by :attr:`renewal_model`, at risk
        below ``drivers.at_risk_probability``, each renewal's reasons taken from
        ``reason_columns`` (every design column when None)
        (:func:`playbook.analyses.drivers.open_book`); equal to
        :func:`playbook.analyses.drivers.renewals_due_book` with the same settings. Raises
        like :attr:`renewal_model`."""
        model = self.renewal_model
        return drivers.open_book(model, *self.open_book_inputs, reason_columns=reason_columns,
                                 at_risk_below=self.params.drivers.at_risk_probability,
                                 as_of=self.as_of)

    @cached_property
    def renewals_due_book(self) -> pd.DataFrame:
        """:meth:`open_book` with reasons from every design column, computed once for the
        run (the account plan's book). Raises like :attr:`renewal_model`."""
        return once.computed_once(self.shared, "renewals_due_book", self.open_book)
