-- The analyst's alternative: the report's headline figures in plain DuckDB SQL, straight
-- from a benchmark client's raw files (bench/run.py generates them; the demo's layout).
--
--   month-end MRR and its movements (new, expansion, contraction, churn, reactivation),
--   the trailing window's totals, logo churn of the window's base, churn by industry,
--   usage per account-month (aggregated from the event log).
--
-- The same definitions as the report (docs and playbook/analyses/revenue.py,
-- playbook/metrics.py): churn recognised at cancellation, a return within the reactivation
-- window is a reactivation, an account that starts and cancels within one month counts as
-- one new and one churned logo, money summed in whole cents. What the report does on top
-- (the loader's checks and repairs of messy files, withheld figures, tests, words) is not
-- repeated: the files are assumed clean, as the generated ones are.
--
-- Run it from anywhere with the client's folder and the period set first, e.g.
--   duckdb -c "SET file_search_path = 'bench/out/root/data/bench-1000';
--              SET VARIABLE as_of = DATE '2026-09-30'; SET VARIABLE trailing_months = 12;
--              SET VARIABLE reactivation_months = 12; SET VARIABLE term_months = 12;
--              .read bench/headline.sql"
-- (bench/sql_anchor.py does this and times each stage; its stages are the `-- stage:`
-- lines below). Results are the tables movements, trailing_window, headline, churn_by_industry
-- and usage_monthly.

-- stage: load
CREATE OR REPLACE TABLE accounts AS
SELECT "Account ID" AS account_id, "Industry" AS industry,
       CAST("Customer Since" AS DATE) AS start_date
FROM read_csv('accounts.csv', header = true, all_varchar = true);

CREATE OR REPLACE TABLE billed AS           -- MRR per account and month up to the as-of date
SELECT "Account ID" AS account_id, date_trunc('month', CAST("Month" AS DATE)) AS month,
       sum(CAST("MRR (USD)" AS DOUBLE)) AS mrr
FROM read_csv('mrr_history.csv', header = true, all_varchar = true)
WHERE date_trunc('month', CAST("Month" AS DATE)) <= getvariable('as_of')
GROUP BY ALL;

CREATE OR REPLACE TABLE churn_events AS
SELECT "Account ID" AS account_id, CAST("Cancellation Date" AS DATE) AS churn_date,
       coalesce(TRY_CAST("Lost MRR (USD)" AS DOUBLE), 0) AS lost_mrr
FROM read_csv('churn_events.csv', header = true, all_varchar = true)
WHERE "Account ID" IS NOT NULL AND "Cancellation Date" IS NOT NULL;

-- stage: revenue
-- Churn recognised at cancellation: in each unbroken run of paid months, the months from
-- the first cancellation dated inside the run onwards do not count.
CREATE OR REPLACE TABLE counted AS
WITH paid AS (
    SELECT *, year(month) * 12 + month(month)
              - row_number() OVER (PARTITION BY account_id ORDER BY month) AS run
    FROM billed WHERE mrr > 0),
cut AS (
    SELECT p.account_id, p.run, min(p.month) AS cut
    FROM paid p JOIN churn_events e
      ON e.account_id = p.account_id AND date_trunc('month', e.churn_date) = p.month
    GROUP BY ALL),
dropped AS (
    SELECT p.account_id, p.month FROM paid p JOIN cut USING (account_id, run)
    WHERE p.month >= cut.cut)
SELECT b.account_id, b.month, CAST(round(b.mrr * 100) AS BIGINT) AS cents
FROM billed b ANTI JOIN dropped d USING (account_id, month);

CREATE OR REPLACE TABLE months AS            -- every month of the data, gaps included
SELECT CAST(m AS DATE) AS month
FROM range((SELECT min(month) FROM counted), (SELECT max(month) FROM counted)
           + INTERVAL 1 MONTH, INTERVAL 1 MONTH) t(m);

CREATE OR REPLACE TABLE moves AS             -- one row per account and movement
WITH paying AS (
    SELECT account_id, month, cents,
           lag(month) OVER w AS last_paid, lead(month) OVER w AS next_paid
    FROM counted WHERE cents > 0 WINDOW w AS (PARTITION BY account_id ORDER BY month)),
prev AS (SELECT account_id, month + INTERVAL 1 MONTH AS month, cents FROM paying)
SELECT p.month,
       CASE WHEN q.cents IS NULL AND p.last_paid IS NOT NULL
                 AND date_diff('month', p.last_paid, p.month)
                     <= getvariable('reactivation_months') THEN 'reactivation'
            WHEN q.cents IS NULL THEN 'new'
            WHEN p.cents > q.cents THEN 'expansion'
            WHEN p.cents < q.cents THEN 'contraction' END AS kind,
       CASE WHEN q.cents IS NULL THEN p.cents ELSE abs(p.cents - q.cents) END AS cents
FROM paying p LEFT JOIN prev q USING (account_id, month)
WHERE p.month > (SELECT min(month) FROM months)
UNION ALL                                    -- paying in m-1, not in m: churned in m
SELECT month + INTERVAL 1 MONTH, 'churn', cents FROM paying
WHERE (next_paid IS NULL OR next_paid > month + INTERVAL 1 MONTH)
  AND month < (SELECT max(month) FROM months)
UNION ALL                                    -- started and cancelled within one month
SELECT date_trunc('month', churn_date), 'same_month',
       sum(CAST(round(lost_mrr * 100) AS BIGINT))
FROM churn_events
WHERE account_id NOT IN (SELECT account_id FROM counted WHERE cents > 0)
  AND date_trunc('month', churn_date) > (SELECT min(month) FROM months)
  AND date_trunc('month', churn_date) <= (SELECT max(month) FROM months)
GROUP BY account_id, date_trunc('month', churn_date);

CREATE OR REPLACE TABLE month_end AS          -- month-end MRR (currency) and paying logos
SELECT m.month, coalesce(sum(c.cents), 0) / 100 AS mrr, count(c.cents) AS logos
FROM months m LEFT JOIN counted c ON c.month = m.month AND c.cents > 0
GROUP BY m.month;

CREATE OR REPLACE TABLE movements AS
SELECT m.month,
       s.mrr AS start_mrr,
       (count(*) FILTER (kind = 'new')
        + count(*) FILTER (kind = 'same_month')) AS new_logos,
       (coalesce(sum(cents) FILTER (kind = 'new'), 0)
        + coalesce(sum(cents) FILTER (kind = 'same_month'), 0)) / 100 AS new,
       coalesce(sum(cents) FILTER (kind = 'expansion'), 0) / 100 AS expansion,
       coalesce(sum(cents) FILTER (kind = 'contraction'), 0) / 100 AS contraction,
       (coalesce(sum(cents) FILTER (kind = 'churn'), 0)
        + coalesce(sum(cents) FILTER (kind = 'same_month'), 0)) / 100 AS churn,
       coalesce(sum(cents) FILTER (kind = 'reactivation'), 0) / 100 AS reactivation,
       e.mrr AS end_mrr,
       s.logos AS start_logos,
       count(*) FILTER (kind = 'reactivation') AS reactivated_logos,
       (count(*) FILTER (kind = 'churn')
        + count(*) FILTER (kind = 'same_month')) AS churned_logos,
       e.logos AS end_logos
FROM months m
JOIN month_end e ON e.month = m.month
JOIN month_end s ON s.month = m.month - INTERVAL 1 MONTH
LEFT JOIN moves v ON v.month = m.month
GROUP BY ALL ORDER BY m.month;

-- The trailing window: its months up to the as-of month, shortened to the history held.
CREATE OR REPLACE TABLE window_months AS
SELECT date_trunc('month', getvariable('as_of')) AS end_month,
       least(getvariable('trailing_months'),
             date_diff('month', (SELECT min(month) FROM billed),
                       date_trunc('month', getvariable('as_of')))) AS months;

CREATE OR REPLACE TABLE trailing_window AS
SELECT min(v.month) AS start_month, max(v.month) AS end_month, count(*) AS months,
       arg_min(start_mrr, v.month) AS start_mrr, arg_max(end_mrr, v.month) AS end_mrr,
       sum(new) AS new, sum(expansion) AS expansion, sum(contraction) AS contraction,
       sum(churn) AS churn, sum(reactivation) AS reactivation,
       sum(churn) + sum(contraction) AS lost_mrr,
       arg_min(start_logos, v.month) AS start_logos, arg_max(end_logos, v.month) AS end_logos,
       sum(new_logos) AS new_logos, sum(reactivated_logos) AS reactivated_logos,
       sum(churned_logos) AS churned_logos
FROM movements v, window_months w
WHERE v.month > w.end_month - to_months(w.months) AND v.month <= w.end_month;

-- Logo churn: the accounts paying in the base month, not paying in the end month.
CREATE OR REPLACE TABLE cohort AS
SELECT t.account_id, t.cents / 100 AS mrr_then, coalesce(n.cents, 0) / 100 AS mrr_now,
       coalesce(n.cents, 0) <= 0 AS churned
FROM window_months w
JOIN counted t ON t.month = w.end_month - to_months(w.months) AND t.cents > 0
LEFT JOIN counted n ON n.account_id = t.account_id AND n.month = w.end_month;

CREATE OR REPLACE TABLE headline AS
SELECT count(*) AS base_accounts, count_if(churned) AS churned_accounts,
       count_if(churned) / count(*) AS logo_churn,
       sum(mrr_then) AS base_mrr,
       sum(least(mrr_now, mrr_then)) / sum(mrr_then) AS grr,
       sum(mrr_now) / sum(mrr_then) AS nrr,
       (SELECT count(*) FROM counted c, window_months w
        WHERE c.month = w.end_month AND c.cents > 0) AS end_accounts
FROM cohort;

-- Churn by one variable: industry, over the base accounts past their first renewal by the
-- end of the window (start + the contract term, the report's `contracts.term_months`).
CREATE OR REPLACE TABLE churn_by_industry AS
SELECT coalesce(a.industry, '(missing)') AS "group", count(*) AS n,
       count_if(c.churned) AS churned, count_if(c.churned) / count(*) AS rate
FROM cohort c LEFT JOIN accounts a USING (account_id), window_months w
WHERE getvariable('term_months') <= 1 OR a.start_date IS NULL
   OR a.start_date + to_months(getvariable('term_months'))
      <= last_day(w.end_month)
GROUP BY ALL ORDER BY rate DESC, n DESC;

-- stage: usage
CREATE OR REPLACE TABLE usage_monthly AS     -- per account and month of the event log
SELECT "Account ID" AS account_id, date_trunc('month', "Event Time") AS month,
       count(DISTINCT "User ID") AS active_users, max("Licensed Seats") AS licensed_seats,
       count(*) AS key_actions
FROM 'usage_events.parquet'                -- or 'usage_events.csv'
GROUP BY ALL;
