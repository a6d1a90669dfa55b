"""certificates: e-certificates with legal effect (电子证照).

Owns certificate types (证照目录), issuing by a department's staff, a department system or another context,
per-issuer signing keys (kept in the deployment's key store, never the database), the published trust list,
the wallet (卡包), PDF and QR, presentations with selective disclosure (亮证), use grants (用证授权) and their
uses, verification online and offline, and revocation and suspension through IETF Token Status Lists.
``docs/certificates.md`` is the contract for the format.

Invariants: a certificate's signed token never changes after issue (a correction is a new certificate);
status changes are recorded with a reason and an audit event in the same transaction; every online
verification and every use under a grant is audited; nothing personal is in a credential's always-disclosed
part. It may use datahub (through its actions and queries, as a consumer with a grant), messaging, identity
and audit; it must not import services, booking or web.
"""
