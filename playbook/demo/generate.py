"""The demo client's tables from one seed, and writing them (see
:mod:`playbook.demo.folder` for where the generator may write).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from playbook.demo.export import (
    accounts_table,
    contacts_table,
    mrr_table,
    onboarding_table,
    outcomes_table,
    surveys_table,
    tickets_table,
    touches_table,
    triggers_table,
    usage_table,
)
from playbook.demo.folder import MARKER, check_writable, settings_of, up_to_date, write_folder
from playbook.demo.grid import days_to_iso, make_calendar
from playbook.demo.latent import latent_nps, latent_touches, latent_usage, onboarding_days
from playbook.demo.people import account_relationships, draw_accounts, draw_contacts
from playbook.demo.renewals import Latent, churn_reasons, simulate_contracts
from playbook.demo.support import draw_csat, draw_csm_inputs, draw_tickets
from playbook.demo.trigger_events import (
    draw_outcomes,
    draw_triggers,
    funded_recently,
    trigger_keys,
)


def generate_demo(out_dir: Path, *, seed: int = 20260930, n_accounts: int = 1500,
                  end_month: str = "2026-09", months: int = 36,
                  force: bool = False) -> dict[str, Path]:
    """Write the demo client's raw export files (CSV, UTF-8) into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if missing): ``data/demo``, or a folder that is empty
        or does not exist. In ``data/demo``, files are replaced only when the marker shows
        them unedited (see :func:`~playbook.demo.folder.check_writable`).
    seed
        Seed of ``numpy.random.default_rng``; the same arguments give byte-identical files.
    n_accounts
        Number of accounts ever seen (about 40% already customers before the window).
    end_month
        Last exported month, ``YYYY-MM``.
    months
        Length of the exported window in months (the MRR history has this many months).
    force
        Regenerate ``data/demo`` even when files were edited or added (added files stay).
        Never lets it write into another folder that has files.

    Returns
    -------
    dict
        Canonical table name -> path of the written file (accounts, mrr, churn_events,
        renewals, usage, tickets, surveys, contacts, touches, csm_inputs, onboarding,
        outcomes, triggers).
        Money is in USD, whole dollars (MRR a month, ARR a year); dates are ISO
        ``YYYY-MM-DD``; months are written as the 1st of the month.

    Raises
    ------
    GeneratedFolderError
        The folder is not one the generator may write into (nothing is written).
    StorageError
        The disk is full or the folder cannot be written (the previous files stay).
    """
    settings = settings_of(seed, n_accounts, end_month, months)
    out_dir = Path(out_dir)
    state = check_writable(out_dir, force=force)
    tables = demo_tables(seed, n_accounts, end_month, months)
    return write_folder(out_dir, tables, settings, state, force=force)


def demo_tables(seed: int, n_accounts: int, end_month: str, months: int
                ) -> dict[str, pd.DataFrame]:
    """The demo client's tables, canonical name -> frame with the export's headers."""
    rng = np.random.default_rng(seed)
    cal = make_calendar(end_month, months)
    acc = draw_accounts(rng, n_accounts, cal)
    contacts = draw_contacts(rng, acc)
    rel = account_relationships(contacts, n_accounts)
    users, level = latent_usage(rng, acc, cal)
    touches = latent_touches(rng, acc, contacts, rel, cal)
    nps = latent_nps(rng, acc, level, cal)
    onb_days = onboarding_days(rng, acc)
    ex = touches[touches["exec"]]
    exec_keys = np.sort(ex["a"].to_numpy().astype(np.int64) * 10**6
                        + ex["day"].to_numpy() - cal.month_start_day(0))
    rng_events = np.random.default_rng([seed, 20])  # own stream: earlier draws unchanged
    triggers = draw_triggers(rng_events, acc, rel["has_champion"], cal)
    outcomes = draw_outcomes(rng_events, acc, cal)
    lat = Latent(users=users, exec_keys=exec_keys, nps=nps, go_live=onb_days[:, 5],
                 sponsor=rel["sponsor"], champion_left=trigger_keys(triggers, "champion_left", cal),
                 funded=funded_recently(triggers, n_accounts, cal), outcomes=outcomes)
    mrr, dec, next_renewal = simulate_contracts(rng, acc, lat, cal)
    churn = dec[dec["outcome"] == "churned"].reset_index(drop=True)
    code, text = churn_reasons(rng, churn, acc)
    tickets = draw_tickets(rng, acc, mrr, cal)
    csat = draw_csat(rng, tickets, cal)
    csm = draw_csm_inputs(rng, acc, rel, mrr, cal)

    ids = np.array([f"NWA-{i:06d}" for i in range(1, n_accounts + 1)], dtype=object)
    tables = {
        "accounts": accounts_table(acc, ids, mrr, dec, next_renewal),
        "mrr": mrr_table(ids, mrr, cal),
        "churn_events": pd.DataFrame({
            "Account ID": ids[churn["a"]], "Cancellation Date": days_to_iso(churn["renewal_day"]),
            "Reason Code": code, "Reason Details": text,
            "Lost MRR (USD)": np.round(churn["arr_before"].to_numpy() / 12).astype(np.int64)}),
        "renewals": pd.DataFrame({
            "Account ID": ids[dec["a"]], "Renewal Date": days_to_iso(dec["renewal_day"]),
            "Outcome": dec["outcome"].map({"renewed": "Renewed", "downgraded": "Downgraded",
                                           "churned": "Cancelled"}).to_numpy(),
            "ARR Before (USD)": np.round(dec["arr_before"]).astype(np.int64),
            "ARR After (USD)": np.round(dec["arr_after"]).astype(np.int64)}),
        "usage": usage_table(acc, ids, users, mrr, rng, cal),
        "tickets": tickets_table(tickets, ids),
        "surveys": surveys_table(nps, csat, ids, mrr, cal),
        "contacts": contacts_table(contacts, ids),
        "touches": touches_table(touches, ids, mrr, cal),
        "csm_inputs": pd.DataFrame({
            "Account ID": ids[csm["a"]], "Assessed On": days_to_iso(csm["day"]),
            "Executive Relationship (1-5)": csm["exec"], "Champion Quality (1-5)": csm["champ"],
            "Reference Value (1-5)": csm["ref"]}),
        "onboarding": onboarding_table(onb_days, ids, cal),
        "outcomes": outcomes_table(outcomes, ids, mrr, cal),
        "triggers": triggers_table(triggers, ids, mrr, cal),
    }
    return tables


def write_demo(out_dir: Path, *, seed: int = 20260930, n_accounts: int = 1500,
               end_month: str = "2026-09", months: int = 36,
               force: bool = False) -> dict[str, Path] | None:
    """:func:`generate_demo`, unless ``out_dir`` is
    :func:`~playbook.demo.folder.up_to_date` (then its marker is touched, so that ``make``
    sees it newer than the generator, and None is returned)."""
    settings = settings_of(seed, n_accounts, end_month, months)
    if not force and up_to_date(out_dir, settings):
        with contextlib.suppress(OSError):
            os.utime(Path(out_dir) / MARKER)
        return None
    return generate_demo(out_dir, seed=seed, n_accounts=n_accounts, end_month=end_month,
                         months=months, force=force)
