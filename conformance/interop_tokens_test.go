package conformance

// Tokens between ginjwt and flask-jwt-extended, both ways: the tokens
// flask-jwt-extended 4.7.1 minted (testdata/flask_vectors.json) pass
// ginjwt's guards as they pass flask's, and ginjwt's tokens pass the real
// flask-jwt-extended's guards (flask_peer_test.go).

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/ginjwttest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaskVector is one token minted by the real flask-jwt-extended
// (../shared/interop beside the repository, copied to testdata so the
// suite runs without it).
type flaskVector struct {
	Name          string `json:"name"`
	Token         string `json:"token"`
	Alg           string `json:"alg"`
	Secret        string `json:"secret"`
	PublicKeyPEM  string `json:"public_key_pem"`
	PrivateKeyPEM string `json:"private_key_pem"`
	Expect        struct {
		Valid         bool              `json:"valid"`
		Identity      string            `json:"identity"`
		Type          string            `json:"type"`
		Fresh         *bool             `json:"fresh"`
		Claims        map[string]any    `json:"claims"`
		Header        map[string]string `json:"header"`
		Status        int               `json:"status"`
		Msg           string            `json:"msg"`
		IdentityClaim string            `json:"identity_claim"`
		Issuer        string            `json:"issuer"`
		Audience      string            `json:"audience"`
	} `json:"expect"`
}

func loadFlaskVectors(t testing.TB) []flaskVector {
	t.Helper()
	path := "../../shared/interop/flask_vectors.json"
	if _, err := os.Stat(path); err != nil {
		path = "testdata/flask_vectors.json"
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var file struct {
		Vectors []flaskVector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.NotEmpty(t, file.Vectors)
	return file.Vectors
}

// managerFor configures a Manager the way the Flask app that minted v was.
func managerFor(t testing.TB, v flaskVector, extra ...ginjwt.Option) *ginjwt.Manager {
	t.Helper()
	opts := []ginjwt.Option{ginjwt.WithAlgorithm(v.Alg)}
	if v.Secret != "" {
		// The vectors' 41-byte secret is shorter than HS512 asks for.
		opts = append(opts, ginjwt.WithSecretKey([]byte(v.Secret)), ginjwt.WithInsecureShortSecret())
	} else {
		opts = append(opts, ginjwt.WithPublicKey(v.PublicKeyPEM), ginjwt.WithPrivateKey(v.PrivateKeyPEM))
	}
	claims := ginjwt.ClaimsConfig{IdentityClaim: v.Expect.IdentityClaim}
	if v.Expect.Issuer != "" {
		claims.DecodeIssuers = []string{v.Expect.Issuer}
	}
	if v.Expect.Audience != "" {
		claims.DecodeAudience = []string{v.Expect.Audience}
	}
	opts = append(opts, ginjwt.WithClaims(claims))
	m, err := ginjwt.New(append(opts, extra...)...)
	require.NoError(t, err)
	return m
}

func TestFlaskVectors(t *testing.T) {
	for _, v := range loadFlaskVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			m := managerFor(t, v)
			r := newRouter()
			r.GET("/protected", m.JWTRequired(ginjwt.VerifyType(false)), echoToken)

			w := newFlaskClient(t, r).get("/protected", withBearer(v.Token))
			if !v.Expect.Valid {
				require.NotEqual(t, http.StatusOK, w.Code, w.Body.String())
				assert.Equal(t, v.Expect.Status, w.Code)
				msg := v.Expect.Msg
				if msg == "" && v.Name == "wrong secret" {
					msg = "Signature verification failed" // PyJWT's text; the vector gives only the status
				}
				require.NotEmpty(t, msg, "every refusal is checked to the message")
				assertMsg(t, w, msg)
				return
			}
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			body := decodeBody(t, w)
			assert.Equal(t, v.Expect.Identity, body["identity"])
			claims := body["claims"].(map[string]any)
			if v.Expect.Type != "" {
				assert.Equal(t, v.Expect.Type, body["type"])
			}
			if v.Expect.Fresh != nil {
				assert.Equal(t, *v.Expect.Fresh, body["fresh"])
			}
			for k, want := range v.Expect.Claims {
				assert.Equal(t, want, claims[k], "claim %s", k)
			}
			header := body["header"].(map[string]any)
			for k, want := range v.Expect.Header {
				assert.Equal(t, want, header[k], "header %s", k)
			}

			// The same token through DecodeToken, outside a request.
			tok, err := m.DecodeToken(v.Token)
			require.NoError(t, err)
			assert.Equal(t, v.Expect.Identity, tok.Claims.Identity)
		})
	}
}

