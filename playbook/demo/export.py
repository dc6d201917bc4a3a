"""The export: simulated processes turned into the client's tables, with the
human, non-canonical headers of its CRM and CS platform (mapped by ``params/demo.yaml``).
Only months in which an account paid are exported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.demo.effects import (
    INDUSTRIES,
    ONBOARDING_STEPS,
    REGIONS,
    SEGMENTS,
    TRIGGER_TYPES,
)
from playbook.demo.grid import Calendar, days_to_iso


def _paid(mrr: np.ndarray, cal: Calendar, a: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True where account ``a`` paid (MRR > 0) in the month of ``day`` inside the window."""
    k = cal.month_of_day(day)
    inside = (k >= cal.window_start) & (k < cal.n_grid) & (day <= cal.end_day)
    out = np.zeros(len(a), dtype=bool)
    out[inside] = mrr[a[inside], k[inside]] > 0
    return out


#: The file each table is written to, in the order they are written.
FILES = {
    "accounts": "accounts.csv", "mrr": "mrr_history.csv", "churn_events": "churn_events.csv",
    "renewals": "renewals.csv", "usage": "usage_monthly.csv", "tickets": "tickets.csv",
    "surveys": "surveys.csv", "contacts": "contacts.csv", "touches": "touches.csv",
    "csm_inputs": "csm_scores.csv", "onboarding": "onboarding_milestones.csv",
    "outcomes": "success_plans.csv", "triggers": "trigger_events.csv",
}



def accounts_table(acc: dict[str, np.ndarray], ids: np.ndarray, mrr: np.ndarray,
                   dec: pd.DataFrame, next_renewal: np.ndarray) -> pd.DataFrame:
    """The CRM account list as at the end of the window.

    Active accounts show their next anniversary and current ARR; churned accounts show
    their last churn date as both renewal and churn date, and ARR 0.
    """
    n = len(ids)
    active = mrr[:, -1] > 0
    last_dec = dec.sort_values("renewal_day", kind="stable").groupby("a").last()
    churn_day = np.full(n, -1, dtype=np.int64)
    ch = last_dec[last_dec["outcome"] == "churned"]
    churn_day[ch.index.to_numpy()] = ch["renewal_day"].to_numpy()
    churn_day[active] = -1
    ren = np.where(active, next_renewal, churn_day)
    seg_names = np.array(SEGMENTS, dtype=object)
    return pd.DataFrame({
        "Account ID": ids,
        "Account Name": acc["name"],
        "Industry": np.array([i for i, _ in INDUSTRIES], dtype=object)[acc["industry"]],
        "Employees": acc["employees"],
        "Region": np.array([r for r, _ in REGIONS], dtype=object)[acc["region"]],
        "Account Owner": acc["owner"],
        "Segment": seg_names[acc["seg"]],
        "Customer Since": days_to_iso(acc["start_day"]),
        "Renewal Date": days_to_iso(ren),
        "ARR (USD)": np.round(mrr[:, -1] * 12).astype(np.int64),
        "Products": acc["products"],
        "Status": np.where(active, "Active", "Churned").astype(object),
        "Churn Date": days_to_iso(churn_day),
    })


def mrr_table(ids: np.ndarray, mrr: np.ndarray, cal: Calendar) -> pd.DataFrame:
    """One row per account and paid month in the window (unpaid months are absent)."""
    w = mrr[:, cal.window_start:]
    k_idx, a_idx = np.nonzero(w.T > 0)  # month-major order, like a billing export
    month = days_to_iso(cal.month_start_day(k_idx + cal.window_start))
    return pd.DataFrame({"Account ID": ids[a_idx], "Month": month,
                         "MRR (USD)": np.round(w[a_idx, k_idx]).astype(np.int64)})


def usage_table(acc: dict[str, np.ndarray], ids: np.ndarray, users: np.ndarray,
                mrr: np.ndarray, rng: np.random.Generator, cal: Calendar) -> pd.DataFrame:
    """Monthly usage in paid months: active users, licensed seats, key actions."""
    w = slice(cal.window_start, cal.n_grid)
    paid = mrr[:, w] > 0
    k_idx, a_idx = np.nonzero(paid.T)
    k = k_idx + cal.window_start
    au = users[a_idx, k]
    seats = np.maximum(1, np.round(acc["seats0"][a_idx] * mrr[a_idx, k]
                                   / acc["mrr0"][a_idx])).astype(np.int64)
    actions = np.round(au * 22 * rng.lognormal(0, 0.3, len(au))
                       * (1 + 0.3 * (acc["products"][a_idx] - 1))).astype(np.int64)
    return pd.DataFrame({"Account ID": ids[a_idx],
                         "Month": days_to_iso(cal.month_start_day(k)),
                         "Active Users": au, "Licensed Seats": seats, "Key Actions": actions})


