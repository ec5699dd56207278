"""Privacy accounting: pure functions, plus a :class:`Budget` that keeps the history.

Two accountants live here.

* **zero-concentrated DP (zCDP)** for the marginal-based generators (MST): the Gaussian
  mechanism with L2 sensitivity ``Δ`` and noise ``σ`` is ``ρ = Δ²/(2σ²)``-zCDP, the exponential
  mechanism with privacy parameter ``ε`` is ``ε²/8``-zCDP (Cesar & Rogers 2021, bounded-range
  analysis), ρ's add up under composition, and ``ρ``-zCDP implies ``(ε, δ)``-DP by the
  conversion of Canonne, Kamath & Steinke (2020, Prop. 12, the one Private-PGM's MST uses):

      δ = min_{α>1}  exp((α-1)(αρ - ε)) / (α-1) · (1 - 1/α)^α

  which is never worse than the classic bound ``ε = ρ + 2√(ρ log(1/δ))`` (Bun & Steinke 2016).
* **Rényi DP (RDP)** for DP-SGD: thin wrappers over Opacus' analysis of the sampled Gaussian
  mechanism (Mironov et al. 2019) and its RDP -> (ε, δ) conversion.

The neighbouring relation throughout is add/remove one record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from synthgen.errors import ModelError, ParameterError

_BISECT_STEPS = 200
#: The RDP orders Opacus' RDPAccountant uses by default (the TF-Privacy grid).
DEFAULT_ORDERS: tuple[float, ...] = tuple(
    [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
)


def _positive(name: str, value: float, *, zero_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not zero_ok):
        raise ParameterError(
            f"{name} must be {'non-negative' if zero_ok else 'positive'}, got {value!r}"
        )
    return float(value)


def _delta(delta: float) -> float:
    delta = _positive("delta", delta)
    if delta >= 1:
        raise ParameterError(f"delta must be below 1, got {delta!r}")
    return delta


# ------------------------------------------------------------------------- zCDP


def gaussian_rho(*, sensitivity: float, sigma: float) -> float:
    """ρ of the Gaussian mechanism: ``sensitivity² / (2 sigma²)``."""
    sensitivity = _positive("sensitivity", sensitivity)
    sigma = _positive("sigma", sigma)
    return sensitivity**2 / (2.0 * sigma**2)


def sigma_for_rho(*, sensitivity: float, rho: float) -> float:
    """The Gaussian noise scale that makes a query of L2 ``sensitivity`` ``rho``-zCDP."""
    sensitivity = _positive("sensitivity", sensitivity)
    rho = _positive("rho", rho)
    return sensitivity / math.sqrt(2.0 * rho)


def exponential_rho(*, epsilon: float) -> float:
    """ρ of the exponential mechanism run with privacy parameter ``epsilon``: ``ε²/8``."""
    return _positive("epsilon", epsilon) ** 2 / 8.0


def exponential_epsilon(*, rho: float) -> float:
    """The exponential mechanism's ``ε`` that costs exactly ``rho``: ``√(8ρ)``."""
    return math.sqrt(8.0 * _positive("rho", rho))


def _log_delta(rho: float, epsilon: float) -> float:
    """log δ(ρ, ε) of the Canonne-Kamath-Steinke conversion, minimised over α > 1."""
    # d/dα of the log is (2α-1)ρ - ε + log(1-1/α): increasing in α, so bisect for its root.
    # The root is at least (1 + ε/ρ)/2; any α gives a valid (if looser) δ.
    lo, hi = 1.0 + 1e-9, max((epsilon + 1.0) / (2.0 * rho) + 2.0, 2.0)
    for _ in range(_BISECT_STEPS):
        alpha = 0.5 * (lo + hi)
        slope = (2 * alpha - 1) * rho - epsilon + math.log1p(-1.0 / alpha)
        if slope < 0:
            lo = alpha
        else:
            hi = alpha
        if hi - lo <= 1e-13 * hi:
            break
    alpha = hi
    return (
        (alpha - 1) * (alpha * rho - epsilon)
        + alpha * math.log1p(-1.0 / alpha)
        - math.log(alpha - 1)
    )


