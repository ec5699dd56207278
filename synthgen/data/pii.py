"""Direct identifiers: detect them in a column, and make format-valid fake replacements.

Direct identifiers (names, NHS numbers, e-mail addresses, ...) are never learned by a
generator. :func:`detect_pii` proposes which columns hold them, from the column name and from
the values, so that a person reviewing the schema can confirm. :func:`fake_values` makes
replacements that pass the same format checks but belong to nobody: NHS numbers come from the
``999`` test range, phone numbers from Ofcom's ranges reserved for drama, e-mail addresses use
the reserved ``example.*`` domains.

Reasons returned by :func:`detect_pii` describe patterns and shares only; they never quote a
cell value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from faker import Faker

from synthgen.errors import InputError, ModelError

__all__ = [
    "DEFAULT_HANDLING",
    "PII_TYPES",
    "PiiGuess",
    "detect_pii",
    "fake_uk_postcodes",
    "fake_values",
    "is_valid_nhs_number",
    "nhs_check_digit",
]

PII_TYPES: tuple[str, ...] = (
    "person_name",
    "email",
    "phone",
    "nhs_number",
    "us_ssn",
    "uk_postcode",
    "us_zip",
    "date_of_birth",
    "free_text",
    "row_id",
)

DEFAULT_HANDLING: dict[str, str] = {
    t: ("drop" if t in ("date_of_birth", "free_text") else "fake") for t in PII_TYPES
}

_SAMPLE_SIZE = 5_000
_VALUE_THRESHOLD = 0.90  # share of values that must match when only the values speak
_HINTED_THRESHOLD = 0.50  # ... when the column name also points at the type
_MAX_RETRIES = 25


@dataclass(frozen=True)
class PiiGuess:
    """A proposal that a column holds a direct identifier.

    Attributes:
        pii_type: one of :data:`PII_TYPES`.
        share: share of sampled non-null values that match the pattern (1.0 when the
            evidence is the column name alone, as for row ids).
        reason: plain words explaining the guess; never contains a cell value.
    """

    pii_type: str
    share: float
    reason: str


# --------------------------------------------------------------------------- NHS numbers

_NHS_WEIGHTS = np.arange(10, 1, -1)  # 10, 9, ..., 2 on the first nine digits


def nhs_check_digit(first_nine: str) -> int | None:
    """Return the NHS mod-11 check digit for nine digits, or None when it would be 10.

    Args:
        first_nine: exactly nine digits.

    Raises:
        InputError: when ``first_nine`` is not nine digits.
    """
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise InputError("An NHS number check digit needs exactly nine digits.")
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: str) -> bool:
    """Whether ``value`` is ten digits (spaces and dashes ignored) with a valid check digit."""
    if not isinstance(value, str):
        return False
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    check = nhs_check_digit(digits[:9])
    return check is not None and check == int(digits[9])


def _nhs_valid_mask(digit_strings: pd.Series) -> np.ndarray:
    """Vectorised check-digit test on a series of exactly-10-digit strings."""
    if len(digit_strings) == 0:
        return np.zeros(0, dtype=bool)
    codes = np.frombuffer("".join(digit_strings.tolist()).encode("ascii"), dtype=np.uint8)
    digits = (codes.reshape(-1, 10) - ord("0")).astype(np.int64)
    check = 11 - (digits[:, :9] @ _NHS_WEIGHTS) % 11
    check = np.where(check == 11, 0, check)
    return (check != 10) & (check == digits[:, 9])


# --------------------------------------------------------------------------- name hints


def _tokens(name: str) -> list[str]:
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    return [p.lower() for p in parts]


_NAME_QUALIFIERS = {"first", "last", "full", "patient", "given", "family", "middle", "person"}
_ID_SQUASHED = {"patientid", "recordid", "rowid", "subjectid", "personid", "participantid"}


def _hints(name: str | None) -> set[str]:
    """PII types that the column name points at."""
    if not name:
        return set()
    toks = _tokens(name)
    tokset = set(toks)
    squashed = "".join(toks)
    hints: set[str] = set()
    if tokset & {"forename", "surname", "firstname", "lastname", "fullname", "patientname"}:
        hints.add("person_name")
    if "name" in tokset and (len(toks) == 1 or tokset & _NAME_QUALIFIERS):
        hints.add("person_name")
    if tokset & {"email", "mail"} or "e-mail" in name.lower():
        hints.add("email")
    if tokset & {"phone", "tel", "telephone", "mobile", "cell", "fax", "phonenumber"}:
        hints.add("phone")
    if "nhs" in tokset or "nhsnumber" in squashed:
        hints.add("nhs_number")
    if "ssn" in tokset or "socialsecurity" in squashed:
        hints.add("us_ssn")
    if "postcode" in tokset or "postcode" in squashed:
        hints.add("uk_postcode")
    if tokset & {"zip", "zipcode", "postal"}:
        hints.add("us_zip")
    if tokset & {"dob", "birthdate", "dateofbirth"} or "dateofbirth" in squashed:
        hints.add("date_of_birth")
    if "birth" in tokset and tokset & {"date", "day", "dt"}:
        hints.add("date_of_birth")
    if tokset & {"note", "notes", "comment", "comments", "text", "narrative", "freetext"}:
        hints.add("free_text")
    if (toks and toks[-1] in {"id", "uuid", "guid", "mrn", "identifier"}) or (
        squashed in _ID_SQUASHED
    ):
        hints.add("row_id")
    return hints


# --------------------------------------------------------------------------- patterns

_EMAIL_RE = r"^[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$"
_NHS_RE = r"^\d{3}[ \-]?\d{3}[ \-]?\d{4}$"
_SSN_RE = r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$"
_SSN_BARE_RE = r"^(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}$"
_PHONE_CHARS_RE = r"^\+?[\d\s\-().]+$"
_UK_PHONE_RE = r"^(?:\+44|0044|0)[1237]\d{8,9}$"  # after removing separators
_US_PHONE_RE = r"^(?:\+?1)?[2-9]\d{2}[2-9]\d{6}$"
_SEPARATOR_RE = r"[\s\-().]|^\+"
_UK_POSTCODE_RE = (
    r"^(?:GIR ?0AA|[A-PR-UWYZ](?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRV-Y])"
    r" ?\d[ABD-HJLNP-UW-Z]{2})$"
)
_US_ZIP_RE = r"^\d{5}(?:-\d{4})?$"
_NAME_RE = r"^[A-Z][A-Za-z'\-]*[a-z](?: [A-Z][A-Za-z'\-]*[a-z]){1,2}$"
_LOOSE_NAME_RE = r"^[A-Za-z][A-Za-z'\-. ]*$"
# Words that make a capitalised phrase a place or an organisation rather than a person.
_NOT_A_PERSON_RE = (
    r"\b(?:North|South|East|West|Midlands|Yorkshire|Humber|England|Scotland|Wales|London|"
    r"Street|Road|Lane|Avenue|Medical|Centre|Center|Surgery|Practice|Hospital|Clinic|"
    r"Health|Group|Trust|Ltd|Limited|The|And|Of|Other|Unknown|Not|None|New|York)\b"
)
_ISO_DATE_RE = r"^\d{4}-\d{2}-\d{2}"
_CODE_RE = r"^[A-Za-z0-9_\-]+$"


def _pct(share: float) -> str:
    return f"{share:.0%}"


def _sample(values: pd.Series) -> pd.Series:
    """Evenly spaced positions: deterministic and covers the whole column."""
    if len(values) <= _SAMPLE_SIZE:
        return values
    idx = np.linspace(0, len(values) - 1, _SAMPLE_SIZE).round().astype(np.int64)
    return values.iloc[idx]


def _share(mask: pd.Series | np.ndarray) -> float:
    arr = np.asarray(mask, dtype=bool)
    return float(arr.mean()) if arr.size else 0.0


def _threshold(pii_type: str, hints: set[str]) -> float:
    return _HINTED_THRESHOLD if pii_type in hints else _VALUE_THRESHOLD


def _hint_note(pii_type: str, hints: set[str]) -> str:
    return " and the column name suggests it" if pii_type in hints else ""


# --------------------------------------------------------------------------- detection


def detect_pii(series: pd.Series, *, name: str | None = None) -> PiiGuess | None:
    """Guess whether a column holds a direct identifier, and of which type.

    Both the column name and up to 5,000 evenly spaced non-null values are used. Value-based
    detection needs at least 90% of sampled values to match (50% when the column name also
    points at that type).

    Args:
        series: the column.
        name: the column name; defaults to ``series.name``.

    Returns:
        A :class:`PiiGuess`, or None when nothing suggests a direct identifier.
    """
    if name is None and series.name is not None:
        name = str(series.name)
    hints = _hints(name)
    values = series.dropna()
    if len(values) == 0:
        return None
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if "date_of_birth" in hints:
            return PiiGuess(
                "date_of_birth", 1.0, "the column holds dates and its name suggests birth dates"
            )
        return None
    if pd.api.types.is_numeric_dtype(dtype):
        return _detect_numeric(values, hints)
    return _detect_text(values.astype(str).str.strip(), hints)


def _detect_numeric(values: pd.Series, hints: set[str]) -> PiiGuess | None:
    arr = values.to_numpy()
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            return None
        if np.abs(arr).max() > 2**62:
            return None
        arr = arr.astype(np.int64)
    elif not np.issubdtype(arr.dtype, np.integer):
        return None
    ints = pd.Series(arr.astype(np.int64))
    sample = _sample(ints)

    ten = (sample >= 10**9) & (sample < 10**10)
    if _share(ten) >= _threshold("nhs_number", hints):
        valid = np.zeros(len(sample), dtype=bool)
        valid[ten.to_numpy()] = _nhs_valid_mask(sample[ten].astype(str))
        share = _share(valid)
        if share >= _threshold("nhs_number", hints):
            return PiiGuess(
                "nhs_number",
                share,
                f"{_pct(share)} of values are 10-digit numbers with a valid NHS mod-11 check "
                f"digit{_hint_note('nhs_number', hints)}",
            )
    if "us_ssn" in hints:
        padded = sample.astype(str).str.zfill(9)
        share = _share((sample > 0) & padded.str.match(_SSN_BARE_RE))
        if share >= _HINTED_THRESHOLD:
            return PiiGuess(
                "us_ssn",
                share,
                f"{_pct(share)} of values are 9-digit numbers with valid SSN area, group and "
                "serial parts and the column name suggests social security numbers",
            )
    if "us_zip" in hints:
        share = _share((sample >= 501) & (sample <= 99999))
        if share >= _HINTED_THRESHOLD:
            return PiiGuess(
                "us_zip",
                share,
                f"{_pct(share)} of values are numbers in the US ZIP code range and the column "
                "name suggests ZIP codes",
            )
    if len(ints) >= 2 and ints.is_unique:
        if "row_id" in hints:
            return PiiGuess(
                "row_id", 1.0, "every value is unique and the column name suggests a row id"
            )
        if len(ints) >= 10 and ints.is_monotonic_increasing:
            return PiiGuess(
                "row_id", 1.0, "every value is a unique integer and the values rise row by row"
            )
    return None


def _detect_text(text: pd.Series, hints: set[str]) -> PiiGuess | None:
    sample = _sample(text)
    n = len(sample)

    share = _share(sample.str.match(_EMAIL_RE))
    if share >= _threshold("email", hints):
        return PiiGuess(
            "email",
            share,
            f"{_pct(share)} of values are shaped like e-mail addresses{_hint_note('email', hints)}",
        )

    nhs_shaped = sample.str.match(_NHS_RE).to_numpy(dtype=bool)
    if _share(nhs_shaped) >= _threshold("nhs_number", hints):
        digits = sample[nhs_shaped].str.replace(r"[ \-]", "", regex=True)
        valid = np.zeros(n, dtype=bool)
        valid[nhs_shaped] = _nhs_valid_mask(digits)
        share = _share(valid)
        if share >= _threshold("nhs_number", hints):
            return PiiGuess(
                "nhs_number",
                share,
                f"{_pct(share)} of values are 10-digit numbers with a valid NHS mod-11 check "
                f"digit{_hint_note('nhs_number', hints)}",
            )

    ssn = sample.str.match(_SSN_RE)
    if "us_ssn" in hints:
        ssn = ssn | sample.str.match(_SSN_BARE_RE)
    share = _share(ssn)
    if share >= _threshold("us_ssn", hints):
        return PiiGuess(
            "us_ssn",
            share,
            f"{_pct(share)} of values have the US social security number format with valid "
            f"area, group and serial parts{_hint_note('us_ssn', hints)}",
        )

    share = _phone_share(sample, "phone" in hints)
    if share >= _threshold("phone", hints):
        return PiiGuess(
            "phone",
            share,
            f"{_pct(share)} of values are shaped like UK or US telephone numbers"
            f"{_hint_note('phone', hints)}",
        )

    share = _share(sample.str.match(_UK_POSTCODE_RE, case=False))
    if share >= _threshold("uk_postcode", hints):
        return PiiGuess(
            "uk_postcode",
            share,
            f"{_pct(share)} of values have the UK postcode format"
            f"{_hint_note('uk_postcode', hints)}",
        )

    if "us_zip" in hints:
        share = _share(sample.str.match(_US_ZIP_RE))
        if share >= _HINTED_THRESHOLD:
            return PiiGuess(
                "us_zip",
                share,
                f"{_pct(share)} of values are 5-digit or ZIP+4 codes and the column name "
                "suggests ZIP codes",
            )

    if "date_of_birth" in hints:
        share = _date_share(sample)
        if share >= _HINTED_THRESHOLD:
            return PiiGuess(
                "date_of_birth",
                share,
                f"{_pct(share)} of values parse as dates and the column name suggests birth dates",
            )

    unique_ratio = sample.nunique() / n
    if "person_name" in hints:
        share = _share(sample.str.match(_LOOSE_NAME_RE))
        if share >= _HINTED_THRESHOLD:
            return PiiGuess(
                "person_name",
                share,
                f"{_pct(share)} of values are alphabetic words and the column name suggests "
                "person names",
            )
    elif unique_ratio > 0.5:
        named = sample.str.match(_NAME_RE)
        share = _share(named)
        if share >= _VALUE_THRESHOLD:
            placey = _share(sample.str.contains(_NOT_A_PERSON_RE, case=False, regex=True))
            if placey <= 0.10:
                return PiiGuess(
                    "person_name",
                    share,
                    f"{_pct(share)} of values are two or three capitalised words and "
                    f"{_pct(unique_ratio)} of them are distinct, as person names are",
                )

    lengths = sample.str.len()
    words = sample.str.count(r"\S+")
    if lengths.mean() > 40 and words.mean() >= 5 and (unique_ratio > 0.5 or "free_text" in hints):
        share = _share(words >= 3)
        return PiiGuess(
            "free_text",
            share,
            f"values are free text: on average {lengths.mean():.0f} characters and "
            f"{words.mean():.1f} words, {_pct(unique_ratio)} distinct",
        )

    if len(text) >= 2 and text.is_unique:
        if "row_id" in hints:
            return PiiGuess(
                "row_id", 1.0, "every value is unique and the column name suggests a row id"
            )
        if len(text) >= 10:
            numeric = pd.to_numeric(text, errors="coerce")
            if numeric.notna().all() and (numeric == numeric.round()).all():
                if numeric.is_monotonic_increasing:
                    return PiiGuess(
                        "row_id",
                        1.0,
                        "every value is a unique integer and the values rise row by row",
                    )
                return None
            same_length = sample.str.len().nunique() == 1 and lengths.iloc[0] >= 3
            if (
                same_length
                and _share(sample.str.match(_CODE_RE)) == 1.0
                and _share(sample.str.match(_ISO_DATE_RE)) < 0.5
            ):
                return PiiGuess(
                    "row_id",
                    1.0,
                    "every value is a distinct code of the same length, one per row",
                )
    return None


def _phone_share(sample: pd.Series, hinted: bool) -> float:
    allowed = sample.str.match(_PHONE_CHARS_RE)
    if _share(allowed) < _HINTED_THRESHOLD:
        return 0.0
    stripped = sample.str.replace(r"[\s\-().]", "", regex=True)
    uk = stripped.str.match(_UK_PHONE_RE)
    us = stripped.str.match(_US_PHONE_RE)
    if not hinted:
        # Bare 10-digit numbers are too ambiguous without separators or a name hint.
        us = us & sample.str.contains(_SEPARATOR_RE, regex=True)
    return _share(allowed & (uk | us))


def _date_share(sample: pd.Series) -> float:
    best = 0.0
    for kwargs in ({"format": "ISO8601"}, {"format": "mixed", "dayfirst": True}):
        try:
            parsed = pd.to_datetime(sample, errors="coerce", **kwargs)
        except (ValueError, TypeError):
            continue
        best = max(best, _share(parsed.notna()))
        if best >= _VALUE_THRESHOLD:
            break
    return best


# --------------------------------------------------------------------------- fake values

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
