"""Kernel helpers with no domain knowledge: identifier checks, divisions, clock, request context."""