def tickets_table(t: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    prio = np.array(["P4", "P3", "P2", "P1"], dtype=object)  # P1 = urgent .. P4 = low
    return pd.DataFrame({
        "Ticket ID": np.array([f"TCK-{i:07d}" for i in range(1, len(t) + 1)], dtype=object),
        "Account ID": ids[t["a"]], "Created": days_to_iso(t["opened"]),
        "Closed": days_to_iso(t["closed"]), "Priority": prio[t["prio"]],
        "Hours Spent": t["hours"].map("{:.1f}".format).to_numpy(),
    })


def surveys_table(nps: pd.DataFrame, csat: pd.DataFrame, ids: np.ndarray, mrr: np.ndarray,
                  cal: Calendar) -> pd.DataFrame:
    n = nps[_paid(mrr, cal, nps["a"].to_numpy(), nps["day"].to_numpy())]
    c = csat[_paid(mrr, cal, csat["a"].to_numpy(), csat["day"].to_numpy())]
    both = pd.concat([
        pd.DataFrame({"a": n["a"], "day": n["day"], "Survey": "Relationship NPS",
                      "NPS Score": n["nps"].astype(str), "CSAT Score": ""}),
        pd.DataFrame({"a": c["a"], "day": c["day"], "Survey": "Support CSAT",
                      "NPS Score": "", "CSAT Score": c["csat"].astype(str)}),
    ], ignore_index=True).sort_values(["day", "a", "Survey"], kind="stable")
    return pd.DataFrame({"Account ID": ids[both["a"]], "Response Date": days_to_iso(both["day"]),
                         "Survey": both["Survey"].to_numpy(),
                         "NPS Score": both["NPS Score"].to_numpy(),
                         "CSAT Score": both["CSAT Score"].to_numpy()})


def contacts_table(c: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    persona = {"user": "End User", "champion": "Champion", "executive": "Executive"}
    seniority = {"c_level": "C-Level", "vp": "VP", "director": "Director", "manager": "Manager",
                 "individual": "Individual Contributor"}
    return pd.DataFrame({
        "Contact ID": c["contact_id"], "Account ID": ids[c["a"]], "Job Title": c["title"],
        "Persona": c["role"].map(persona), "Seniority": c["seniority"].map(seniority),
        "Relationship": c["strength"].str.capitalize(),
    })


def touches_table(t: pd.DataFrame, ids: np.ndarray, mrr: np.ndarray,
                  cal: Calendar) -> pd.DataFrame:
    keep = t[_paid(mrr, cal, t["a"].to_numpy(), t["day"].to_numpy())]
    label = {"call": "Call", "email": "Email", "meeting": "Meeting", "qbr": "QBR",
             "onsite": "Onsite Visit", "webinar": "Webinar"}
    return pd.DataFrame({"Account ID": ids[keep["a"]], "Contact ID": keep["contact_id"],
                         "Activity Date": days_to_iso(keep["day"]),
                         "Activity Type": keep["type"].map(label)})


def onboarding_table(days: np.ndarray, ids: np.ndarray, cal: Calendar) -> pd.DataFrame:
    """Completed milestones only (steps not reached, or after the window end, are absent)."""
    done = (days >= 0) & (days <= cal.end_day)
    a_idx, s_idx = np.nonzero(done)
    return pd.DataFrame({"Account ID": ids[a_idx],
                         "Milestone": np.array(ONBOARDING_STEPS, dtype=object)[s_idx],
                         "Completed On": days_to_iso(days[a_idx, s_idx])})


def outcomes_table(meas: pd.DataFrame, ids: np.ndarray, mrr: np.ndarray,
                   cal: Calendar) -> pd.DataFrame:
    """Success-plan measurements in paid months (a blank baseline: not recorded)."""
    m = meas[_paid(mrr, cal, meas["a"].to_numpy(), meas["day"].to_numpy())]
    base = m["baseline"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    return pd.DataFrame({
        "Account ID": ids[m["a"]], "Success Outcome": m["outcome"].to_numpy(),
        "Metric": m["metric"].to_numpy(), "Baseline": base.to_numpy(),
        "Target": m["target"].map("{:g}".format).to_numpy(),
        "Current Value": m["value"].map("{:g}".format).to_numpy(),
        "Measured On": days_to_iso(m["day"]), "Agreed On": days_to_iso(m["agreed_day"])})


def triggers_table(t: pd.DataFrame, ids: np.ndarray, mrr: np.ndarray,
                   cal: Calendar) -> pd.DataFrame:
    """Account events (the CRM's timeline) in paid months, with the CRM's event labels."""
    keep = t[_paid(mrr, cal, t["a"].to_numpy(), t["day"].to_numpy())]
    label = {code: text for code, (text, _) in TRIGGER_TYPES.items()}
    return pd.DataFrame({"Account ID": ids[keep["a"]], "Trigger Date": days_to_iso(keep["day"]),
                         "Trigger Type": keep["type"].map(label).to_numpy(),
                         "Source": keep["source"].to_numpy(), "Note": keep["note"].to_numpy()})
