"""Findings: exhibits (chart + action title chosen by rules) and sentences built from
analysis results. Every number a title or sentence quotes comes from the results passed in."""
