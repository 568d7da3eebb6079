#!/usr/bin/env python3
"""Mints GA4GH Passport v1.2 passports and visas for the end-to-end tests with an implementation
independent of the node's: joserfc for JWS, cryptography (through joserfc) for RSA and EC keys.

    passports.py keygen DIR          RSA and EC key pairs: DIR/NAME.json (private JWK) and
                                     DIR/NAME.jwks.json (the public JWKS an issuer publishes)
    passports.py rotate DIR NAME     a new key pair for NAME (a new kid), replacing the old one
    passports.py mint DIR < JOBS     JOBS: JSON list of {key, alg, header, claims}; prints a JSON
                                     list of compact JWS, one per job

`alg` is RS256 or ES256, or one of the attacks the node must refuse: "none" (unsigned) and
"HS256-public-key" (HMAC with the issuer's public key as the secret, the classic key-confusion
attack). `header` is merged into {alg, kid}; `claims` is the payload as given.
"""

import json
import sys
import warnings

from joserfc import jws
from joserfc.jwk import ECKey, OctKey, RSAKey

# The deliberate attacks below make joserfc warn; they are the point here.
warnings.simplefilter("ignore")

KEYS = {"broker": "RSA", "idp": "EC", "evil": "RSA", "evil-ec": "EC", "rotating": "RSA"}


def load(directory, name):
    with open(f"{directory}/{name}.json") as f:
        data = json.load(f)
    return (RSAKey if data["kty"] == "RSA" else ECKey).import_key(data)


def keygen(directory, names=None):
    for name, kty in KEYS.items():
        if names and name not in names:
            continue
        key = RSAKey.generate_key(2048) if kty == "RSA" else ECKey.generate_key("P-256")
        kid = key.thumbprint()
        private = dict(key.as_dict(private=True), kid=kid)
        public = dict(key.as_dict(private=False), kid=kid, use="sig", alg="RS256" if kty == "RSA" else "ES256")
        with open(f"{directory}/{name}.json", "w") as f:
            json.dump(private, f)
        with open(f"{directory}/{name}.jwks.json", "w") as f:
            json.dump({"keys": [public]}, f)


def mint(directory, job):
    key = load(directory, job["key"])
    payload = json.dumps(job["claims"], separators=(",", ":")).encode()
    alg = job["alg"]
    header = {"alg": alg, "kid": key.thumbprint()}
    if alg == "none":
        header = {"alg": "none"}
        header.update(job.get("header", {}))
        return jws.serialize_compact(header, payload, None, algorithms=["none"])
    if alg == "HS256-public-key":
        header = {"alg": "HS256", "kid": key.thumbprint()}
        header.update(job.get("header", {}))
        secret = OctKey.import_key(key.as_pem(private=False))
        return jws.serialize_compact(header, payload, secret, algorithms=["HS256"])
    header.update(job.get("header", {}))
    return jws.serialize_compact(header, payload, key, algorithms=[alg])


def main():
    command, directory = sys.argv[1], sys.argv[2]
    if command == "keygen":
        keygen(directory)
    elif command == "rotate":
        keygen(directory, sys.argv[3:])
    elif command == "mint":
        jobs = json.load(sys.stdin)
        print(json.dumps([mint(directory, job) for job in jobs]))
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
