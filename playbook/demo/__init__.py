"""Deterministic, seeded demo client: "Northwind Analytics (demo)", a fictional B2B SaaS.

:func:`generate_demo` writes the raw export files of a made-up customer base (CRM and
customer-success platform exports with human, non-canonical headers) into a folder; the
matching column mapping is ``params/demo.yaml``. Everything is drawn from one
``numpy.random.default_rng(seed)``, so the same arguments give byte-identical files.

The simulation runs on a monthly grid that starts ``PRE_MONTHS`` before the exported window
(so that renewals early in the window have a full feature history; those months are never
exported). Usage, touches, NPS answers and onboarding are drawn first as *latent* processes
that do not depend on renewal outcomes; the contract loop then walks the months, draws each
renewal decision from a logistic model on features measured from exactly those processes at
the cut-off (``FEATURE_RULES["cutoff_days"]`` before the renewal date), and finally the
latent processes are exported only for months in which the account paid (MRR > 0). The
features are therefore rebuildable from the exported files with the rules in
:data:`FEATURE_RULES`.

Every planted effect is declared once, in :data:`PLANTED_EFFECTS` (documented in
``docs/demo-data.md``).

Command line (the same command as ``playbook demo``, :func:`playbook.cli.demo`)::

    python -m playbook.demo [--out data/demo] [--seed N] [--accounts N] [--force]

Nothing the generator writes can cost a consultant a file (:mod:`playbook.demo.folder`).

Modules, in the order the generator uses them:

=============  ==========================================================================
``effects``    planted effects, feature rules, the fictional company's vocabulary
``grid``       the month grid, categorical draws, ISO dates
``people``     accounts, contacts and their relationships
``latent``     usage, touches, NPS answers and onboarding (independent of outcomes)
``renewals``   the monthly contract loop with renewal decisions; churn reasons
``support``    tickets, CSAT and CSM scores
``export``     the tables with the export's headers (paid months only)
``generate``   :func:`generate_demo` and :func:`write_demo`
``folder``     where the generator may write, its marker and checksums
=============  ==========================================================================
"""

from playbook.demo.effects import FEATURE_RULES, PLANTED_EFFECTS
from playbook.demo.export import FILES
from playbook.demo.generate import generate_demo, write_demo

__all__ = ["FEATURE_RULES", "FILES", "PLANTED_EFFECTS", "generate_demo", "write_demo"]
