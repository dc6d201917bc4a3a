"""The demo's planted effects, the rules that measure the features they act
through, and the fictional company's vocabulary: the single source of truth.

Every planted effect is declared once, in :data:`PLANTED_EFFECTS` (documented in
``docs/demo-data.md``); :func:`coef` reads one. :data:`FEATURE_RULES` says how each
renewal feature is measured from the exported files (the generator and its tests share it).
"""

from __future__ import annotations

SEGMENTS = ("SMB", "Mid-market", "Enterprise")

#: Churn reason codes as the client's CRM stores them, and their mix by segment.
REASONS = (
    "Price", "Missing features", "Switched to competitor", "Poor onboarding",
    "Budget cuts", "Champion left", "Acquired / merged", "Support quality",
)
REASON_MIX = {
    "SMB": (0.30, 0.10, 0.10, 0.12, 0.15, 0.08, 0.05, 0.10),
    "Mid-market": (0.15, 0.20, 0.18, 0.08, 0.10, 0.15, 0.05, 0.09),
    "Enterprise": (0.08, 0.28, 0.25, 0.03, 0.06, 0.15, 0.10, 0.05),
}

PLANTED_EFFECTS: dict[str, dict[str, object]] = {
    "renewal_intercept": {
        "value": 2.45,
        "description": "Intercept of the renewal model: log-odds that a renewal decision "
        "keeps the logo (renewed or downgraded) for an account with all features at 0.",
    },
    "exec_sponsor": {
        "value": 1.0,
        "description": "Log odds-ratio of renewal when the account has an executive sponsor: "
        "a contact with role executive, seniority director or above and a strong "
        "relationship (odds ratio ~2.7).",
    },
    "usage_decline": {
        "value": -1.2,
        "description": "Log odds-ratio of renewal when active users in the last full month "
        "before the cut-off are below 75% of active users three months earlier "
        "(a fall of more than 25%).",
    },
    "days_since_exec_contact_per_30d": {
        "value": -0.25,
        "description": "Log odds-ratio per 30 days since the last touch with an executive-role "
        "contact on or before the cut-off, capped at 180 days (none in 180 days = 180).",
    },
    "nps_detractor": {
        "value": -0.6,
        "description": "Log odds-ratio when the latest NPS answer in the 180 days up to the "
        "cut-off is 0-6 (accounts without an answer count as not detractors).",
    },
    "products_per_product": {
        "value": 0.3,
        "description": "Log odds-ratio per product owned (1-4, from the accounts table).",
    },
    "mid_market": {
        "value": -0.7,
        "description": "Log odds-ratio for Mid-market accounts (\"the middle of the base "
        "leaks most\"): Mid-market loses the most revenue to churn.",
    },
    "onboarding_incomplete": {
        "value": -0.5,
        "description": "Log odds-ratio when the onboarding step 'Go-live' has no completion "
        "date on or before the cut-off.",
    },
    "reason_blank_share": {
        "value": 0.12,
        "description": "Share of churn events with a blank reason code; 45% of them carry a "
        "free text that names the true reason.",
    },
    "reason_other_share": {
        "value": 0.06,
        "description": "Share of churn events coded 'Other' (half with a vague text, half with "
        "a text naming the true reason).",
    },
    "reason_unknown_share": {
        "value": 0.04,
        "description": "Share of churn events coded 'Unknown'. Blank + Other + Unknown = 22% "
        "uninformative (defaults flag above 20%).",
    },
    "reason_mix_by_segment": {
        "value": REASON_MIX,
        "description": "True churn reasons are drawn from a mix per segment (REASON_MIX): Price "
        "leads in SMB (30%), Missing features / Switched to competitor in Enterprise (28% / "
        "25%). 'Poor onboarding' is 4x as likely when onboarding was incomplete at the cut-off, "
        "'Missing features' 1.5x after a usage decline, 'Champion left' 4x after a "
        "champion_left trigger in the 180 days before the renewal.",
    },
    "reactivation_probability": {
        "value": 0.12,
        "description": "Probability that a churned account comes back 2-11 months later "
        "(new annual contract from the return date; 'Customer Since' is unchanged).",
    },
    "downgrade_probability": {
        "value": 0.10,
        "description": "Probability that a kept renewal is a downgrade (ARR x 0.55-0.90).",
    },
    "downgrade_if_usage_declined": {
        "value": 0.20,
        "description": "Added to the downgrade probability when usage declined before the "
        "cut-off (so 30%).",
    },
    "champion_left_churn": {
        "value": 0.9163,  # log(2.5)
        "description": "Log odds-ratio of churn (subtracted from the renewal log-odds) when a "
        "champion_left trigger is dated in the 180 days before the renewal date (odds x2.5); "
        "an older one has no effect (the effect fades to none after 180 days).",
    },
    "outcomes_met_renewal": {
        "value": 0.6931,  # log(2)
        "description": "Log odds-ratio of renewal when every success outcome of the account "
        "is met at the cut-off: the latest measurement of each in the 180 days up to the "
        "cut-off has realised value (value - baseline) / (target - baseline) of at least 1 "
        "(odds x2). Accounts without a measured outcome count as not met.",
    },
    "funding_expansion": {
        "value": 0.6931,  # log(2)
        "description": "Log of the factor on the monthly mid-term upsell probability in each "
        "of the 6 months after the month of a funding trigger (x2: expansion odds within "
        "the expansion model's 6-month horizon about x2).",
    },
    "seats_full_expansion": {
        "value": 0.6931,  # log(2)
        "description": "Log of the factor on the monthly mid-term upsell probability when "
        "last month's seat utilisation (active users / licensed seats) is at least 0.9 "
        "(x2: the expansion model's seats_nearly_full odds ratio about 2).",
    },
}