// A Flask access token made with fresh=timedelta(hours=1) carries a float
// timestamp; it is fresh until then and stale after.
func TestFlaskVectorFreshTimestamp(t *testing.T) {
	var v flaskVector
	for _, x := range loadFlaskVectors(t) {
		if x.Name == "access, fresh for 1 hour (timestamp, now past)" {
			v = x
		}
	}
	require.NotEmpty(t, v.Token)
	m := managerFor(t, v)
	tok, err := m.DecodeToken(v.Token)
	require.NoError(t, err)
	require.False(t, tok.Claims.FreshUntil().IsZero(), "fresh should be read as a timestamp")
	issued := tok.Claims.IssuedAt()
	assert.Equal(t, time.Hour, tok.Claims.FreshUntil().Sub(issued).Round(time.Second))

	for _, tc := range []struct {
		now    time.Time
		status int
	}{
		{issued.Add(59 * time.Minute), http.StatusOK},
		{issued.Add(61 * time.Minute), http.StatusUnauthorized},
	} {
		now := tc.now
		m := managerFor(t, v, ginjwt.WithClock(func() time.Time { return now }))
		r := newRouter()
		r.GET("/fresh", m.FreshRequired(), echoToken)
		w := newFlaskClient(t, r).get("/fresh", withBearer(v.Token))
		assert.Equal(t, tc.status, w.Code, "at %v", now.Sub(issued))
	}
}

// Every asymmetric vector's key pair also signs here, and the result
// verifies with the public key alone, as a Flask service holding only
// JWT_PUBLIC_KEY would.
func TestFlaskVectorKeysSignAndVerify(t *testing.T) {
	for _, v := range loadFlaskVectors(t) {
		if v.PrivateKeyPEM == "" {
			continue
		}
		t.Run(v.Alg, func(t *testing.T) {
			signer := managerFor(t, v)
			token, err := signer.CreateAccessToken("bob", ginjwt.Fresh())
			require.NoError(t, err)
			verifier, err := ginjwt.New(ginjwt.WithAlgorithm(v.Alg), ginjwt.WithPublicKey(v.PublicKeyPEM))
			require.NoError(t, err)
			tok, err := verifier.DecodeToken(token)
			require.NoError(t, err)
			assert.Equal(t, "bob", tok.Claims.Identity)
			assert.Equal(t, v.Alg, tok.Header.Alg)
			assert.True(t, tok.Claims.IsFresh(time.Now()))

			_, err = verifier.CreateAccessToken("bob")
			assert.ErrorIs(t, err, ginjwt.ErrNoSigningKey)
		})
	}
}

