"""The refusals routes document in the OpenAPI document, shared so each is worded once."""

from typing import Any

Responses = dict[int | str, dict[str, Any]]

REFUSALS: Responses = {
    401: {"description": "No API key, or an unknown or revoked one."},
    403: {"description": "A key of another workspace, or of too small a scope."},
}
NOT_FOUND: Responses = {404: {"description": "No such certificate in this workspace."}}
CONFLICT: Responses = {409: {"description": "The certificate's state or the workspace's rules refuse this; "
                                            "`error.code` says why."}}
INCONSISTENT: Responses = {422: {"description": "The values break a rule (e.g. the minimum above the maximum)."}}
KEYED: Responses = {
    409: {"description": "Refused by the certificate's state or the workspace's rules (`error.code` says why), "
                         "or `idempotency_key_reused`: the key came before with another body."},
    422: {"description": "An invalid body; `idempotency_key_mismatch`: the Idempotency-Key header and the "
                         "body's key differ."},
}
KEY_REUSED: Responses = {
    409: {"description": "`idempotency_key_reused`: the Idempotency-Key came before with another body."},
}
