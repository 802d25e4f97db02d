"""The HTTP door (FastAPI): the public portal and operators' tools, versioned under /v1."""
