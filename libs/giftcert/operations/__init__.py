"""Commands and queries of the operator and portal surface, whichever door (HTTP, CLI) they come in by."""
