"""An operator's void or reactivation, from any door: decided by the ledger exactly as the `void`
or `reactivate` message would be (same inbox key, same events), a refusal raised as an error; its
`request_id` again with another certificate or reason is IdempotencyKeyReusedError."""

from giftcert.clock import Clock
from giftcert.ledger.voiding import reactivate_certificate, void_certificate
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.request_keys import bind_request_key, key_of
from giftcert.store.unit_of_work import NewPostgresUnitOfWork
from giftcert_contracts.inbound import ReactivateCertificate, VoidCertificate
from giftcert_contracts.outbound import CertificateReactivated, CertificateVoided, ReactivateRejected, VoidRejected
from giftcert_contracts.topics import Topic


async def decide_operator_command(
    command: VoidCertificate | ReactivateCertificate, new_uow: NewPostgresUnitOfWork, clock: Clock
) -> CertificateVoided | CertificateReactivated:
    topic = Topic.VOID if isinstance(command, VoidCertificate) else Topic.REACTIVATE
    await bind_request_key(new_uow, clock, key_of(command, topic, "request_id"))
    if isinstance(command, VoidCertificate):
        reply = await void_certificate(command, new_uow(), clock)
    else:
        reply = await reactivate_certificate(command, new_uow(), clock)
    if isinstance(reply, VoidRejected | ReactivateRejected):
        if reply.reason == "not_found":
            raise CertificateNotFoundError(command.workspace_id, command.certificate_id)
        raise CommandRefusedError(reply.reason, reply.detail)
    if not isinstance(reply, CertificateVoided | CertificateReactivated):
        raise TypeError(f"unexpected reply {reply.topic} to an operator's command")
    return reply