#: Trigger event codes (canonical, data contract) with the demo CRM's label and the chance a
#: month that an account records one (champion_left only at accounts with a champion).
TRIGGER_TYPES: dict[str, tuple[str, float]] = {
    "champion_left": ("Champion Left", 0.015),
    "exec_change": ("Executive Change", 0.006),
    "reorg": ("Reorganisation", 0.005),
    "merger_acquisition": ("M&A", 0.003),
    "budget_cut": ("Budget Cut", 0.005),
    "layoffs": ("Layoffs", 0.004),
    "funding": ("Funding Round", 0.010),
    "new_project": ("New Project", 0.008),
    "other": ("Other", 0.003),
}

#: Share of accounts that agree success outcomes with the vendor, by segment.
OUTCOME_SHARE = {"SMB": 0.30, "Mid-market": 0.45, "Enterprise": 0.65}

#: How each renewal feature is measured; shared by the generator and its tests.
FEATURE_RULES: dict[str, float | int] = {
    "cutoff_days": 90,  # features are measured this many days before the renewal date
    "lookback_days": 180,  # window for the last exec touch and the latest NPS answer
    "usage_drop_share": 0.25,  # a fall of more than this share of active users is a decline
    "usage_drop_months": 3,  # ...between month(cut-off)-1-3 and month(cut-off)-1
    "detractor_max": 6,  # NPS at or below this is a detractor
    "trigger_window_days": 180,  # champion_left counts in this many days before a renewal
    "funding_months": 6,  # funding doubles upsell in this many months after its month
    "outcome_lookback_days": 180,  # latest outcome measurement in this window to the cut-off
    "seats_full_share": 0.9,  # seat utilisation at or above this doubles upsell
}



def coef(name: str) -> float:
    """The value of planted effect ``name`` (a log odds-ratio, a share or a probability)."""
    return float(PLANTED_EFFECTS[name]["value"])  # type: ignore[arg-type]


INDUSTRIES = (
    ("Software & Internet", 0.20),
    ("Financial Services", 0.14),
    ("Healthcare", 0.12),
    ("Retail & eCommerce", 0.13),
    ("Manufacturing", 0.12),
    ("Professional Services", 0.12),
    ("Education", 0.08),
    ("Media & Entertainment", 0.09),
)
REGIONS = (("North America", 0.50), ("EMEA", 0.30), ("APAC", 0.15), ("LATAM", 0.05))
OWNERS = {
    "SMB": ("Jordan Blake", "Aisha Bello", "Tom Novak", "Lena Fischer"),
    "Mid-market": ("Carlos Mendes", "Hannah Okafor", "Ravi Patel", "Sofia Rossi", "Ben Carter"),
    "Enterprise": ("Maria Gonzalez", "David Chen", "Priya Raman"),
}
ONBOARDING_STEPS = (
    "Kickoff", "Data import", "Integration", "Admin training", "First value", "Go-live",
)
REASON_TEXTS = {
    "Price": ("Too expensive for the value we get", "Price increase at renewal was too high",
              "Found a cheaper option"),
    "Missing features": ("Missing SSO and audit log features", "Product lacks the reporting "
                         "we need", "Needed an integration you don't offer"),
    "Switched to competitor": ("Moving to Contoso Insights", "Chose Fabrikam after an RFP",
                               "Consolidating on a competitor's platform"),
    "Poor onboarding": ("Never got the team onboarded", "Implementation took too long, no "
                        "go-live", "Setup was too hard for our admins"),
    "Budget cuts": ("Budget freeze for next year", "Company-wide cost cutting",
                    "Lost funding for the project"),
    "Champion left": ("Our main user left the company", "Sponsor moved to a new role, "
                      "nobody owns the tool now", "New manager doesn't see the value"),
    "Acquired / merged": ("We were acquired and the parent uses another tool",
                          "Merger: standardising on the acquirer's stack"),
    "Support quality": ("Support response times were too slow", "Tickets took weeks to "
                        "resolve", "Unhappy with support"),
}
OTHER_TEXTS = ("Decided not to renew", "No longer needed", "Customer did not say",
               "Internal decision")
