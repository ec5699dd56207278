"""MST: a marginal-based generator with an ε-differential-privacy guarantee (zCDP).

McKenna, Miklau & Sheldon (2021). The whole fit is one zCDP mechanism, accounted in a
:class:`~synthgen.models.dp.accounting.Budget` turned into ``(epsilon, delta)``-DP by the
Canonne-Kamath-Steinke conversion:

* the columns' domains (bounds, categories) come from the schema where declared, otherwise
  they are estimated with ``domain_share`` of ρ (:mod:`synthgen.models.dp.domain`);
* the rest of ρ runs MST on the coded columns (:mod:`synthgen.models.dp.tree`).

Everything after the measurements is post-processing of the noisy measurements and the
domain. State is saved as JSON plus a ``.npz`` of arrays (no pickle).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthgen.errors import ModelError, ParameterError
from synthgen.models.base import Generator
from synthgen.models.dp.accounting import Budget
from synthgen.models.dp.domain import ColumnDomain, build_domain, needs_estimate
from synthgen.models.dp.tree import TreeModel, fit_tree

#: share of δ kept for the thresholded category counts (when any category set is estimated)
CATEGORY_DELTA_SHARE = 0.25
STATE_VERSION = 1


class MST(Generator):
    """Maximum-spanning-tree marginals under zero-concentrated differential privacy.

    Args:
        epsilon: total ε of the (ε, δ)-DP guarantee (add/remove one record).
        delta: total δ.
        bins: cells per numeric, integer or datetime column (an integer column whose range
            holds at most ``bins`` whole numbers gets one cell per number).
        max_categories: most categories kept per estimated categorical column.
        domain_share: share of the budget spent estimating undeclared bounds and categories
            (unused, and given to the model, when the schema declares them all).
        seed: seeds the noise of training.
    """

    name = "mst"
    summary = (
        "MST: differentially private (zCDP) noisy 1- and 2-way marginals on a spanning tree; "
        "fast, epsilon-DP."
    )
    supports_dp: ClassVar[bool] = True

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-6,
        bins: int = 32,
        max_categories: int = 100,
        domain_share: float = 0.1,
        seed: int = 0,
    ):
        self.epsilon = epsilon
        self.delta = delta
        self.bins = bins
        self.max_categories = max_categories
        self.domain_share = domain_share
        self.seed = seed

    def _validate_params(self) -> None:
        problems = []

        def number(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)

        def count(v: Any, least: int) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= least

        if not number(self.epsilon) or self.epsilon <= 0:
            problems.append(f"epsilon must be a positive number, got {self.epsilon!r}")
        if not number(self.delta) or not 0 < self.delta < 1:
            problems.append(f"delta must be a number between 0 and 1, got {self.delta!r}")
        if not count(self.bins, 2):
            problems.append(f"bins must be an integer of at least 2, got {self.bins!r}")
        if not count(self.max_categories, 1):
            problems.append(
                f"max_categories must be a positive integer, got {self.max_categories!r}"
            )
        if not number(self.domain_share) or not 0 < self.domain_share < 1:
            problems.append(f"domain_share must be between 0 and 1, got {self.domain_share!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            problems.append(f"seed must be an integer, got {self.seed!r}")
        if problems:
            raise ParameterError(f"model '{self.name}': " + "; ".join(problems))

    # ------------------------------------------------------------------ fit
    def _fit(self, data: pd.DataFrame, progress: Callable[[int, int], None] | None) -> None:
        rng = np.random.default_rng(self.seed)
        specs = [self.schema_[c] for c in data.columns]
        estimated = [s for s in specs if needs_estimate(s)]
        estimate_categories = any(
            s.kind not in ("numeric", "integer", "datetime") for s in estimated
        )
        budget = Budget(
            epsilon=float(self.epsilon),
            delta=float(self.delta),
            delta_reserved=float(self.delta) * CATEGORY_DELTA_SHARE if estimate_categories else 0.0,
        )
        rho_domain = budget.rho * float(self.domain_share) if estimated else 0.0
        domains = build_domain(
            data,
            specs,
            budget=budget,
            rho=rho_domain,
            bins=int(self.bins),
            max_categories=int(self.max_categories),
            rng=rng,
        )
        codes = np.column_stack([d.encode(data[d.name]) for d in domains])
        self.domains_: list[ColumnDomain] = domains
        self.tree_: TreeModel = fit_tree(
            codes,
            [d.size for d in domains],
            budget=budget,
            rho=budget.rho_left,
            rng=rng,
            names=[d.name for d in domains],
        )
        self.privacy_budget_ = privacy_report(budget)

    # --------------------------------------------------------------- sample
    def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        codes = self.tree_.sample(n, rng)
        return pd.DataFrame(
            {d.name: d.decode(codes[:, j], rng) for j, d in enumerate(self.domains_)}
        )

    # ------------------------------------------------------------ save/load
    def _save_state(self, directory: Path) -> dict[str, Any]:
        meta, arrays = self.tree_.to_arrays()
        with open(directory / "tree.npz", "wb") as fh:
            np.savez(fh, **arrays)
        doc = {
            "format_version": STATE_VERSION,
            "tree": meta,
            "domains": [d.to_dict() for d in self.domains_],
        }
        (directory / "mst.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        return {"format": "mst-npz", "version": STATE_VERSION}

    def _load_state(self, directory: Path, meta: dict[str, Any]) -> None:
        if meta.get("format") != "mst-npz" or meta.get("version") != STATE_VERSION:
            raise ModelError("model state is not an MST state of a supported version")
        try:
            doc = json.loads((directory / "mst.json").read_text(encoding="utf-8"))
            domains = [ColumnDomain.from_dict(d) for d in doc["domains"]]
            with np.load(directory / "tree.npz", allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            tree = TreeModel.from_arrays(doc["tree"], arrays, len(domains))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(
                f"the saved MST state could not be read ({type(exc).__name__})"
            ) from None
        self.domains_ = domains
        self.tree_ = tree


def privacy_report(budget: Budget) -> dict[str, Any]:
    """The JSON-able ``privacy_budget_`` of a fitted MST."""
    return {
        "epsilon": float(budget.epsilon),
        "delta": float(budget.delta),
        "mechanism": "MST (zCDP)",
        "accountant": "zCDP (Canonne-Kamath-Steinke conversion)",
        "rho": float(budget.rho),
        "rho_spent": float(budget.rho_spent),
        "delta_reserved": float(budget.delta_reserved),
        "epsilon_spent": float(budget.epsilon_spent()),
        "neighbouring": "add/remove one record",
        "spent": [s.to_dict() for s in budget.spent],
    }
