"""A Flask app with flask-jwt-extended, driven by flask_peer_test.go.

Reads a JSON request on stdin:
  {"config": {...JWT_* settings...},
   "check": [{"token": "...", "route": "access|refresh|fresh"}],
   "mint": [{"kind": "access|refresh", "identity": "...", "fresh": bool|seconds, "claims": {...}}],
   "cookie_check": [{"cookie": "...", "csrf": "..." or ["...", ...], "method": "GET|POST",
                     "cookie_header": "a whole Cookie header, instead of cookie"}],
   "cookie_mint": ["identity", ...]}
and prints {"checked": [...], "minted": [...], "cookie_checked": [{"status", "body"}],
"cookie_minted": [["Set-Cookie header", ...], ...]}.
"""
import json
import sys
from datetime import timedelta

from flask import Flask, jsonify
from flask_jwt_extended import (JWTManager, create_access_token, create_refresh_token,
                                get_jwt, get_jwt_identity, jwt_required, set_access_cookies)

req = json.load(sys.stdin)
app = Flask(__name__)
app.config.update(req["config"])
JWTManager(app)


def echo():
    return jsonify(identity=get_jwt_identity(), claims=get_jwt())


app.add_url_rule("/access", "access", jwt_required()(echo))
app.add_url_rule("/refresh", "refresh", jwt_required(refresh=True)(echo))
app.add_url_rule("/fresh", "fresh", jwt_required(fresh=True)(echo))
app.add_url_rule("/cookie", "cookie", jwt_required(locations=["cookies"])(echo), methods=["GET", "POST"])

out = {"checked": [], "minted": [], "cookie_checked": [], "cookie_minted": []}
client = app.test_client()
for c in req.get("check", []):
    resp = client.get("/" + c["route"], headers={"Authorization": "Bearer " + c["token"]})
    out["checked"].append({"status": resp.status_code, "body": resp.get_json()})

with app.app_context():
    for m in req.get("mint", []):
        kwargs = {"additional_claims": m.get("claims") or None}
        if m["kind"] == "access":
            fresh = m.get("fresh", False)
            kwargs["fresh"] = timedelta(seconds=fresh) if isinstance(fresh, (int, float)) and not isinstance(fresh, bool) else fresh
            out["minted"].append(create_access_token(m["identity"], **kwargs))
        else:
            out["minted"].append(create_refresh_token(m["identity"], **kwargs))

# Without its cookie jar, the test client sends the Cookie header as given.
bare_client = app.test_client(use_cookies=False)
for c in req.get("cookie_check", []):
    headers = [("Cookie", c.get("cookie_header") or "access_token_cookie=" + c["cookie"])]
    csrf = c.get("csrf")
    for value in csrf if isinstance(csrf, list) else [csrf] if csrf else []:
        headers.append(("X-CSRF-TOKEN", value))
    resp = bare_client.open("/cookie", method=c.get("method", "GET"), headers=headers)
    out["cookie_checked"].append({"status": resp.status_code, "body": resp.get_json()})

with app.test_request_context():
    for identity in req.get("cookie_mint", []):
        resp = jsonify(login=True)
        set_access_cookies(resp, create_access_token(identity))
        out["cookie_minted"].append(resp.headers.getlist("Set-Cookie"))

json.dump(out, sys.stdout)
