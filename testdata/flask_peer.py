"""A Flask app with flask-jwt-extended, driven by flask_interop_test.go.

Reads a JSON request on stdin:
  {"config": {...JWT_* settings...},
   "check": [{"token": "...", "route": "access|refresh|fresh"}],
   "mint": [{"kind": "access|refresh", "identity": "...", "fresh": bool|seconds, "claims": {...}}]}
and prints {"checked": [{"status": int, "body": {...}}], "minted": ["..."]}.
"""
import json
import sys
from datetime import timedelta

from flask import Flask, jsonify
from flask_jwt_extended import (JWTManager, create_access_token, create_refresh_token,
                                get_jwt, get_jwt_identity, jwt_required)

req = json.load(sys.stdin)
app = Flask(__name__)
app.config.update(req["config"])
JWTManager(app)


def echo():
    return jsonify(identity=get_jwt_identity(), claims=get_jwt())


app.add_url_rule("/access", "access", jwt_required()(echo))
app.add_url_rule("/refresh", "refresh", jwt_required(refresh=True)(echo))
app.add_url_rule("/fresh", "fresh", jwt_required(fresh=True)(echo))

out = {"checked": [], "minted": []}
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

json.dump(out, sys.stdout)
