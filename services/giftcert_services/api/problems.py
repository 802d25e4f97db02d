"""Every refusal is a JSON body `{"error": {"code": ..., "detail": ...}}` with a 4xx status, never
a 500: the operations layer's errors map to statuses here, in one place."""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from giftcert.delivery.pdf import DocumentNotAvailableError, UnknownCertificateError
from giftcert.delivery.resend import CertificateNotSendableError
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.search import InvalidCursorError


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "detail": detail, **extra}}


def _respond(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(code, detail, **extra), status_code=status, headers=headers)


_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return _respond(error.status, error.code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": ".".join(str(p) for p in problem["loc"]), "message": problem["msg"]}
            for problem in error.errors()
        ]
        detail = "the request does not follow the API's rules"
        if any(tuple(problem["loc"]) == ("query", "code") for problem in error.errors()):
            detail = "a code never travels in a URL: search by code with POST .../certificates/search"
        return _respond(422, "invalid", detail, problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "http_error")
        return _respond(error.status_code, code, str(error.detail), error.headers)

    @app.exception_handler(CertificateNotFoundError)
    @app.exception_handler(UnknownCertificateError)
    async def not_found(_: Request, error: LookupError) -> JSONResponse:
        return _respond(404, "not_found", str(error.args[0]) if error.args else "not found")

    @app.exception_handler(CommandRefusedError)
    async def refused(_: Request, error: CommandRefusedError) -> JSONResponse:
        return _respond(409, error.reason, error.detail)

    @app.exception_handler(DocumentNotAvailableError)
    @app.exception_handler(CertificateNotSendableError)
    async def not_available(_: Request, error: Exception) -> JSONResponse:
        return _respond(409, "not_available", str(error))

    @app.exception_handler(InvalidCursorError)
    async def bad_cursor(_: Request, error: InvalidCursorError) -> JSONResponse:
        return _respond(422, "invalid", str(error))
