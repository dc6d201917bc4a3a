"""Pure analysis functions: canonical frames and parameters in, frames and figures out.

Nothing in this package reads files, prints or plots; notebooks, charts and findings call it.
"""

from playbook.index_lookup import install as _install_index_lookup

_install_index_lookup()  # pandas' lookups of Arrow text by Arrow (playbook.index_lookup)