def cdp_delta(*, rho: float, epsilon: float) -> float:
    """The smallest δ such that ``rho``-zCDP implies ``(epsilon, δ)``-DP (CKS 2020)."""
    rho = _positive("rho", rho, zero_ok=True)
    epsilon = _positive("epsilon", epsilon, zero_ok=True)
    if rho == 0:
        return 0.0
    return min(1.0, math.exp(min(_log_delta(rho, epsilon), 0.0)))


def cdp_to_dp(*, rho: float, delta: float) -> float:
    """The ε such that ``rho``-zCDP implies ``(ε, delta)``-DP (Canonne, Kamath & Steinke).

    Found by bisection on :func:`cdp_delta`, returning the upper end so it is never an
    under-statement.
    """
    rho = _positive("rho", rho, zero_ok=True)
    delta = _delta(delta)
    if rho == 0:
        return 0.0
    log_target = math.log(delta)
    lo, hi = 0.0, cdp_to_dp_simple(rho=rho, delta=delta)
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if _log_delta(rho, mid) <= log_target:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-13 * hi:
            break
    return hi


def cdp_to_dp_simple(*, rho: float, delta: float) -> float:
    """The classic bound ``ε = ρ + 2√(ρ log(1/δ))`` (Bun & Steinke 2016, Prop. 1.3).

    An upper bound on :func:`cdp_to_dp`, kept to test against and to explain the budget.
    """
    rho = _positive("rho", rho, zero_ok=True)
    delta = _delta(delta)
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def rho_for_epsilon(*, epsilon: float, delta: float) -> float:
    """The largest ρ whose zCDP guarantee implies ``(epsilon, delta)``-DP (bisection).

    Returns the lower end of the final bracket, so ``cdp_to_dp(rho=result) <= epsilon``.
    """
    epsilon = _positive("epsilon", epsilon)
    delta = _delta(delta)
    lo, hi = 0.0, max(epsilon, 1.0)
    while cdp_to_dp(rho=hi, delta=delta) <= epsilon:  # ρ ≤ ε always, but be safe
        lo, hi = hi, 2 * hi
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if cdp_to_dp(rho=mid, delta=delta) <= epsilon:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return lo


# ---------------------------------------------------------------- RDP (DP-SGD)


def dpsgd_rdp(
    *,
    noise_multiplier: float,
    sample_rate: float,
    steps: int,
    orders: Sequence[float] = DEFAULT_ORDERS,
) -> list[float]:
    """RDP of ``steps`` Poisson-sampled Gaussian steps at each order (Opacus' analysis)."""
    from opacus.accountants.analysis.rdp import compute_rdp

    _check_sgd(noise_multiplier, sample_rate, steps)
    rdp = compute_rdp(
        q=float(sample_rate),
        noise_multiplier=float(noise_multiplier),
        steps=int(steps),
        orders=list(orders),
    )
    return [float(v) for v in rdp]


def dpsgd_epsilon(
    *,
    noise_multiplier: float,
    sample_rate: float,
    steps: int,
    delta: float,
    orders: Sequence[float] = DEFAULT_ORDERS,
) -> float:
    """ε of DP-SGD after ``steps`` steps at ``delta`` (RDP accountant, Opacus' conversion)."""
    import warnings

    from opacus.accountants.analysis.rdp import get_privacy_spent

    delta = _delta(delta)
    rdp = dpsgd_rdp(
        noise_multiplier=noise_multiplier, sample_rate=sample_rate, steps=steps, orders=orders
    )
    with warnings.catch_warnings():  # "optimal order is the largest alpha" is advice only
        warnings.simplefilter("ignore")
        eps, _ = get_privacy_spent(orders=list(orders), rdp=rdp, delta=delta)
    return float(eps)


def dpsgd_noise_multiplier(
    *,
    target_epsilon: float,
    delta: float,
    sample_rate: float,
    steps: int,
    epsilon_tolerance: float = 0.01,
) -> float:
    """The smallest noise multiplier (to ``epsilon_tolerance``) reaching ``target_epsilon``.

    Wraps Opacus' bisection; the result never overshoots the target.
    """
    import warnings

    from opacus.accountants.utils import get_noise_multiplier

    target_epsilon = _positive("target_epsilon", target_epsilon)
    delta = _delta(delta)
    _check_sgd(1.0, sample_rate, steps)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(
                get_noise_multiplier(
                    target_epsilon=target_epsilon,
                    target_delta=delta,
                    sample_rate=float(sample_rate),
                    steps=int(steps),
                    accountant="rdp",
                    epsilon_tolerance=epsilon_tolerance,
                )
            )
    except ValueError as exc:
        raise ParameterError(
            f"no noise multiplier reaches epsilon={target_epsilon} at delta={delta} with "
            f"sample_rate={sample_rate} over {steps} steps ({exc})"
        ) from None


