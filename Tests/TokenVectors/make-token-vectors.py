#!/usr/bin/env python3
"""Prints the HS256 test vectors of Sources/SwitchyardTesting/TokenVectors.swift.

They were made with PyJWT 2.9.0, a well-known JWT library, so that the
verifier is checked against tokens it did not make itself:

    pip download pyjwt==2.9.0 && unzip PyJWT-2.9.0-py3-none-any.whl -d pyjwt
    PYTHONPATH=pyjwt python3 Tests/TokenVectors/make-token-vectors.py
"""
import jwt

SECRET = b"Secret first bytes... for HS256!!!"
OTHER = bytes.fromhex("416e6f746865722073656372657420666f7220746865207369676e61747572652121")
BASE = {"sub": "m_1", "iss": "https://auth.example.com", "aud": "switchyard", "exp": 2_000_000_000,
        "nbf": 1_700_000_000, "scope": "payments:create refunds:create"}


def token(claims=None, key=SECRET, kid="k1", algorithm="HS256", headers=None, drop=()):
    payload = dict(BASE, **(claims or {}))
    for name in drop:
        payload.pop(name)
    extra = dict(headers or {})
    if kid:
        extra["kid"] = kid
    return jwt.encode(payload, key, algorithm=algorithm, headers=extra or None)


valid = token()
vectors = {
    "valid": valid,
    "validWithoutKid": token(kid=None),
    "audienceList": token({"aud": ["other", "switchyard"]}),
    "scopeList": token({"scp": ["payments:create"]}, drop=("scope",)),
    "noScope": token(drop=("scope",)),
    "expired": token({"exp": 1_600_000_000}),
    "notYetValid": token({"nbf": 1_900_000_000}),
    "wrongAudience": token({"aud": "someone-else"}),
    "wrongIssuer": token({"iss": "https://evil.example.com"}),
    "otherMerchant": token({"sub": "m_2"}),
    "noExpiry": token(drop=("exp",)),
    "otherSecret": token(key=OTHER),
    "unknownKid": token(kid="k9"),
    "hs512": token(algorithm="HS512"),
    "algNone": jwt.encode(dict(BASE), None, algorithm="none"),
    "critical": token(headers={"crit": ["exp"]}),
    "oversizedHeader": token(headers={"x": "a" * 600}),
    # The valid token's header and signature around another token's claims.
    "swappedClaims": ".".join([valid.split(".")[0], token({"sub": "m_2"}).split(".")[1], valid.split(".")[2]]),
}
for name, value in vectors.items():
    print(f'        "{name}": "{value}",')
