"""messaging: citizen notifications through an outbox, and staff notices and emergency broadcasts.

Publishing a notice never writes one row per recipient.
"""
