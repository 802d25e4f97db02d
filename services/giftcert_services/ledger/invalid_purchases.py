"""A purchase request that fails validation is answered (`purchase-rejected`, `invalid`, see
libs/giftcert/ledger/purchase.py) before it goes on to the dead-letter topic like any invalid message."""

from typing import Any

from faststream import BaseMiddleware
from faststream.message import StreamMessage
from pydantic import ValidationError

from giftcert.ledger.purchase import reject_invalid_purchase
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.consumption import describe_failure


def answer_invalid_purchases(deps: Dependencies) -> type[BaseMiddleware]:
    class AnswerInvalidPurchases(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
            try:
                return await call_next(msg)
            except ValidationError as error:
                body: bytes = msg.body
                _, problems = describe_failure(error, body)
                await reject_invalid_purchase(body, problems, deps.new_uow(), deps.clock)
                raise

    return AnswerInvalidPurchases
