"""The ledger service: purchase-requested, payment-completed, booking-redeem-request, void and
reactivate, each decoded and handed to its handler in giftcert.ledger. Expiry ticks have a service
of their own (giftcert_services.expiry)."""
