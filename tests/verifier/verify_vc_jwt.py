"""An independent verifier of Skilltrack's certificates: PyJWT with `cryptography`.

    python verify_vc_jwt.py JWKS_URL CREDENTIAL_FILE

The file is a bare VC-JWT, the JSON `skilltrack certificate get` saves, a certificate PDF
(the credential is its `credential.jwt` attachment, read with pypdf) or a baked PNG badge (the
credential is its `openbadgecredential` iTXt text, read with Pillow). Fetches the issuer's
published JWK Set, picks the key the JWS header names (`kid`), verifies the EdDSA signature
and prints the credential (the `vc` claim) and the JWT it read as JSON. Exit 0 when the
signature verifies and the payload is an OpenBadgeCredential; 1 otherwise, with the reason.
Nothing of Skilltrack's own code is used.
"""

import json
import sys
import urllib.request

import jwt


def read_credential(path: str) -> str:
    """The compact JWT the file carries, found the way any PDF or badge tool would."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"%PDF-"):
        from pypdf import PdfReader

        attached = PdfReader(path).attachments.get("credential.jwt")
        if not attached:
            raise ValueError("the PDF has no credential.jwt attachment")
        return attached[0].decode("utf-8").strip()
    if head == b"\x89PNG\r\n\x1a\n":
        from PIL import Image

        with Image.open(path) as image:
            image.load()  # the whole image decodes, and text after the pixels is read
            text = image.text.get("openbadgecredential")
        if text is None:
            raise ValueError("the PNG has no openbadgecredential iTXt chunk")
        return str(text).strip()
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if text.startswith("{"):
        text = json.loads(text)["credential"]
    return text


def main() -> int:
    jwks_url, path = sys.argv[1], sys.argv[2]
    # Straight to the issuer, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(jwks_url, timeout=10) as answer:
        jwks = json.load(answer)
    try:
        text = read_credential(path)
    except (ValueError, OSError) as e:
        print(f"refused: {e}")
        return 1
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
    print(json.dumps({"verified": True, "kid": header["kid"], "vc": vc, "credential": text}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
