"""Format-valid fake replacements for direct identifiers, belonging to nobody.

NHS numbers come from the ``999`` test range with valid check digits, phone numbers from
Ofcom's ranges reserved for drama (or the US 555-01xx range), e-mail addresses from the reserved
``example.*`` domains, postcodes and names in valid formats. A ``forbidden`` callback lets the
caller redraw any value that happens to equal a real one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from faker import Faker

from synthgen.data.pii import (
    _NHS_WEIGHTS,
    _UK_PHONE_RE,
    _US_PHONE_RE,
    PII_TYPES,
    _sample,
    _share,
)
from synthgen.errors import InputError, ModelError

__all__ = ["POSTCODE_AREAS", "fake_person_names", "fake_uk_postcodes", "fake_values"]

_MAX_RETRIES = 25


_EXAMPLE_DOMAINS = np.array(["example.org", "example.com", "example.net"])
# Ofcom's numbers reserved for TV and radio drama: (prefix, number of free digits).
_DRAMA_PHONES = (
    ("07700 900", 3),
    ("020 7946 0", 3),
    ("0113 496 0", 3),
    ("0121 496 0", 3),
    ("0161 496 0", 3),
    ("0191 498 0", 3),
    ("01632 960", 3),
)
# Postcode areas of England, by region (used by the demo cohort as well).
POSTCODE_AREAS: dict[str, tuple[str, ...]] = {
    "London": ("E", "EC", "N", "NW", "SE", "SW", "W", "WC", "BR", "CR", "HA", "IG", "UB"),
    "South East": ("BN", "CT", "GU", "ME", "MK", "OX", "PO", "RG", "RH", "SL", "SO", "TN", "HP"),
    "East of England": ("CB", "CM", "CO", "IP", "LU", "NR", "PE", "SG", "SS", "AL"),
    "South West": ("BA", "BH", "BS", "DT", "EX", "GL", "PL", "SN", "SP", "TA", "TQ", "TR"),
    "West Midlands": ("B", "CV", "DY", "HR", "ST", "TF", "WR", "WS", "WV"),
    "East Midlands": ("DE", "LE", "LN", "NG", "NN"),
    "Yorkshire and The Humber": ("BD", "DN", "HD", "HG", "HU", "HX", "LS", "S", "WF", "YO"),
    "North West": ("BB", "BL", "CA", "CH", "CW", "FY", "L", "LA", "M", "OL", "PR", "SK", "WN"),
    "North East": ("DH", "DL", "NE", "SR", "TS"),
}
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


def fake_uk_postcodes(
    n: int,
    *,
    rng: np.random.Generator,
    areas: np.ndarray | None = None,
    districts: np.ndarray | None = None,
) -> list[str]:
    """Make ``n`` UK postcodes of valid format ("LS12 3AB").

    Args:
        n: how many.
        rng: the only source of randomness.
        areas: per-row postcode areas (e.g. "LS"); drawn from English areas when None.
        districts: per-row district numbers; drawn at random (1-29) when None.
    """
    if areas is None:
        pool = np.array(sorted({a for v in POSTCODE_AREAS.values() for a in v}))
        areas = pool[rng.integers(0, len(pool), n)]
    if districts is None:
        districts = rng.integers(1, 30, n)
    sector = rng.integers(0, 10, n)
    letters = _INWARD_LETTERS[rng.integers(0, len(_INWARD_LETTERS), (n, 2))]
    inward = np.char.add(np.char.add(sector.astype(str), letters[:, 0]), letters[:, 1])
    outward = np.char.add(np.asarray(areas).astype(str), np.asarray(districts).astype(str))
    return np.char.add(np.char.add(outward, " "), inward).tolist()


def _faker(locale: str, rng: np.random.Generator) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(int(rng.integers(0, 2**31 - 1)))
    return fake


def _pool(draw: Callable[[], str], k: int) -> np.ndarray:
    return np.array(sorted({draw() for _ in range(k)}))


def _name_pools(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Female first names, male first names and surnames from a locally seeded Faker."""
    fake = _faker("en_GB", rng)
    female = _pool(fake.first_name_female, 600)
    male = _pool(fake.first_name_male, 600)
    last = _pool(fake.last_name, 2000)
    return female, male, last


