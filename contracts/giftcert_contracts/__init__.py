"""The wire contract of the gift-certificate service (shared/CONTRACT.md), as pydantic models.

Imports nothing but pydantic and the standard library, so integrators can depend on it alone.
"""
