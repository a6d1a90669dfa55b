"""Certificates problems (RFC 9457), each with a stable slug documented in docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import Conflict, NotAllowed, NotFound, Problem, RateLimited, ValidationFailed


class CertificateNotFound(NotFound):
    """No certificate has this number, or the caller may not see it (the two are not told apart)."""

    slug = "certificates/certificate-not-found"
    title = "No such certificate"


class CertificateTypeNotFound(NotFound):
    slug = "certificates/type-not-found"
    title = "No such certificate type"


class CertificateTypeCodeTaken(Conflict):
    slug = "certificates/type-code-taken"
    title = "A certificate type with this code already exists"


class InvalidCertificateType(ValidationFailed):
    slug = "certificates/invalid-type"
    title = "The certificate type description is not consistent"


class IssuingNotAllowed(NotAllowed):
    """Issuing, suspending, reinstating and revoking take the certificate issuer role over the issuing
    department (or, for a department system, being that department's client with the issue scope)."""

    slug = "certificates/issuing-not-allowed"
    title = "You may not issue or change certificates for this department"


class CertificateRevoked(Conflict):
    """Revocation is final: a revoked certificate can be neither suspended nor reinstated."""

    slug = "certificates/certificate-revoked"
    title = "This certificate has been revoked"


class CertificateStatusConflict(Conflict):
    """Suspending a suspended certificate, or reinstating one that is not suspended."""

    slug = "certificates/status-conflict"
    title = "The certificate is not in a status that allows this"


class RealEstateOnRecord(Conflict):
    """A no-real-estate proof (无房证明) was asked for someone the register shows as holding real estate."""

    slug = "certificates/real-estate-on-record"
    title = "The real-estate register holds a record for this person; no proof of holding none can be issued"


class StatusListNotFound(NotFound):
    slug = "certificates/status-list-not-found"
    title = "No such status list"


class IssuerNotFound(NotFound):
    slug = "certificates/issuer-not-found"
    title = "No issuer has this credit code"


class GatewayConsumerMissing(Problem):
    """The certificates system is not set up as a consumer of the data it needs (no client or no live
    grant); an operator sets it up (the demo seed does). Nothing the caller can change."""

    slug = "certificates/gateway-consumer-missing"
    title = "The certificates system may not read the data this certificate is derived from"
    status = 503


# -- the holder's side: presentations, use grants and uses ------------------------------------------------


class CertificateSuspended(Conflict):
    """A suspended certificate cannot be shown or used until its issuer reinstates it."""

    slug = "certificates/certificate-suspended"
    title = "This certificate is suspended"


class CertificateExpired(Conflict):
    """A certificate past its validity cannot be shown or used (it would not verify)."""

    slug = "certificates/certificate-expired"
    title = "This certificate has expired"


class CertificateNotVerified(Conflict):
    """A certificate used as evidence did not verify (signature, disclosures, key binding or status)."""

    slug = "certificates/certificate-not-verified"
    title = "The certificate did not verify"


class UseGrantNotFound(NotFound):
    """No use grant has this code (or id), or it is not the caller's (the two are not told apart)."""

    slug = "certificates/use-grant-not-found"
    title = "No such use grant"


class UseGrantExpired(Problem):
    slug = "certificates/use-grant-expired"
    title = "This use grant has expired"
    status = 410


class UseGrantWithdrawn(Problem):
    slug = "certificates/use-grant-withdrawn"
    title = "The holder has withdrawn this use grant"
    status = 410


class UsesRateLimited(RateLimited):
    slug = "certificates/uses-rate-limited"
    title = "Too many attempts to use certificates from this address; wait and try again"
