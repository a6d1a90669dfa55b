"""The certificates context's actions, as other contexts, pages, the API and the CLI use them. Never commits.

One module per part of the domain: ``issuing`` (one certificate or a batch), ``proofs`` (the
no-real-estate proof through the datahub gateway), ``status_changes`` (suspend, reinstate, revoke) and
``online`` (verifying online, audited); ``status_entries`` draws status entries and writes certificate rows.
"""

from zerotrip.certificates.issuing import (
    HOLDER_SUBJECTS,
    ISSUED,
    MAX_BATCH,
    SOURCES,
    BatchOutcome,
    IssuedItem,
    RejectedItem,
    issue_certificate,
    issue_certificates,
)
from zerotrip.certificates.online import VERIFIED, verify_online
from zerotrip.certificates.proofs import (
    GATEWAY_CLIENT_NAME,
    REAL_ESTATE_LEGAL_BASIS,
    REAL_ESTATE_OWNER,
    REAL_ESTATE_PURPOSE,
    REAL_ESTATE_RESOURCE,
    REAL_ESTATE_RESULT,
    REAL_ESTATE_SCOPE,
    ProofOutcome,
    gateway_consumer,
    issue_no_real_estate_proof,
    set_up_gateway_consumer,
)
from zerotrip.certificates.status_changes import (
    REINSTATED,
    REVOKED,
    SUSPENDED,
    reinstate_certificate,
    revoke_certificate,
    suspend_certificate,
)

__all__ = [
    "GATEWAY_CLIENT_NAME",
    "HOLDER_SUBJECTS",
    "ISSUED",
    "MAX_BATCH",
    "REAL_ESTATE_LEGAL_BASIS",
    "REAL_ESTATE_OWNER",
    "REAL_ESTATE_PURPOSE",
    "REAL_ESTATE_RESOURCE",
    "REAL_ESTATE_RESULT",
    "REAL_ESTATE_SCOPE",
    "REINSTATED",
    "REVOKED",
    "SOURCES",
    "SUSPENDED",
    "VERIFIED",
    "BatchOutcome",
    "IssuedItem",
    "ProofOutcome",
    "RejectedItem",
    "gateway_consumer",
    "issue_certificate",
    "issue_certificates",
    "issue_no_real_estate_proof",
    "reinstate_certificate",
    "revoke_certificate",
    "set_up_gateway_consumer",
    "suspend_certificate",
    "verify_online",
]
