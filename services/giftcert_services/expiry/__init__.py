"""The expiry service: expiry-tick -> certificate-expired and certificate-expiring-soon, in bounded
batches (giftcert.ledger.expiry). A process of its own, so a tick that expires a hundred thousand
certificates never runs in the event loop that decides the redemptions at checkout (decision 16)."""
