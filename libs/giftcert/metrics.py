"""The service's own Prometheus metrics, defined once. Every process has the default registry; a
process that serves HTTP exposes it (the `/metrics` endpoint comes with the operations work)."""

from prometheus_client import Counter

REDEMPTIONS_THROTTLED = Counter(
    "giftcert_redemptions_throttled",
    "Redemption attempts refused as too_many_attempts before any certificate was looked up, by the "
    "limit that refused them (order or workspace).",
    ["scope"],
)
