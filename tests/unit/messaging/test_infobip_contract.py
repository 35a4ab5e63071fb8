"""The contract checker itself: it catches what it should, and its exceptions are real."""

from __future__ import annotations

from tests.infobip_contract import KNOWN_DEFECTS, request_errors, request_examples


def test_discriminated_content_is_checked_against_its_own_schema() -> None:
    text_without_text = {
        "messages": [{"sender": "s", "destinations": [{"to": "1"}], "content": {"type": "TEXT"}}]
    }
    assert any(
        "'text' is a required property" in e
        for e in request_errors("/viber/2/messages", text_without_text)
    )
    long_code = {
        "messages": [
            {
                "sender": "s",
                "destinations": [{"to": "1"}],
                "content": {"type": "TEMPLATE", "templateCode": "x" * 31, "text": "t"},
            }
        ]
    }
    assert any("too long" in e for e in request_errors("/kakao-alim/1/messages", long_code))


def test_known_defects_are_broken_by_the_documents_own_examples() -> None:
    for path, defects in KNOWN_DEFECTS.items():
        examples = request_examples(path)
        strict = [request_errors(path, body, strict=True) for body in examples.values()]
        for defect in defects:
            assert any(defect in error for errors in strict for error in errors), (path, defect)
        assert all(request_errors(path, body) == [] for body in examples.values())


# Examples in the documents that break their own schema (a value over its maxLength, a
# string where the schema says object): the checker is right to refuse them.
BROKEN_EXAMPLES = {
    ("/kakao-chingu/1/messages", "Send a free form item list brand message"),
    ("/kakao-chingu/1/messages", "Send a carousel free form brand message"),
    ("/rcs/2/messages", "Text with different types of suggestions"),
    ("/whatsapp/1/message/template", "Flow button with flow token and data template message"),
}


def test_every_send_endpoints_own_examples_pass_the_checker() -> None:
    from peoplesync.messaging.providers.infobip.requests import PATHS

    for path in set(PATHS.values()):
        for title, body in request_examples(path).items():
            errors = request_errors(path, body)
            if (path, title) in BROKEN_EXAMPLES:
                assert errors, (path, title)
            else:
                assert errors == [], (path, title)
