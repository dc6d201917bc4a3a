"""The appendix's definitions of the report's segment, lifecycle and risk terms: cohort
retention, lifecycle stages, the value score and tiers, the relationship-risk flags, expected
loss and "pulling it down".

Written once here with this run's parameter values filled in (never restated as numbers),
so the definitions quote exactly the thresholds the report applied. The parameters' own
texts (segment, tier and step names) are escaped (:func:`playbook.textfmt.md_escape`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from playbook import textfmt as tf
from playbook.config import Params


def _pct(share: float) -> str:
    """A share as a whole percentage, or with one decimal when it is not whole ("12.5%")."""
    return f"{share:.0%}" if round(share * 100, 6).is_integer() else f"{share:.1%}"


def _names(items: Iterable[object]) -> str:
    """Escaped names joined in words: "A", "A and B", "A, B and C"."""
    return tf.and_list([tf.md_escape(str(i)) for i in items]) or "none"


def _fewer_than(n: int) -> str:
    """ "fewer than 2", or "none" for fewer than 1."""
    return "none" if n == 1 else "no minimum" if n <= 0 else f"fewer than {n}"


def cohort_retention(p: Params) -> str:
    """Cohort retention (the heatmaps of section 1)."""
    return (
        "**Cohort retention.** An account's start cohort is the calendar quarter of its first "
        "month with MRR above zero in the data. *Logo retention* at month *k* is the share of "
        "the cohort's accounts still paying (MRR above zero) *k* months after their own first "
        "month; *revenue retention* at month *k* is the cohort's MRR then over its MRR in "
        "each account's first month (above 100% when expansion outweighs losses). The first "
        "quarter of the data is left out: it mixes in customers who started before the data "
        "begin. Cohorts are compared at the same age, not on the same date.")


def lifecycle_stages(p: Params) -> str:
    """The lifecycle stage rules with the ``lifecycle`` thresholds."""
    lc = p.lifecycle
    steps = (f"the key steps {_names(lc.onboarding_steps)}" if lc.onboarding_steps
             else "every onboarding step in the data, in order of median days")
    return (
        "**Lifecycle stages.** Each active account's stage on a date, by the first rule that "
        f"holds: *Onboarding*: it has not completed {steps} (only with an onboarding table; "
        "without one no account is placed in Onboarding); *Transformational*: usage depth "
        f"(active users / licensed seats, latest month) at least {_pct(lc.transformational_depth)} "
        f"and at least {lc.transformational_products} products; *Expanding*: MRR grew by at "
        f"least {_pct(lc.expanding_growth)} over the 12 months to the date; *Actively using*: "
        f"usage depth at least {_pct(lc.active_depth)}; *Adopting*: every other onboarded "
        "account (shallow use, or use not measured). An account still onboarding more than "
        f"{lc.stuck_onboarding_days} days after its start is *stuck in onboarding*.")


def _tier_rule(p: Params) -> str:
    v = p.value
    if v.tier_method == "cutoffs":
        names = list(v.tier_cutoffs)
        parts = [f"{tf.md_escape(str(t))} from a score of {v.tier_cutoffs[t]:g}"
                 for t in names[:-1]]
        return (f"by score: {'; '.join(parts)}; {tf.md_escape(str(names[-1]))} for every "
                "other account")
    names = list(v.tier_shares)
    parts = [f"{tf.md_escape(str(names[0]))}: the top {_pct(v.tier_shares[names[0]])} of "
             "accounts by value score"]
    parts += [f"{tf.md_escape(str(t))}: the next {_pct(v.tier_shares[t])}"
              for t in names[1:-1]]
    if len(names) > 1:
        parts.append(f"{tf.md_escape(str(names[-1]))}: the rest "
                     f"({_pct(v.tier_shares[names[-1]])})")
    return "by rank: " + "; ".join(parts)


def value_score_and_tiers(p: Params) -> str:
    """The value score, its weights and the tier rule with the ``value`` parameters."""
    w: Mapping[str, float] = p.value.weights
    weights = ", ".join(f"{tf.md_escape(str(k).replace('_', ' '))} {v:g}" for k, v in w.items())
    return (
        "**Value score and tiers.** The value score (0-100) is the weighted mean of three "
        "components, each 0-100: *contract value*, the account's percentile rank by MRR among "
        "active accounts (the largest scores 100); *growth*, its room to grow, the mean of "
        "seat headroom (1 − active users / licensed seats) and product headroom (1 − products "
        "/ most products held by any account); *beyond revenue*, the CSM's reference-value "
        f"rating (1-5, mapped to 0-100). Weights: {weights}; a component the data lack gives "
        f"its weight to the others in proportion. Value tiers, {_tier_rule(p)}. The tiers are "
        f"called stable when at least {_pct(p.value.stable_share)} of accounts keep their "
        "tier from the end of the previous period to the as-of date.")


def relationship_flags(p: Params) -> str:
    """The relationship-risk flags with their ``thresholds``."""
    t = p.thresholds
    return (
        "**Relationship-risk flags.** An *executive* contact is director, VP or C-level (or "
        "role executive where seniority is blank); a *user* contact is any other user or "
        "champion. *Renewal without executive contact*: a renewal falls due within "
        f"{t.renewal_horizon_days} days and no executive was touched in the last "
        f"{t.exec_contact_days_before_renewal} days. *Single-threaded*: fewer than "
        f"{t.strong_exec_relationships_enterprise} strong executive relationships in the "
        f"enterprise segments ({_names(t.enterprise_segments)}), "
        f"{_fewer_than(t.strong_exec_relationships_smb)} in the others. *Adoption without user "
        f"relationships*: usage depth at least {_pct(t.strong_adoption_depth)} and no strong "
        "user relationship. *Usage drop without user contact*: active users fell by at least "
        f"{_pct(t.usage_drop_share)} over 3 months and no user was touched in the last "
        f"{t.user_contact_days_after_drop} days. *Champion left without executive contact* "
        f"(with trigger events): a champion left in the last {p.triggers.churn_window_days} "
        "days and no executive was touched since. Without usage data the two usage flags are "
        "undecided, not false.")


def expected_loss(p: Params) -> str:
    """Expected loss and "pulling it down" (the open book of renewals)."""
    d = p.drivers
    return (
        "**Expected loss.** For a renewal falling due in the "
        f"{p.thresholds.renewal_horizon_days} days after the as-of date: the account's MRR × "
        "(1 − its renewal probability from the renewal model), in money a month: the MRR at "
        "stake weighted by the chance of losing it. It orders the open book and is the *MRR at "
        "stake* of the recommendations. An account is *at risk* when its renewal probability "
        f"is below {_pct(d.at_risk_probability)}.\n\n"
        "**Pulling it down.** For one account, each driver's pull on its log-odds of renewal "
        "is the driver's coefficient × (the account's value − the average over the decisions "
        "the model was fitted on), measured "
        f"{d.cutoff_days} days before the renewal. The drivers with the most negative pulls "
        "(among the significant ones, when any driver is significant) are listed, largest "
        "first: what lowers this account's renewal probability below an average decision's. "
        "They are associations, not proven causes.")


def terms_markdown(p: Params) -> str:
    """Every term of the segment, lifecycle and risk sections, as markdown paragraphs."""
    return "\n\n".join(part(p) for part in (cohort_retention, lifecycle_stages,
                                            value_score_and_tiers, relationship_flags,
                                            expected_loss))
