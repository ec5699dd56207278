"""Direct identifiers: detect them in a column.

Direct identifiers (names, NHS numbers, e-mail addresses, ...) are never learned by a
generator. :func:`detect_pii` proposes which columns hold them, from the column name and from
the values, so that a person reviewing the schema can confirm. Their fake replacements are made
by :mod:`synthgen.data.fakes`.

Reasons returned by :func:`detect_pii` describe patterns and shares only; they never quote a
cell value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.errors import InputError

__all__ = [
    "DEFAULT_HANDLING",
    "PII_TYPES",
    "PiiGuess",
    "detect_pii",
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