// Tokens go both ways between ginjwt and the real flask-jwt-extended with
// the same secret: each side's guards accept the other's tokens, and reject
// them where flask would.
func TestRealFlaskInterop(t *testing.T) {
	m := newManager(t)
	access := ginjwttest.Access(t, m, "alice", ginjwt.AdditionalClaims(map[string]any{"role": "admin", "n": 7}))
	fresh := ginjwttest.Access(t, m, "alice", ginjwt.FreshFor(5*time.Minute))
	refresh := ginjwttest.Refresh(t, m, "alice")
	expired := ginjwttest.Expired(t, m, "alice")

	checked, minted := flaskPeer(t, map[string]any{
		"config": map[string]any{"JWT_SECRET_KEY": testSecret},
		"check": []peerCheck{
			{access, "access"}, {fresh, "fresh"}, {refresh, "refresh"},
			{access, "fresh"}, {refresh, "access"}, {expired, "access"},
		},
		"mint": []map[string]any{
			{"kind": "access", "identity": "bob", "claims": map[string]any{"role": "user"}},
			{"kind": "access", "identity": "bob", "fresh": 300},
			{"kind": "access", "identity": "bob", "fresh": true},
			{"kind": "refresh", "identity": "bob"},
		},
	})
	require.Len(t, checked, 6)
	assert.Equal(t, 200, checked[0].Status, checked[0].Body)
	assert.Equal(t, "alice", checked[0].Body["identity"])
	claims := checked[0].Body["claims"].(map[string]any)
	assert.Equal(t, "admin", claims["role"])
	assert.Equal(t, float64(7), claims["n"])
	assert.Equal(t, "access", claims["type"])
	assert.Equal(t, 200, checked[1].Status, "flask accepts ginjwt's float freshness: %v", checked[1].Body)
	assert.Equal(t, 200, checked[2].Status, checked[2].Body)
	assert.Equal(t, 401, checked[3].Status)
	assert.Equal(t, map[string]any{"msg": "Fresh token required"}, checked[3].Body)
	assert.Equal(t, 422, checked[4].Status)
	assert.Equal(t, map[string]any{"msg": "Only non-refresh tokens are allowed"}, checked[4].Body)
	assert.Equal(t, 401, checked[5].Status)
	assert.Equal(t, map[string]any{"msg": "Token has expired"}, checked[5].Body)

	require.Len(t, minted, 4)
	r := newRouter()
	r.GET("/protected", m.JWTRequired(), echoToken)
	r.GET("/fresh", m.FreshRequired(), echoToken)
	r.GET("/refresh", m.RefreshRequired(), echoToken)
	fc := newFlaskClient(t, r)
	w := fc.get("/protected", withBearer(minted[0]))
	require.Equal(t, 200, w.Code, w.Body.String())
	body := decodeBody(t, w)
	assert.Equal(t, "bob", body["identity"])
	assert.Equal(t, "user", body["claims"].(map[string]any)["role"])
	assert.Equal(t, 200, fc.get("/fresh", withBearer(minted[1])).Code, "flask's timedelta freshness")
	assert.Equal(t, 200, fc.get("/fresh", withBearer(minted[2])).Code)
	assert.Equal(t, 401, fc.get("/fresh", withBearer(minted[0])).Code)
	assert.Equal(t, 200, fc.get("/refresh", withBearer(minted[3])).Code)
	assert.Equal(t, 422, fc.get("/protected", withBearer(minted[3])).Code)
}

// The same with RS256 keys: Flask signs with the private key, ginjwt
// verifies with the public key alone, and the other way round.
func TestRealFlaskInteropRS256(t *testing.T) {
	var v flaskVector
	for _, x := range loadFlaskVectors(t) {
		if x.Alg == "RS256" {
			v = x
		}
	}
	require.NotEmpty(t, v.PrivateKeyPEM)
	signer := managerFor(t, v)
	token := ginjwttest.Fresh(t, signer, "alice")
	checked, minted := flaskPeer(t, map[string]any{
		"config": map[string]any{"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": v.PrivateKeyPEM, "JWT_PUBLIC_KEY": v.PublicKeyPEM},
		"check":  []peerCheck{{token, "fresh"}},
		"mint":   []map[string]any{{"kind": "access", "identity": "bob"}},
	})
	require.Len(t, checked, 1)
	assert.Equal(t, 200, checked[0].Status, checked[0].Body)
	verifier, err := ginjwt.New(ginjwt.WithAlgorithm("RS256"), ginjwt.WithPublicKey(v.PublicKeyPEM))
	require.NoError(t, err)
	tok, err := verifier.DecodeToken(minted[0])
	require.NoError(t, err)
	assert.Equal(t, "bob", tok.Claims.Identity)
}
