"""Certificates in memory (giftcert.store.certificates). Locks are no-ops: a fake unit of work
works alone on its own copy. Codes are unique per workspace, as the table's constraint makes them."""

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from uuid import UUID

from giftcert.domain.certificate import Certificate, Status
from tests.fakes.state import Transaction, as_stored, violation


class FakeCertificateRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, certificate: Certificate) -> None:
        rows = self._tx.state.certificates
        if certificate.id in rows:
            raise violation("certificates_pkey", f"certificate {certificate.id} exists")
        self._check_code_is_free(certificate)
        rows[certificate.id] = as_stored(certificate)

    async def save(self, *changed: Certificate) -> None:
        """UPDATEs by id: a certificate that is not stored is not saved, silently."""
        rows = self._tx.state.certificates
        for certificate in changed:
            if certificate.id in rows:
                self._check_code_is_free(certificate)
                rows[certificate.id] = as_stored(certificate)

    def _check_code_is_free(self, certificate: Certificate) -> None:
        """The unique (workspace_id, code) constraint."""
        if any(
            c.id != certificate.id and c.workspace_id == certificate.workspace_id and c.code == certificate.code
            for c in self._tx.state.certificates.values()
        ):
            raise violation("certificates_workspace_code_key", "the code is taken in this workspace")

    async def get(self, workspace_id: str, certificate_id: UUID, *, lock: bool = False) -> Certificate | None:
        del lock
        certificate = self._tx.state.certificates.get(certificate_id)
        return certificate if certificate is not None and certificate.workspace_id == workspace_id else None

    async def exists_anywhere(self, certificate_id: UUID) -> bool:
        return certificate_id in self._tx.state.certificates

    async def code_taken(self, workspace_id: str, code: str) -> bool:
        return await self.get_by_code(workspace_id, code) is not None

    async def get_by_code(self, workspace_id: str, code: str, *, lock: bool = False) -> Certificate | None:
        """`code` is the normalized code (the caller normalizes what a customer typed); it is
        compared as stored, exactly as the SQL equality does."""
        del lock
        return next(
            (c for c in self._tx.state.certificates.values() if c.workspace_id == workspace_id and c.code == code),
            None,
        )

    async def get_many(self, certificate_ids: Collection[UUID], *, lock: bool = False) -> dict[UUID, Certificate]:
        del lock
        rows = self._tx.state.certificates
        return {i: rows[i] for i in certificate_ids if i in rows}

    async def get_many_by_code(
        self, codes: Collection[tuple[str, str]], *, lock: bool = False
    ) -> dict[tuple[str, str], Certificate]:
        del lock
        wanted = set(codes)
        return {
            (c.workspace_id, c.code): c
            for c in self._tx.state.certificates.values()
            if (c.workspace_id, c.code) in wanted
        }

    async def lock_expired(
        self, workspace_id: str, now: datetime, limit: int, *, skip_locked: bool = True
    ) -> Sequence[Certificate]:
        del skip_locked  # nothing holds a row in memory: there is nothing to skip or wait for
        held = {h.certificate_id for h in self._tx.state.holds.values() if h.is_live(now)}
        return self._active(
            workspace_id, limit, lambda c: c.expires_at is not None and c.expires_at <= now and c.id not in held
        )

    async def lock_expiring_soon(
        self, workspace_id: str, now: datetime, horizon: datetime, limit: int, *, skip_locked: bool = True
    ) -> Sequence[Certificate]:
        del skip_locked  # as in lock_expired
        return self._active(
            workspace_id,
            limit,
            lambda c: c.expires_at is not None
            and now < c.expires_at <= horizon
            and c.expiring_soon_notified_at is None,
        )

    def _active(self, workspace_id: str, limit: int, matches: Callable[[Certificate], bool]) -> list[Certificate]:
        """Active certificates of a workspace that match, soonest expiry first, then in primary-key
        order (UUIDs order as PostgreSQL orders them: by their 128-bit value)."""
        found = sorted(
            (
                c
                for c in self._tx.state.certificates.values()
                if c.workspace_id == workspace_id and c.status is Status.ACTIVE and matches(c)
            ),
            key=lambda c: (c.expires_at, c.id),
        )
        return found[:limit]
