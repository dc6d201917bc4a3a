"""Phrases the findings of the value, lifecycle, health and CLV section share."""

from __future__ import annotations

from typing import Any

from playbook import textfmt as tf


def day_text(ts: Any) -> str:
    """A date as written in titles and notes: ``1 Oct 2026``."""
    return tf.date(ts)


def more_note(shown: int, total: int, what: str, mrr_rest: float | None,
              currency: str) -> str:
    """"Showing 8 of 20 accounts; 12 more not shown (USD 1.2k of MRR)." ("" when all shown)."""
    rest = total - shown
    if rest <= 0:
        return ""
    text = f"Showing {shown} of {total:,} {what}; {rest:,} more not shown"
    if mrr_rest is not None:
        text += f" ({tf.money(mrr_rest, currency)} of MRR)"
    return text + "."
