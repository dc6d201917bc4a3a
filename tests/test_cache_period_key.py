"""The run's data cache is found by the kernels: same key however the period was written.

The render process reads the period from the params file (``as_of: ""``) while each
notebook is passed ``as_of`` explicitly; both resolve to the same day and must share the
cache entry, or every kernel parses the raw files again (issue 9: 7 s per notebook at
10,000 accounts, 65 s at 100,000).
"""

from __future__ import annotations

import pandas as pd

from playbook import cache, loader
from playbook.config import load_params


def test_key_depends_on_the_resolved_period_not_how_it_was_written(client_factory):
    client = client_factory.write()
    from_file = load_params(client)
    as_of = from_file.as_of.isoformat()
    passed = load_params(client, period=from_file.period_label, as_of=as_of)
    assert from_file.period.as_of != passed.period.as_of  # written differently ...
    assert cache.cache_key(from_file) == cache.cache_key(passed)  # ... same entry
    assert cache.cache_key(load_params(client, as_of="2024-02-29")) != cache.cache_key(passed)


def test_kernel_parameters_hit_the_entry_the_render_process_stored(client_factory, tmp_path,
                                                                  monkeypatch):
    client = client_factory.write()
    parent = load_params(client)
    stored = loader.load_client(parent)
    cache.store(parent, stored, tmp_path)
    kernel = load_params(client, period=parent.period_label, as_of=parent.as_of.isoformat())
    hit = cache.lookup(kernel, tmp_path)
    assert hit is not None, "the kernel's parameters missed the entry the render stored"
    # every table the loader made, derived ones too (churn events from billing)
    assert set(hit.tables) == set(stored.tables) >= set(parent.tables)
    for name, frame in stored.tables.items():
        pd.testing.assert_frame_equal(hit[name], frame, check_dtype=False)
