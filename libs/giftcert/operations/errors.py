"""Why an operator's or the portal's command was refused, whichever door it came in by. Each door
turns these into its own answer (an HTTP status, a CLI exit code); the reason codes are the
contract's where the contract names one."""


class CertificateNotFoundError(LookupError):
    def __init__(self, workspace_id: str, certificate_id: object) -> None:
        super().__init__(f"no certificate {certificate_id} in workspace {workspace_id}")


class CommandRefusedError(Exception):
    """The command is understood but the certificate's state or the workspace's rules refuse it."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
