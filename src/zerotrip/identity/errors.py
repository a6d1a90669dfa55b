"""Identity problems (RFC 9457), each with a stable slug documented in docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import Conflict, NotAllowed, NotAuthenticated, NotFound, RateLimited


class PersonNotFound(NotFound):
    slug = "identity/person-not-found"
    title = "No such person"


class OrganisationNotFound(NotFound):
    slug = "identity/organisation-not-found"
    title = "No such organisation"


class EnterpriseNotFound(NotFound):
    slug = "identity/enterprise-not-found"
    title = "No such enterprise"


class AccountNotFound(NotFound):
    slug = "identity/account-not-found"
    title = "No such account"


class PersonAlreadyRegistered(Conflict):
    slug = "identity/person-already-registered"
    title = "A person with this resident ID number is already registered"


class EnterpriseAlreadyRegistered(Conflict):
    slug = "identity/enterprise-already-registered"
    title = "An enterprise with this credit code is already registered"


class LoginNameTaken(Conflict):
    slug = "identity/login-name-taken"
    title = "This login name is already in use"


class LoginFailed(NotAuthenticated):
    """Wrong name or password; deliberately does not say which."""

    slug = "identity/login-failed"
    title = "The login name or password is wrong"


class AccountLocked(NotAuthenticated):
    slug = "identity/account-locked"
    title = "This account is locked after too many failed logins; try again later"


class SecondFactorFailed(NotAuthenticated):
    slug = "identity/second-factor-failed"
    title = "The verification code is wrong or has expired"


class TooManyLogins(RateLimited):
    slug = "identity/too-many-logins"
    title = "Too many login attempts from your address; wait a minute and try again"


class InvalidClient(NotAuthenticated):
    """OAuth2 ``invalid_client``: unknown client, wrong secret, or a disabled client."""

    slug = "identity/invalid-client"
    title = "Client authentication failed"


class InvalidToken(NotAuthenticated):
    slug = "identity/invalid-token"
    title = "The access token is missing, unknown or expired"


class ScopeNotGranted(NotAllowed):
    slug = "identity/scope-not-granted"
    title = "The API client does not hold the scope this needs"


class OutsideOrgSubtree(NotAllowed):
    slug = "identity/outside-org-subtree"
    title = "This is outside the organisations you work for"


class NotYourRecord(NotAllowed):
    slug = "identity/not-your-record"
    title = "You may only see your own records"
