"""Ledger handlers: one function per inbound command, each one unit of work (one transaction):
inbox claim, state change, ledger and activity rows, outbox rows; commit. They never publish."""
