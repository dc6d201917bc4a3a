"""Peer benchmarks: the client's GRR, NRR and logo churn beside published peer ranges.

A benchmark set is a dated YAML file (``playbook/benchmarks/<name>.yaml``, or a firm's own
file named in ``executive.benchmarks``): its source, year, sample size, a quote, and the
peer figures by band of annual contract value (ACV: the client's ARR per account picks the
band). Figures are shares 0-1 as the source prints them; a figure the source does not
publish is left out of the file and shown as such, never filled in.

The client's own figures are the headline rates of :mod:`playbook.metrics` (through
:class:`playbook.facts.Facts`); a withheld one is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from playbook import paths
from playbook.errors import ParamsError
from playbook.facts import Facts
from playbook.yamlsafe import parse_yaml

#: Where the shipped benchmark sets live.
BENCHMARK_DIR = Path(__file__).resolve().parent / "benchmarks"
#: The figures a set may give per band: (key, label, higher is better).
METRICS = (("grr", "Gross revenue retention", True),
           ("nrr", "Net revenue retention", True),
           ("logo_churn", "Logo churn", False))


class Band(BaseModel):
    """Peer figures for one band of annual contract value (money a year, the set's
    currency): ``acv_min`` <= ACV < ``acv_max`` (None: no upper bound)."""

    model_config = ConfigDict(extra="forbid")

    label: str
    acv_min: float = Field(ge=0)
    acv_max: float | None = None
    grr: float | None = Field(default=None, ge=0, le=2)
    nrr: float | None = Field(default=None, ge=0, le=3)
    logo_churn: float | None = Field(default=None, ge=0, le=1)


class BenchmarkSet(BaseModel):
    """One published benchmark set (the file's layout)."""

    model_config = ConfigDict(extra="forbid")

    source: str
    year: int
    data_through: str | None = None
    sample_size: int = Field(ge=1)
    sample: str
    statistic: str
    band_by: str = "acv"
    currency: str = "USD"
    urls: list[str] = Field(min_length=1)
    quote: str
    note: str = ""
    bands: list[Band] = Field(min_length=1)

    def band_for(self, acv: float | None) -> Band | None:
        """The band holding ``acv`` (None when it is unknown or no band holds it)."""
        if acv is None:
            return None
        return next((b for b in self.bands
                     if b.acv_min <= acv and (b.acv_max is None or acv < b.acv_max)), None)


def benchmark_file(name: str) -> Path:
    """The file of benchmark set ``name``: a stem of :data:`BENCHMARK_DIR`, else a path
    from the project root."""
    shipped = BENCHMARK_DIR / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    return (paths.project_root() / name).resolve()


def load_benchmarks(name: str | None) -> BenchmarkSet | None:
    """The benchmark set ``executive.benchmarks`` names (None: no benchmarks).

    Raises
    ------
    ParamsError
        The file is missing or does not have the layout of :class:`BenchmarkSet`."""
    if not name:
        return None
    path = benchmark_file(name)
    if not path.is_file():
        raise ParamsError(f"executive.benchmarks names '{name}', which is neither a set in "
                          f"playbook/benchmarks nor a file at {path}.",
                          fix="Name a shipped set (e.g. saas_capital_2023), the path of "
                              "your own file, or null.")
    try:
        return BenchmarkSet.model_validate(parse_yaml(path.read_text(encoding="utf-8"),
                                                      str(path)))
    except ValidationError as exc:
        raise ParamsError(f"The benchmark file {path.name} does not have the layout of "
                          f"playbook/benchmarks: {exc.errors()[0]['msg']} at "
                          f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}.",
                          fix="Follow playbook/benchmarks/saas_capital_2023.yaml.") from exc


@dataclass
class PeerRow:
    metric: str
    label: str
    client: float | None   # the client's figure (None: withheld or not computed)
    peer: float | None     # the band's published figure (None: not published)
    gap: float | None      # client - peer, in share points (None when either is missing)
    verdict: str           # "better" | "worse" | "in line" | "" (not compared)


def client_acv(f: Facts) -> float | None:
    """The client's ARR per paying account (MRR x 12 / accounts), None when unknown."""
    if f.mrr is None or not f.accounts:
        return None
    return f.mrr * 12 / f.accounts


def peer_rows(f: Facts, bench: BenchmarkSet) -> tuple[Band | None, list[PeerRow]]:
    """The band of the client's ACV and, per metric, the client beside the peer figure.

    "in line" is within half a point of the peer figure; better/worse follow the metric's
    direction."""
    band = bench.band_for(client_acv(f))
    rows = []
    for key, label, higher in METRICS:
        mine = getattr(f, key)
        peer = getattr(band, key) if band is not None else None
        gap = None if mine is None or peer is None else mine - peer
        if gap is None:
            verdict = ""
        elif abs(gap) < 0.005:
            verdict = "in line"
        else:
            verdict = "better" if (gap > 0) == higher else "worse"
        rows.append(PeerRow(key, label, mine, peer, gap, verdict))
    return band, rows


def benchmarks_record(f: Facts, bench: BenchmarkSet | None) -> dict[str, Any]:
    """The benchmarks for results.json (``executive.benchmarks``); ``rows`` empty when the
    run has no benchmark set (``executive.benchmarks: null``)."""
    if bench is None:
        return {"source": None, "rows": [], "band": None, "acv": client_acv(f),
                "reason": "no benchmark set (executive.benchmarks is null)"}
    band, rows = peer_rows(f, bench)
    return {"source": bench.source, "year": bench.year, "sample_size": bench.sample_size,
            "sample": bench.sample, "statistic": bench.statistic, "urls": list(bench.urls),
            "quote": bench.quote, "note": bench.note, "acv": client_acv(f),
            "band": None if band is None else band.label,
            "reason": "" if band is not None else "the client's ARR per account is unknown",
            "rows": [vars(r) for r in rows]}
