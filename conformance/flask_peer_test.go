package conformance

// The real flask-jwt-extended as a peer (testdata/flask_peer.py): the
// interop tests send it tokens and cookies to check, and ask it to mint
// its own.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// flaskPeer runs testdata/flask_peer.py with Debian's python3 and
// flask-jwt-extended (package python3-python-flask-jwt-extended, which
// .ci/run installs). Without it the test skips, unless
// GINJWT_REQUIRE_FLASK is set, as CI sets it, which makes that a failure.
func flaskPeer(t *testing.T, request any) (checked []peerAnswer, minted []string) {
	resp := flaskPeerFull(t, request)
	return resp.Checked, resp.Minted
}

type peerAnswer struct {
	Status int            `json:"status"`
	Body   map[string]any `json:"body"`
}

type peerResponse struct {
	Checked       []peerAnswer `json:"checked"`
	Minted        []string     `json:"minted"`
	CookieChecked []peerAnswer `json:"cookie_checked"`
	CookieMinted  [][]string   `json:"cookie_minted"`
}

func flaskPeerFull(t *testing.T, request any) peerResponse {
	t.Helper()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import flask_jwt_extended").Run(); err != nil {
		if os.Getenv("GINJWT_REQUIRE_FLASK") != "" {
			t.Fatalf("GINJWT_REQUIRE_FLASK is set but %s cannot import flask_jwt_extended: %v", python, err)
		}
		t.Skip("SKIPPED: no flask-jwt-extended for /usr/bin/python3 (apt-get install python3-python-flask-jwt-extended)")
	}
	in, err := json.Marshal(request)
	require.NoError(t, err)
	cmd := exec.Command(python, "testdata/flask_peer.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var resp peerResponse
	require.NoError(t, json.Unmarshal(out, &resp), string(out))
	return resp
}

type peerCheck struct {
	Token string `json:"token"`
	Route string `json:"route"`
}
