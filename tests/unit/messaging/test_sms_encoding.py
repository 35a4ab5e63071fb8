"""SMS encoding and part counts: GSM-7 with shift tables, UCS-2, and where parts are cut."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peoplesync.messaging.channels.gsm_tables import (
    DEFAULT_ALPHABET,
    DEFAULT_EXTENSION,
    LOCKING_SHIFT,
    SINGLE_SHIFT,
    NationalLanguage,
)
from peoplesync.messaging.channels.sms_encoding import (
    DEFAULT,
    Alphabet,
    Scheme,
    candidate_alphabets,
    decode_septets,
    encode_septets,
    plan_sms,
    septet_costs,
    utf16_units,
)

GSM_CHARS = sorted(set(DEFAULT_ALPHABET) | set(DEFAULT_EXTENSION))
ALL_ALPHABETS = candidate_alphabets("AUTODETECT")


def test_plain_text_fits_one_part_up_to_160_septets() -> None:
    assert plan_sms("a" * 160).part_count == 1
    plan = plan_sms("a" * 161)
    assert (plan.scheme, plan.part_count, plan.units) == (Scheme.GSM7, 2, 161)
    assert [len(part) for part in plan.parts] == [153, 8]


def test_extension_characters_cost_two_septets() -> None:
    plan = plan_sms("€" * 80)
    assert (plan.units, plan.part_count) == (160, 1)
    assert plan_sms("€" * 80 + "a").part_count == 2


def test_an_escape_pair_is_never_split_across_parts() -> None:
    plan = plan_sms("a" * 152 + "€" + "b" * 10)
    assert plan.parts[0] == "a" * 152  # 152 + 2 septets would overflow the 153 of a part
    assert plan.parts[1].startswith("€")


def test_one_character_outside_gsm_makes_the_whole_message_ucs2() -> None:
    plan = plan_sms("Hello “world”")
    assert plan.scheme is Scheme.UCS2
    assert plan.units == 13
    assert plan_sms("x" * 69 + "…").part_count == 1
    long = plan_sms("x" * 70 + "…")
    assert [len(part) for part in long.parts] == [67, 4]


@pytest.mark.parametrize("trap", ["`", "¢", "‘", "’", "–", "—", "…", "ç"])
def test_common_copy_paste_traps_are_not_gsm(trap: str) -> None:
    assert plan_sms(f"price {trap}").scheme is Scheme.UCS2


def test_capital_c_cedilla_and_dollar_are_basic() -> None:
    plan = plan_sms("Ç$¤")
    assert (plan.scheme, plan.units) == (Scheme.GSM7, 3)


def test_emoji_counts_two_units_and_is_never_split() -> None:
    text = "a" * 66 + "😀" + "b"
    plan = plan_sms(text)
    assert (plan.scheme, plan.units, plan.part_count) == (Scheme.UCS2, 69, 1)
    split = plan_sms("a" * 66 + "😀" + "b" * 10)
    assert split.parts[0] == "a" * 66
    assert split.parts[1].startswith("😀")


def test_spanish_single_shift_costs_two_and_shrinks_the_part() -> None:
    text = "Ú" * 3 + "a" * 149
    plan = plan_sms(text, "ES")
    assert plan.alphabet == Alphabet(NationalLanguage.SPANISH, single_shift=True)
    assert (plan.scheme, plan.units, plan.part_count) == (Scheme.GSM7, 155, 1)
    assert plan_sms(text + "a", "ES").part_count == 2
    assert plan_sms(text).scheme is Scheme.UCS2  # without the language: UCS-2


def test_turkish_locking_shift_keeps_turkish_letters_at_one_septet() -> None:
    text = "ğüşıöç" * 20
    plan = plan_sms(text, "TR")
    assert plan.scheme is Scheme.GSM7
    assert plan.alphabet is not None
    assert plan.alphabet.locking_shift
    assert plan.units == 120
    assert plan.part_count == 1


def test_portuguese_with_both_tables_uses_152_and_146_septet_parts() -> None:
    both = Alphabet(NationalLanguage.PORTUGUESE, single_shift=True, locking_shift=True)
    assert both.capacity(concatenated=False) == 152
    assert both.capacity(concatenated=True) == 146
    one = Alphabet(NationalLanguage.PORTUGUESE, locking_shift=True)
    assert (one.capacity(concatenated=False), one.capacity(concatenated=True)) == (155, 149)
    assert (DEFAULT.capacity(concatenated=False), DEFAULT.capacity(concatenated=True)) == (160, 153)


def test_default_alphabet_wins_a_tie_and_autodetect_finds_the_language() -> None:
    assert plan_sms("plain text", "AUTODETECT").alphabet == DEFAULT
    plan = plan_sms("Çok güzel, teşekkürler İstanbul", "AUTODETECT")
    assert plan.scheme is Scheme.GSM7
    assert plan.alphabet is not None
    assert plan.alphabet.language is NationalLanguage.TURKISH


def test_an_unknown_language_code_is_refused() -> None:
    with pytest.raises(ValueError, match="XX"):
        plan_sms("hi", "XX")


def test_empty_text_has_no_parts() -> None:
    assert plan_sms("").part_count == 0


def test_national_tables_have_their_sizes() -> None:
    assert set(LOCKING_SHIFT) == {NationalLanguage.TURKISH, NationalLanguage.PORTUGUESE}
    assert set(SINGLE_SHIFT) == set(NationalLanguage)
    for table in LOCKING_SHIFT.values():
        assert len(table) == 127  # 128 positions less the escape
    assert len(DEFAULT_ALPHABET) == 127


@settings(deadline=None)  # no time limit: a loaded CI machine is slow, not wrong
@given(st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=600))
def test_gsm_text_round_trips_through_septets(text: str) -> None:
    encoded = encode_septets(text, DEFAULT)
    assert decode_septets(encoded, DEFAULT) == text
    costs = septet_costs(text, DEFAULT)
    assert costs is not None
    assert len(encoded) == sum(costs)


@settings(deadline=None)  # no time limit: a loaded CI machine is slow, not wrong
@given(st.sampled_from(ALL_ALPHABETS), st.data())
def test_every_alphabet_round_trips(alphabet: Alphabet, data: st.DataObject) -> None:
    chars = sorted(set(alphabet.basic) | set(alphabet.extension))
    text = data.draw(st.text(alphabet=st.sampled_from(chars), max_size=400))
    assert decode_septets(encode_septets(text, alphabet), alphabet) == text


@settings(deadline=None)  # no time limit: a loaded CI machine is slow, not wrong
@given(st.text(max_size=800), st.sampled_from([None, "TR", "ES", "PT", "AUTODETECT"]))
def test_parts_rebuild_the_text_and_each_fits_its_capacity(text: str, language: str | None) -> None:
    plan = plan_sms(text, language)
    assert "".join(plan.parts) == text
    if plan.scheme is Scheme.UCS2:
        assert plan.units == utf16_units(text)
        limit = 70 if plan.part_count == 1 else 67
        assert all(utf16_units(part) <= limit for part in plan.parts)
    else:
        assert plan.alphabet is not None
        concatenated = plan.part_count > 1
        limit = plan.alphabet.capacity(concatenated=concatenated)
        for part in plan.parts:
            costs = septet_costs(part, plan.alphabet)
            assert costs is not None
            assert sum(costs) <= limit
    # No cheaper GSM-7 alphabet was left out.
    for alphabet in candidate_alphabets(language):
        costs = septet_costs(text, alphabet)
        if costs is not None:
            assert plan.scheme is Scheme.GSM7
            other = plan_sms(text, None) if alphabet == DEFAULT else None
            if other is not None:
                assert plan.part_count <= other.part_count


@settings(deadline=None)  # no time limit: a loaded CI machine is slow, not wrong
@given(st.text(max_size=2000))
def test_parts_are_as_few_as_the_greedy_bound(text: str) -> None:
    plan = plan_sms(text)
    if plan.part_count > 1:
        per_part = 67 if plan.scheme is Scheme.UCS2 else 153
        # Greedy filling loses at most one unit per part (a 2-unit character at the end).
        assert plan.part_count <= -(-plan.units // (per_part - 1))
