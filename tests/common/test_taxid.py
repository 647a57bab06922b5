"""The existing taxid module against the vectors of domain/einvoice.md section 2."""

from __future__ import annotations

import pytest

from invoiceportal.common.taxid import (
    USCC_ALPHABET,
    TaxIdForm,
    classify_tax_id,
    is_valid_personal_id,
    is_valid_uscc,
    uscc_check_char,
)

VALID_USCC = [
    "914403001922038216",  # Huawei
    "91110108551385082Q",  # Xiaomi
    "9111000071093123XX",  # State Grid
    "11100000MB1789023A",  # Supreme People's Court
    "71310106424845496E",  # Jing'an Temple
    "91110108690017781B",  # a Beijing software company, real 数电专票
    "914400007556190127",  # China Mobile Guangdong
    "92522726MA7GNHJ07M",  # an individual business
]
INVALID_USCC = [
    "91500102563638729E",  # check character
    "9150010807MGZHI002",  # forbidden letters I and Z
    "91110108717809965C",  # check character
]


@pytest.mark.parametrize("value", VALID_USCC)
def test_valid_uscc_vectors(value: str) -> None:
    assert is_valid_uscc(value)
    assert classify_tax_id(value) is TaxIdForm.USCC


@pytest.mark.parametrize("value", VALID_USCC)
def test_lower_case_and_spaces_are_tolerated(value: str) -> None:
    assert is_valid_uscc(f" {value.lower()} ")


@pytest.mark.parametrize("value", INVALID_USCC)
def test_invalid_uscc_vectors(value: str) -> None:
    assert not is_valid_uscc(value)
    assert classify_tax_id(value) is TaxIdForm.INVALID


@pytest.mark.parametrize("value", VALID_USCC)
def test_every_other_check_character_fails(value: str) -> None:
    wrong = [c for c in USCC_ALPHABET if c != value[17]]
    assert uscc_check_char(value[:17]) == value[17]
    assert not any(is_valid_uscc(value[:17] + c) for c in wrong)


@pytest.mark.parametrize("value", VALID_USCC)
def test_a_single_changed_character_is_caught(value: str) -> None:
    for position in range(17):
        for c in USCC_ALPHABET:
            if c == value[position]:
                continue
            changed = value[:position] + c + value[position + 1 :]
            assert not is_valid_uscc(changed), changed


def test_first_two_characters_are_not_whitelisted() -> None:
    starts = {v[:2] for v in VALID_USCC}
    assert {"71", "11", "92", "91"} <= starts


def test_personal_id_card_numbers() -> None:
    # GB 11643 sample number; the check digit is computed by ISO 7064 MOD 11-2.
    assert is_valid_personal_id("11010519491231002X")
    assert classify_tax_id("11010519491231002X") is TaxIdForm.PERSONAL_ID
    assert not is_valid_personal_id("110105194912310021")


@pytest.mark.parametrize(
    "value",
    ["110108551385082", "11010855138508212", "11010519491231002X12"],
)
def test_older_forms_are_legacy(value: str) -> None:
    assert classify_tax_id(value) is TaxIdForm.LEGACY


@pytest.mark.parametrize("value", ["", "123", "ABC", "91110108551385082"[:16]])
def test_garbage_is_invalid(value: str) -> None:
    assert classify_tax_id(value) is TaxIdForm.INVALID


# --- what python-stdnum adds (issue 14) ----------------------------------------------


def _with_check(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def test_a_division_code_with_letters_is_not_a_uscc() -> None:
    # The checksum passes, but chars 3-8 are a GB/T 2260 division: digits only.
    value = _with_check("911101AB551385082")
    assert not is_valid_uscc(value)
    assert classify_tax_id(value) is TaxIdForm.INVALID


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_letter_registration_authorities_are_uscc(authority: str) -> None:
    value = _with_check(f"{authority}1110108MA0K1XY3R")
    assert is_valid_uscc(value)
    assert not is_valid_uscc(value[:17] + ("0" if value[17] != "0" else "1"))


def test_uscc_check_char_refuses_what_is_not_17_alphabet_characters() -> None:
    for bad in ("9111010855138508", "911101085513850821", "91110108551385O82"):
        with pytest.raises(ValueError):
            uscc_check_char(bad)


def _personal(first17: str) -> str:
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


def test_a_personal_id_with_an_impossible_birth_date_is_invalid() -> None:
    value = _personal("11010519491331002")  # 31st day of a 13th month
    assert not is_valid_personal_id(value)
    assert classify_tax_id(value) is TaxIdForm.INVALID


def test_a_personal_id_with_an_unknown_division_is_invalid() -> None:
    value = _personal("00000019491231002")
    assert not is_valid_personal_id(value)
    assert classify_tax_id(value) is TaxIdForm.INVALID


def test_a_personal_id_is_read_in_lower_case_and_with_spaces() -> None:
    assert is_valid_personal_id(" 11010519491231002x ")
