"""The HTTP door's booking requests, as pure rules: the body a contract command becomes, and whether
a stored decision can be a request's own (what tells a Kafka-first key's other request apart)."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from giftcert.operations.booking import decision_is_of
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.money import Money
from giftcert_contracts.outbound import CertificateRedeemed, RedemptionRejected
from giftcert_services.api.booking_routes import body_model

NOW = datetime(2026, 12, 7, tzinfo=UTC)
EUR_50 = {"minor": 5000, "currency": "EUR"}


def _redeem(**changes: object) -> RedeemCertificate:
    fields = {"workspace_id": "w", "request_id": uuid4(), "order_id": "o-1", "code": "abcd-efgh-jkmn",
              "order_total": EUR_50, "requested_at": NOW} | changes
    return RedeemCertificate.model_validate(fields)


def _redeemed(command: RedeemCertificate, **changes: object) -> CertificateRedeemed:
    fields = {"event_id": uuid4(), "occurred_at": NOW, "workspace_id": "w", "request_id": command.request_id,
              "order_id": command.order_id, "certificate_id": uuid4(), "code_last4": "JKMN",
              "amount_applied": Money(minor=5000, currency="EUR"), "redeemed_at": NOW} | changes
    return CertificateRedeemed.model_validate(fields)


def test_the_body_is_the_contract_command_without_its_workspace_and_with_its_key_and_time_optional() -> None:
    body = body_model(RedeemCertificate)
    assert set(body.model_fields) == set(RedeemCertificate.model_fields) - {"workspace_id"}
    assert not body.model_fields["request_id"].is_required()
    assert not body.model_fields["requested_at"].is_required()
    assert body.model_fields["order_id"].is_required()
    with pytest.raises(ValidationError):
        body.model_validate({"order_id": "o", "code": "c", "order_total": EUR_50, "workspace_id": "other"})
    with pytest.raises(ValidationError):
        body.model_validate({"order_id": "o", "code": "", "order_total": EUR_50})  # the contract's own rules


def test_a_stored_decision_is_the_requests_own_when_what_it_names_agrees() -> None:
    command = _redeem()
    assert decision_is_of(command, _redeemed(command))
    assert decision_is_of(command.model_copy(update={"code": "ABCDEFGHJKMN"}), _redeemed(command))


def test_a_stored_decision_of_another_order_or_code_is_not_the_requests() -> None:
    command = _redeem()
    assert not decision_is_of(command, _redeemed(command, order_id="o-2"))
    assert not decision_is_of(command, _redeemed(command, code_last4="WXYZ"))
    rejected = RedemptionRejected(event_id=uuid4(), occurred_at=NOW, workspace_id="w", request_id=command.request_id,
                                  order_id="o-2", reason="not_found", detail="no certificate matches this code")
    assert not decision_is_of(command, rejected)
    assert decision_is_of(command, rejected.model_copy(update={"order_id": "o-1"}))
