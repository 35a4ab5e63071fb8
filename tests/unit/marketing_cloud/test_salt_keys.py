"""A unit's salt keys, sealed together under their customerKeys: the stored document, a key
stored before keys had names, and the problems a person is told about by field."""

from __future__ import annotations

from peoplesync.marketing_cloud import salt_keys


def test_keys_round_trip_through_their_stored_text() -> None:
    keys = {"b-key": "0x6b6579", "a.key": "0xabcd", "": "0x01"}
    text = salt_keys.to_text(keys)
    assert text is not None and salt_keys.opened(text) == keys
    assert salt_keys.to_text({}) is None
    assert salt_keys.opened(None) == {} and salt_keys.opened("") == {}


def test_a_key_stored_before_keys_had_names_is_the_unnamed_one() -> None:
    assert salt_keys.opened("0x6b657973616c74") == {"": "0x6b657973616c74"}
    # JSON that is not the document (a salt's text could parse as a number) stays one key
    assert salt_keys.opened("12345") == {"": "12345"}
    assert salt_keys.opened('{"other": 1}') == {"": '{"other": 1}'}


def test_problems_name_the_field_and_never_show_the_key() -> None:
    assert salt_keys.named_problem("sms-salt", "0x6b6579") is None
    assert salt_keys.named_problem(None, "0x6b6579") is None
    bad_name = salt_keys.named_problem("has space", "0x6b6579")
    assert bad_name is not None and bad_name.field == "salt_key_name"
    no_value = salt_keys.named_problem("sms-salt", None)
    assert no_value is not None and no_value.field == "salt_key"
    not_hex = salt_keys.named_problem("sms-salt", "0xzz-secret-zz")
    assert not_hex is not None and not_hex.field == "salt_key"
    assert "secret" not in str(not_hex)