def fake_person_names(
    n: int, *, rng: np.random.Generator, female: np.ndarray | None = None
) -> list[str]:
    """Make ``n`` "First Last" names; ``female`` (bool per row) picks the first-name pool."""
    f_pool, m_pool, last = _name_pools(rng)
    if female is None:
        female = rng.random(n) < 0.5
    female = np.asarray(female, dtype=bool)
    first = np.where(
        female,
        f_pool[rng.integers(0, len(f_pool), n)],
        m_pool[rng.integers(0, len(m_pool), n)],
    )
    surname = last[rng.integers(0, len(last), n)]
    return np.char.add(np.char.add(first.astype(str), " "), surname.astype(str)).tolist()


def _fake_nhs(n: int, rng: np.random.Generator) -> list[str]:
    """NHS numbers in the 999 range, which NHS England keeps for test patients."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        m = int((n - len(out)) * 1.15) + 16
        rest = rng.integers(0, 10, (m, 6))
        digits = np.concatenate([np.full((m, 3), 9), rest], axis=1)
        check = 11 - (digits @ _NHS_WEIGHTS) % 11
        check = np.where(check == 11, 0, check)
        ok = check != 10
        body = rest[ok] @ (10 ** np.arange(5, -1, -1))
        out = np.concatenate([out, 9_990_000_000 + body * 10 + check[ok]])
    s = pd.Series(out[:n]).astype(str)
    return (s.str[:3] + " " + s.str[3:6] + " " + s.str[6:]).tolist()


def _fake_ssn(n: int, rng: np.random.Generator) -> list[str]:
    area = rng.integers(1, 899, n)  # 1..898, then skip 666
    area = np.where(area >= 666, area + 1, area)
    group = rng.integers(1, 100, n)
    serial = rng.integers(1, 10000, n)
    a = pd.Series(area).astype(str).str.zfill(3)
    g = pd.Series(group).astype(str).str.zfill(2)
    s = pd.Series(serial).astype(str).str.zfill(4)
    return (a + "-" + g + "-" + s).tolist()


def _fake_phone(n: int, rng: np.random.Generator, like: pd.Series | None) -> list[str]:
    us = False
    if like is not None:
        sample = _sample(like.dropna().astype(str).str.strip())
        if len(sample):
            stripped = sample.str.replace(r"[\s\-().]", "", regex=True)
            us_share = _share(stripped.str.match(_US_PHONE_RE))
            us = us_share > _share(stripped.str.match(_UK_PHONE_RE))
    if us:
        # 555-0100 to 555-0199 are the North American numbers kept for fiction.
        area = rng.integers(201, 990, n)
        area = np.where(area % 100 == 11, area + 1, area)  # avoid N11 service codes
        line = rng.integers(100, 200, n)
        a = pd.Series(area).astype(str)
        return ("(" + a + ") 555-0" + pd.Series(line).astype(str)).tolist()
    which = rng.integers(0, len(_DRAMA_PHONES), n)
    prefixes = np.array([p for p, _ in _DRAMA_PHONES])[which]
    tail = pd.Series(rng.integers(0, 1000, n)).astype(str).str.zfill(3)
    return (pd.Series(prefixes) + tail).tolist()


def _fake_email(n: int, rng: np.random.Generator) -> list[str]:
    f_pool, m_pool, last = _name_pools(rng)
    first = np.concatenate([f_pool, m_pool])
    clean = np.vectorize(lambda s: re.sub(r"[^a-z]", "", s.lower()), otypes=[object])
    first, last = clean(first), clean(last)
    f = first[rng.integers(0, len(first), n)]
    s = last[rng.integers(0, len(last), n)]
    sep = np.array([".", "_", ""])[rng.integers(0, 3, n)]
    num = rng.integers(0, 100, n)
    suffix = np.where(rng.random(n) < 0.5, num.astype(str), "")
    dom = _EXAMPLE_DOMAINS[rng.integers(0, len(_EXAMPLE_DOMAINS), n)]
    return [f"{a}{b}{c}{d}@{e}" for a, b, c, d, e in zip(f, sep, s, suffix, dom, strict=True)]


def _fake_zip(n: int, rng: np.random.Generator) -> list[str]:
    return pd.Series(rng.integers(1001, 99951, n)).astype(str).str.zfill(5).tolist()


def _is_integer_like(like: pd.Series | None) -> bool:
    return like is not None and pd.api.types.is_integer_dtype(like.dtype)


def _fake_row_ids(
    n: int,
    like: pd.Series | None,
    forbidden: Callable[[list[str]], np.ndarray] | None,
) -> list[str]:
    """Consecutive ids, skipping any the caller forbids; unique by construction."""
    if _is_integer_like(like):
        top = int(like.max()) if like.notna().any() else 0
        # Start past the next power of ten: no clash with the source, and only its order of
        # magnitude shows.
        prefix, start, width = "", 10 ** len(str(max(abs(top), 1))), 0
    else:
        prefix, start, width = "SYN", 1, max(7, len(str(n)))

    def make(k0: int, k1: int) -> list[str]:
        return [f"{prefix}{v:0{width}d}" for v in range(start + k0, start + k1)]

    out: list[str] = []
    pos = 0
    for _ in range(_MAX_RETRIES):
        need = n - len(out)
        if need <= 0:
            break
        batch = make(pos, pos + need)
        pos += need
        if forbidden is not None and batch:
            mask = np.asarray(forbidden(batch), dtype=bool)
            batch = [b for b, bad in zip(batch, mask, strict=True) if not bad]
        out.extend(batch)
    if len(out) < n:
        raise ModelError(
            f"Could not make {n} fake row ids that differ from the source after "
            f"{_MAX_RETRIES} attempts; {n - len(out)} still clash."
        )
    return out


def fake_values(
    pii_type: str,
    n: int,
    *,
    rng: np.random.Generator,
    forbidden: Callable[[list[str]], np.ndarray] | None = None,
    like: pd.Series | None = None,
) -> list[str]:
    """Make ``n`` fake, format-valid values of a direct-identifier type.

    Args:
        pii_type: one of :data:`PII_TYPES` other than ``date_of_birth`` and ``free_text``.
        n: how many values.
        rng: the only source of randomness (Faker instances are seeded from it).
        forbidden: given candidate values, returns a boolean mask of those that occur in the
            real source; such candidates are drawn again.
        like: the source column, used only for its format family (integer row ids, US
            phone numbers).

    Returns:
        ``n`` strings. Row ids are unique.

    Raises:
        ValueError: for ``date_of_birth`` and ``free_text``, which are dropped, never faked.
        InputError: for an unknown type or a negative ``n``.
        ModelError: when forbidden candidates keep coming back after repeated draws.
    """
    if pii_type in ("date_of_birth", "free_text"):
        raise ValueError(f"PII type '{pii_type}' is dropped, never faked.")
    if pii_type not in PII_TYPES:
        raise InputError(f"Unknown PII type '{pii_type}'; known types are: {', '.join(PII_TYPES)}.")
    if n < 0:
        raise InputError(f"The number of fake values must be at least 0, got {n}.")
    if n == 0:
        return []
    if pii_type == "row_id":
        return _fake_row_ids(n, like, forbidden)

    def draw(k: int) -> list[str]:
        if pii_type == "nhs_number":
            return _fake_nhs(k, rng)
        if pii_type == "us_ssn":
            return _fake_ssn(k, rng)
        if pii_type == "phone":
            return _fake_phone(k, rng, like)
        if pii_type == "email":
            return _fake_email(k, rng)
        if pii_type == "uk_postcode":
            return fake_uk_postcodes(k, rng=rng)
        if pii_type == "us_zip":
            return _fake_zip(k, rng)
        return fake_person_names(k, rng=rng)

    values = draw(n)
    if forbidden is None:
        return values
    bad = np.flatnonzero(np.asarray(forbidden(values), dtype=bool))
    for _ in range(_MAX_RETRIES):
        if bad.size == 0:
            return values
        fresh = draw(int(bad.size))
        for i, v in zip(bad, fresh, strict=True):
            values[i] = v
        still = np.asarray(forbidden(fresh), dtype=bool)
        bad = bad[still]
    if bad.size == 0:
        return values
    raise ModelError(
        f"Could not make {n} fake '{pii_type}' values that differ from the source after "
        f"{_MAX_RETRIES} attempts; {bad.size} still clash."
    )
