package ginjwt_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
)

// pyWhitespace is what Python's str.split() and re's \s match in a header
// that Werkzeug decoded as Latin-1.
const pyWhitespace = " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0"

// referenceHeader is flask-jwt-extended's _decode_jwt_from_headers written
// plainly, byte for byte (strings in Latin-1, so no UTF-8 decoding): the
// reference FuzzHeaderParsing holds the fast parser to.
func referenceHeader(value, typ string) (token string, status int) {
	isSpace := func(b byte) bool { return strings.IndexByte(pyWhitespace, b) >= 0 }
	fields := func(s string) []string {
		var out []string
		for i := 0; i < len(s); {
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			j := i
			for j < len(s) && !isSpace(s[j]) {
				j++
			}
			if j > i {
				out = append(out, s[i:j])
			}
			i = j
		}
		return out
	}
	trim := func(s string) string {
		for len(s) > 0 && isSpace(s[0]) {
			s = s[1:]
		}
		for len(s) > 0 && isSpace(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		return strings.Trim(s, ",")
	}
	value = trim(value)
	if value == "" {
		return "", 401
	}
	if typ == "" {
		f := fields(value)
		if len(f) != 1 {
			return "", 422
		}
		return f[0], 0
	}
	var matches []string
	for _, elem := range splitLatin1(value) {
		if f := fields(elem); len(f) > 0 && f[0] == typ {
			matches = append(matches, elem)
		}
	}
	if len(matches) != 1 {
		return "", 401
	}
	f := fields(matches[0])
	if len(f) != 2 {
		return "", 422
	}
	return f[1], 0
}

// splitLatin1 is re.split(r",\s*", s) on bytes: \x85 and \xa0 are Latin-1
// spaces too, which a UTF-8 regexp cannot see as single bytes.
func splitLatin1(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
		for len(s) > 0 && strings.IndexByte(pyWhitespace, s[0]) >= 0 {
			s = s[1:]
		}
	}
}

// FuzzHeaderParsing holds the header parser to the reference: the same
// status class and the same token for every header value.
func FuzzHeaderParsing(f *testing.F) {
	for _, s := range []string{"Bearer a.b.c", "Basic x, Bearer a.b.c", "Bearer a.b.c, Basic x", " , ", ", ,", "bearer a.b.c",
		"Bearer  a.b.c ,", "Bearer a b", "Bearer", "Bearer\xa0a.b.c", "Bearer\x85a.b.c", "x\xa0Bearer a.b.c", "Bearer a.b.c,Bearer d.e.f",
		"Bearer ,,0", "Foo 1, Bearer 2, Baz, 3", "\x1cBearer\x1fa.b.c\x1e"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	withType := newManager(f, ginjwt.WithTokenLocations(ginjwt.InHeaders))
	bare := newManager(f, ginjwt.WithHeader("Authorization", ""))
	f.Fuzz(func(t *testing.T, value string, typed bool) {
		m, typ := withType, "Bearer"
		if !typed {
			m, typ = bare, ""
		}
		got, err := ginjwt.TokenFromHeader(m, value)
		want, status := referenceHeader(value, typ)
		switch {
		case status == 0 && (err != nil || got != want):
			t.Fatalf("%q: got %q, %v; reference %q", value, got, err, want)
		case status != 0 && (err == nil || err.Status != status):
			t.Fatalf("%q: got %q, %v; reference status %d", value, got, err, status)
		}
	})
}

// FuzzLocations sends arbitrary cookies, query strings and JSON bodies to a
// guard that reads every location: it must answer 401 or 422, never panic,
// never 5xx, and never run the handler.
func FuzzLocations(f *testing.F) {
	token := signPayload(`{"sub":"a","csrf":"c"}`)
	f.Add("access_token_cookie="+token, "jwt="+token, `{"access_token":"`+token+`"}`, "POST", "c")
	f.Add("access_token_cookie=; access_token_cookie=x", "jwt=&jwt=x", `{"access_token":`, "GET", "")
	f.Add("", "jwt=%zz", `[1,2]`, "PUT", "")
	f.Add("a=b", "", `{"access_token":"a.b.c","access_token":"x"}`, "DELETE", "c")
	m := newManager(f, ginjwt.WithTokenLocations(ginjwt.InCookies, ginjwt.InQueryString, ginjwt.InJSONBody, ginjwt.InHeaders))
	r := gin.New()
	ran := false
	r.Any("/p", m.JWTRequired(), func(c *gin.Context) { ran = true; c.Status(200) })
	f.Fuzz(func(t *testing.T, cookie, query, body, method, csrf string) {
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			method = "POST"
		}
		req, err := http.NewRequest(method, "/p?"+query, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-TOKEN", csrf)
		ran = false
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if ran {
			// Only a real token reaches the handler; these inputs hold one
			// only by copying the seed's, which is valid.
			if !strings.Contains(cookie+query+body, token) {
				t.Fatalf("handler ran: %q %q %q", cookie, query, body)
			}
			return
		}
		if w.Code != 401 && w.Code != 422 {
			t.Fatalf("status %d %s", w.Code, w.Body)
		}
	})
}
