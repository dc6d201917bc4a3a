"""Pure analysis functions: canonical frames and parameters in, frames and figures out.

Nothing in this package reads files, prints or plots; notebooks, charts and findings call it.
"""