def _check_sgd(noise_multiplier: float, sample_rate: float, steps: int) -> None:
    _positive("noise_multiplier", noise_multiplier)
    rate = _positive("sample_rate", sample_rate)
    if rate > 1:
        raise ParameterError(f"sample_rate must be at most 1, got {sample_rate!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ParameterError(f"steps must be a positive integer, got {steps!r}")


# ---------------------------------------------------------------------- Budget


@dataclass(frozen=True)
class Spend:
    """One measurement charged to a :class:`Budget`."""

    what: str
    rho: float
    delta: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "rho": self.rho, "delta": self.delta}


@dataclass
class Budget:
    """A total ``(epsilon, delta)`` turned into a zCDP budget ``rho``, and its spending.

    ``delta_reserved`` is the part of ``delta`` set aside for mechanisms that are only
    approximately zCDP (thresholded histograms that may reveal a category with probability
    ``δ``); the rest is used to convert ``rho`` to ``(epsilon, ·)``. Each spend is recorded;
    overspending raises.

    Attributes:
        epsilon: the total ε.
        delta: the total δ.
        delta_reserved: the δ kept for approximate-zCDP mechanisms.
        rho: the zCDP budget that, with ``delta - delta_reserved``, gives ``epsilon``.
        spent: every charge, in order.
    """

    epsilon: float
    delta: float
    delta_reserved: float = 0.0
    rho: float = field(init=False)
    spent: list[Spend] = field(default_factory=list, init=False)

    _SLACK = 1e-9  # floating-point slack on the totals, relative

    def __post_init__(self) -> None:
        _positive("epsilon", self.epsilon)
        _delta(self.delta)
        _positive("delta_reserved", self.delta_reserved, zero_ok=True)
        if self.delta_reserved >= self.delta:
            raise ParameterError(
                f"delta_reserved ({self.delta_reserved}) must be below delta ({self.delta})"
            )
        self.rho = rho_for_epsilon(epsilon=self.epsilon, delta=self.delta - self.delta_reserved)

    @property
    def rho_spent(self) -> float:
        return math.fsum(s.rho for s in self.spent)

    @property
    def rho_left(self) -> float:
        return max(self.rho - self.rho_spent, 0.0)

    @property
    def delta_spent(self) -> float:
        return math.fsum(s.delta for s in self.spent)

    def spend(self, what: str, *, rho: float, delta: float = 0.0) -> None:
        """Record a charge of ``rho`` (and ``delta`` of the reserve) for ``what``.

        Raises:
            ModelError: the charge would take the total past the budget.
        """
        rho = _positive("rho", rho, zero_ok=True)
        delta = _positive("delta", delta, zero_ok=True)
        if self.rho_spent + rho > self.rho * (1 + self._SLACK):
            raise ModelError(
                f"privacy budget exceeded: {what} needs rho={rho:.4g} but only "
                f"{self.rho_left:.4g} of {self.rho:.4g} is left"
            )
        if self.delta_spent + delta > self.delta_reserved * (1 + self._SLACK):
            raise ModelError(
                f"privacy budget exceeded: {what} needs delta={delta:.3g} but only "
                f"{self.delta_reserved - self.delta_spent:.3g} of the reserved "
                f"{self.delta_reserved:.3g} is left"
            )
        self.spent.append(Spend(what, rho, delta))

    def epsilon_spent(self) -> float:
        """The ε actually guaranteed by what has been spent (at the budget's δ)."""
        if not self.spent or self.rho_spent == 0:
            return 0.0
        return cdp_to_dp(rho=self.rho_spent, delta=self.delta - self.delta_reserved)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: totals and every spend."""
        return {
            "epsilon": float(self.epsilon),
            "delta": float(self.delta),
            "delta_reserved": float(self.delta_reserved),
            "rho": float(self.rho),
            "rho_spent": float(self.rho_spent),
            "spent": [s.to_dict() for s in self.spent],
        }
