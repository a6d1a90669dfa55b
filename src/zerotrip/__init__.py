"""zerotrip: a once-only digital-government platform.

The departments' data travels so that citizens do not: one datahub, one service portal, e-certificates,
booking and messaging, on top of identity and an append-only, checkpointed audit log.
"""

__version__ = "0.1.0"
