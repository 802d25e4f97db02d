"""Delivery handlers: the certificate PDF (documents service) and the email (mailer service)."""
