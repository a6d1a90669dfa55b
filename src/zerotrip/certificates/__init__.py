"""certificates: e-certificates with legal effect (电子证照).

Will own certificate types, issuing, per-issuer signing keys, the published trust list, the wallet, PDF and
QR, presentations with selective disclosure, verification and the status list for revocation and suspension.
"""
