"""audit: the append-only event log and its signed checkpoints.

Owns ``audit_event`` and ``audit_checkpoint``. Every change, and every read of personal data, anywhere in the
platform is recorded here inside the same transaction as the change itself. Events are never updated or
deleted by the platform. Checkpoints seal ranges of events under a Merkle root signed with the platform key,
so that a row changed, deleted or inserted behind the platform's back is found by ``zerotrip audit verify``;
writers take no global lock. This package imports no other context.
"""
