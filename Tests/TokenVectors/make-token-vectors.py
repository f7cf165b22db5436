#!/usr/bin/env python3
"""Prints the test vectors of Sources/SwitchyardTesting/TokenVectors.swift.

They were made with PyJWT 2.9.0, a well-known JWT library, so that the
verifier is checked against tokens it did not make itself:

    pip download pyjwt==2.9.0 && unzip PyJWT-2.9.0-py3-none-any.whl -d pyjwt
    PYTHONPATH=pyjwt python3 Tests/TokenVectors/make-token-vectors.py

RS256 and ES256 need the `cryptography` package as well. Their keys are in
keys/: r1 and r2 (RSA 2048, two for rotation) and e1 (P-256) were made with
`openssl genpkey`; weak.pem (RSA 1024) and p384.pem (P-384) are public keys
the configuration must refuse.
"""
import base64
import hashlib
import hmac
import json
import pathlib
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
def hs256_by_hand(secret, kid):
    """PyJWT refuses a PEM as an HMAC secret, as it should; an attacker would not."""
    def part(value):
        text = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).rstrip(b"=").decode()
    signing_input = part({"alg": "HS256", "kid": kid}) + "." + part(BASE)
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


KEYS = pathlib.Path(__file__).parent / "keys"
R1, R2, E1 = ((KEYS / f"{name}.key").read_bytes() for name in ("r1", "r2", "e1"))
signed = token(key=R1, kid="r1", algorithm="RS256")
vectors.update({
    "rs256": signed,
    "rs256Rotated": token(key=R2, kid="r2", algorithm="RS256"),
    "rs256WithoutKid": token(key=R1, kid=None, algorithm="RS256"),
    "es256": token(key=E1, kid="e1", algorithm="ES256"),
    "rs256UnknownKid": token(key=R1, kid="r9", algorithm="RS256"),
    # Signed by r2 but naming r1.
    "rs256WrongKey": token(key=R2, kid="r1", algorithm="RS256"),
    # r1 is an RSA key: a token claiming ES256 under it is refused for its algorithm.
    "es256UnderRSAKid": token(key=E1, kid="r1", algorithm="ES256"),
    "rs384": token(key=R1, kid="r1", algorithm="RS384"),
    "rs256Expired": token({"exp": 1_600_000_000}, key=R1, kid="r1", algorithm="RS256"),
    # The classic confusion: HS256 keyed with the RSA key's public PEM.
    "hs256KeyedWithPublicKey": hs256_by_hand((KEYS / "r1.pem").read_bytes(), kid="r1"),
    "rs256SwappedClaims": ".".join(
        [signed.split(".")[0], token({"sub": "m_2"}).split(".")[1], signed.split(".")[2]]),
})
for name, value in vectors.items():
    print(f'        "{name}": "{value}",')
