#!/usr/bin/env python3
"""A stand-in external identity provider for tests/e2e/agent_idp_test.cc (issue 14 item 6).

Generates an RSA 2048 key (kid rsa-1) and an EC P-256 key (kid ec-1), serves their JWKS at
http://127.0.0.1:PORT/jwks (an ephemeral port; Cache-Control: max-age=1), and answers commands on
stdin, one per line:

  token KID CLIENT [SCOPE...]   prints "TOKEN <jwt>": a token of KID (RS256 or ES256 by its key)
                                with iss, aud "wsgate", azp CLIENT, scope, 5 minutes of validity
  rotate                        a new RSA key rsa-2 replaces rsa-1 in the JWKS (rsa-1 can still
                                sign, as a rotated-out key's old tokens stay valid); prints
                                "ROTATED rsa-2"

Prints "JWKS on http://127.0.0.1:PORT/jwks" once serving. Signing uses python3-cryptography.
"""
import base64
import http.server
import json
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, size=None):
    return n.to_bytes(size or (n.bit_length() + 7) // 8, "big")


class Keys:
    def __init__(self):
        self.lock = threading.Lock()
        self.private = {"rsa-1": rsa.generate_private_key(65537, 2048), "ec-1": ec.generate_private_key(ec.SECP256R1())}
        self.published = ["rsa-1", "ec-1"]

    def jwk(self, kid):
        pub = self.private[kid].public_key()
        if isinstance(pub, rsa.RSAPublicKey):
            n = pub.public_numbers()
            return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(int_bytes(n.n)), "e": b64(int_bytes(n.e))}
        n = pub.public_numbers()
        return {"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256", "x": b64(int_bytes(n.x, 32)), "y": b64(int_bytes(n.y, 32))}

    def jwks(self):
        with self.lock:
            return json.dumps({"keys": [self.jwk(k) for k in self.published]}).encode()

    def rotate(self):
        with self.lock:
            self.private["rsa-2"] = rsa.generate_private_key(65537, 2048)
            self.published = ["rsa-2", "ec-1"]

    def token(self, issuer, kid, client, scopes):
        key = self.private[kid]
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        now = int(time.time())
        header = {"alg": "RS256" if is_rsa else "ES256", "typ": "JWT", "kid": kid}
        claims = {"iss": issuer, "aud": "wsgate", "azp": client, "sub": "user-1", "scope": " ".join(scopes),
                  "iat": now, "exp": now + 300}
        data = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
        if is_rsa:
            sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            sig = int_bytes(r, 32) + int_bytes(s, 32)
        return data.decode() + "." + b64(sig)


def main():
    issuer = sys.argv[1] if len(sys.argv) > 1 else "https://idp.test/realms/demo"
    keys = Keys()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/jwks":
                self.send_error(404)
                return
            body = keys.jwks()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"JWKS on http://127.0.0.1:{server.server_address[1]}/jwks", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "token" and len(words) >= 3:
            print("TOKEN " + keys.token(issuer, words[1], words[2], words[3:]), flush=True)
        elif words[0] == "rotate":
            keys.rotate()
            print("ROTATED rsa-2", flush=True)
        else:
            print("ERROR unknown command: " + line.strip(), flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
