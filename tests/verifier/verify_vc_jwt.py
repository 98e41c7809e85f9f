"""An independent verifier of Skilltrack's certificates: PyJWT with `cryptography`.

    python verify_vc_jwt.py JWKS_URL CREDENTIAL_FILE

Fetches the issuer's published JWK Set, picks the key the JWS header names (`kid`), verifies
the EdDSA signature and prints the credential (the `vc` claim) as JSON. Exit 0 when the
signature verifies and the payload is an OpenBadgeCredential; 1 otherwise, with the reason.
Nothing of Skilltrack's own code is used.
"""

import json
import sys
import urllib.request

import jwt


def main() -> int:
    jwks_url, path = sys.argv[1], sys.argv[2]
    # Straight to the issuer, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(jwks_url, timeout=10) as answer:
        jwks = json.load(answer)
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if text.startswith("{"):
        text = json.loads(text)["credential"]
    header = jwt.get_unverified_header(text)
    if header.get("alg") != "EdDSA":
        print(f"refused: alg {header.get('alg')}")
        return 1
    keys = {k["kid"]: k for k in jwks["keys"]}
    if header.get("kid") not in keys:
        print(f"refused: unknown key {header.get('kid')}")
        return 1
    key = jwt.PyJWK(keys[header["kid"]], algorithm="EdDSA")
    try:
        claims = jwt.decode(
            text,
            key=key.key,
            algorithms=["EdDSA"],
            options={"verify_aud": False, "require": ["iss", "nbf", "vc"]},
        )
    except jwt.InvalidSignatureError:
        print("refused: bad signature")
        return 1
    except jwt.PyJWTError as e:
        print(f"refused: {e}")
        return 1
    vc = claims["vc"]
    if "OpenBadgeCredential" not in vc.get("type", []):
        print("refused: not an OpenBadgeCredential")
        return 1
    if claims["iss"] != vc["issuer"]["id"] or claims.get("jti") != vc.get("id"):
        print("refused: the JWT claims disagree with the credential")
        return 1
    print(json.dumps({"verified": True, "kid": header["kid"], "vc": vc}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
