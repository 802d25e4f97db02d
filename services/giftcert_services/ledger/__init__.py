"""The ledger service: purchase-requested, payment-completed, booking-redeem-request, void,
reactivate and expiry-tick, each decoded and handed to its handler in giftcert.ledger."""
