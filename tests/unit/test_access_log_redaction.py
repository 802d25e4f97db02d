"""The API's access log line keeps the method, path and harmless filters, never a code or an email."""

import logging

from giftcert_services.api.access_log import ACCESS_LOGGER, RedactedAccessLog, redacted_target

CODE = "ABCDEFGHJKMN"


def test_a_code_or_an_email_in_the_query_string_is_redacted_in_any_spelling() -> None:
    for spelled in (CODE, "abcd-efgh-jkmn", "ABCD%20EFGH%20JKMN", "abcd+efgh+jkmn"):
        target = f"/v1/workspaces/w/certificates?code={spelled}&status=active&recipient_email=a%40b.example&limit=5"
        assert redacted_target(target) == (
            "/v1/workspaces/w/certificates?code=***&status=active&recipient_email=***&limit=5"
        )


def test_a_code_in_the_path_or_in_a_harmless_filter_is_redacted_but_ids_are_kept() -> None:
    certificate_id = "6f1c1f6e-8a1e-4c55-9d0e-6b2f1c3a7e21"
    assert redacted_target(f"/v1/workspaces/w/certificates/{certificate_id}") == (
        f"/v1/workspaces/w/certificates/{certificate_id}"
    )
    assert redacted_target("/v1/workspaces/w/certificates/ABCD%20EFGH%20JKMN/void") == (
        "/v1/workspaces/w/certificates/***/void"
    )
    assert redacted_target(f"/v1/workspaces/w/portal/form?segment={CODE}") == "/v1/workspaces/w/portal/form?segment=***"


def test_the_filter_rewrites_uvicorns_access_record_before_it_is_formatted() -> None:
    record = logging.LogRecord(
        ACCESS_LOGGER, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/v1/workspaces/w/certificates?code={CODE}", "1.1", 422), None,
    )
    assert RedactedAccessLog().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /v1/workspaces/w/certificates?code=*** HTTP/1.1" 422'
