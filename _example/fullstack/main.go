// Command fullstack is the Gin twin of the full-stack Flask tutorial: users
// in a SQL database with bcrypt-hashed passwords, POST /token for a login
// (with a per-client attempt limit), a private page that loads the user
// from the token, token refresh, a logout that ends the session (both
// tokens, revoked in the same database, so it survives restarts), a list
// of the user's sessions to sign out one device or all, a password change
// and an account deletion that want a fresh login and sign out every
// device, and a plain HTML + JavaScript front end that keeps the tokens in
// sessionStorage and may run on another origin (CORS).
//
//	go run .                       # then open http://127.0.0.1:5000
//	DATABASE_PATH=users.db go run .
//
// This file stands alone: copy it (and static/) into your own module.
//
// See README.md for the curl session.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"math"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/sqlblocklist"
	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite" // pure Go: no cgo
)

//go:embed static
var static embed.FS

// Config is what the app is made from; main reads it from the environment.
type Config struct {
	DatabasePath string   // "" for an in-memory database
	Secret       []byte   // JWT_SECRET_KEY
	Origins      []string // front ends on other origins allowed by CORS; none: no CORS
	// TrustedProxies may set the client address through X-Forwarded-For
	// (TRUSTED_PROXIES); none: the address is the connection's, so a client
	// cannot dodge the login limit by making up a header.
	TrustedProxies []string
	// LoginBurst login attempts per client at once, then one per
	// LoginEvery (defaults 5 and 12s: 5 a minute); the same for password
	// changes, per user.
	LoginBurst int
	LoginEvery time.Duration
	Now        func() time.Time // the login limit's clock; nil: time.Now
	JWTOptions []ginjwt.Option
}

// User is a row of the users table, as the API shows it. ID is random,
// never a row number: a new user never gets the ID, and so the tokens, of
// a deleted one, even when an in-memory database starts over.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// SessionInfo is a session (login) of the user, as GET /sessions shows it.
// UserAgent is whatever the client sent at login: a page shows it as text,
// never as HTML.
type SessionInfo struct {
	ID        string     `json:"id"`
	Created   time.Time  `json:"created"`
	Renewed   *time.Time `json:"renewed"` // null: never refreshed
	Expires   *time.Time `json:"expires"` // null: never
	UserAgent string     `json:"user_agent"`
	ClientIP  string     `json:"client_ip"`
	Current   bool       `json:"current"` // the session making the request
}

// timeOrNil is t in UTC, or nil for the zero time (JSON null).
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Limits on input; bcrypt reads at most 72 bytes of a password.
const (
	maxBody     = 16 << 10
	maxEmail    = 254
	maxName     = 100
	maxPassword = 72
	minPassword = 8
)

// openDB opens the database and creates the schema.
func openDB(path string) (*sql.DB, error) {
	// Another process on the same file (a second instance, a migration)
	// waits for the lock instead of failing.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)"
	if path == "" {
		dsn = fmt.Sprintf("file:fullstack-%d?mode=memory&cache=shared", time.Now().UnixNano())
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // SQLite writes one at a time; an in-memory DB lives in its connection
	// uid, random, is what tokens name; AUTOINCREMENT keeps row numbers
	// from being reused too.
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS users (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		uid TEXT NOT NULL UNIQUE,
		email TEXT NOT NULL UNIQUE COLLATE NOCASE,
		name TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL
	)`)
	if err == nil {
		if _, err = db.Exec(`SELECT uid FROM users LIMIT 0`); err != nil {
			err = fmt.Errorf("the users table of %s comes from an older version of this example (no uid column): move the file away: %w", path, err)
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// newUserID returns a random user ID: 128 bits, so none is ever given
// twice.
func newUserID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// dummyHash is compared against when the email is unknown, so a login
// takes as long whether the email exists or not.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no user has this password"), bcrypt.DefaultCost)

func newApp(cfg Config) (*gin.Engine, *sql.DB, error) {
	db, err := openDB(cfg.DatabasePath)
	if err != nil {
		return nil, nil, err
	}
	lookup := func(c *gin.Context, tok *ginjwt.Token) (User, error) {
		var u User
		err := db.QueryRowContext(c.Request.Context(), `SELECT uid, email, name FROM users WHERE uid = ?`, tok.Claims.Identity).Scan(&u.ID, &u.Email, &u.Name)
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, ginjwt.ErrUserNotFound
		}
		return u, err
	}
	// Revoked tokens live in the users' database: a logout outlives a
	// restart (the in-memory blocklist would forget it).
	blocklist, err := sqlblocklist.New(context.Background(), db, sqlblocklist.SQLite)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	// WithSessionList: every login is a session kept in the database,
	// with the device it came from, for the "your sessions" page.
	jwt, err := ginjwt.New(append([]ginjwt.Option{
		ginjwt.WithSecretKey(cfg.Secret),
		ginjwt.WithUserLookup(lookup),
		ginjwt.WithBlocklist(blocklist),
		ginjwt.WithSessionList(0),
	}, cfg.JWTOptions...)...)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	limiter := newLoginLimiter(cfg.LoginBurst, cfg.LoginEvery, cfg.Now)
	// Password changes are limited per user, wherever they come from: a
	// stolen fresh token must not be a way to guess the old password.
	passwordLimiter := newLoginLimiter(cfg.LoginBurst, cfg.LoginEvery, cfg.Now)

	r := gin.Default()
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	r.Use(limitBody)
	if len(cfg.Origins) > 0 { // none: the front end is only served from here
		r.Use(cors.New(cors.Config{
			AllowOrigins:  cfg.Origins,
			AllowMethods:  []string{"GET", "POST", "DELETE"},
			AllowHeaders:  []string{"Authorization", "Content-Type"},
			ExposeHeaders: []string{"Content-Length"},
			MaxAge:        12 * time.Hour,
		}))
	}
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	r.GET("/", func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", page) })
	// The API's OpenAPI 3 description: bearer tokens, the {"msg": ...}
	// error body and the statuses each route can answer.
	spec, err := static.ReadFile("static/openapi.json")
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	r.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", spec) })

	r.POST("/signup", func(c *gin.Context) {
		var in struct{ Email, Password, Name string }
		if c.ShouldBindJSON(&in) != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
			return
		}
		in.Email = strings.TrimSpace(in.Email)
		if msg := validate(in.Email, in.Password, in.Name); msg != "" {
			c.JSON(http.StatusBadRequest, gin.H{"msg": msg})
			return
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		// One statement: the row is written whole or not at all.
		id := newUserID()
		_, err = db.ExecContext(c.Request.Context(), `INSERT INTO users (uid, email, name, password_hash) VALUES (?, ?, ?, ?)`,
			id, in.Email, in.Name, string(hash))
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				c.JSON(http.StatusConflict, gin.H{"msg": "Email already registered"})
				return
			}
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusCreated, User{ID: id, Email: in.Email, Name: in.Name})
	})

	r.POST("/token", limiter.middleware, func(c *gin.Context) {
		var in struct{ Email, Password string }
		if c.ShouldBindJSON(&in) != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
			return
		}
		if in.Email == "" || in.Password == "" {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing email or password"})
			return
		}
		// bcrypt reads 72 bytes and ignores the rest: without this check
		// the password followed by anything would log in.
		if len(in.Password) > maxPassword {
			c.JSON(http.StatusBadRequest, gin.H{"msg": fmt.Sprintf("Password too long (%d bytes at most)", maxPassword)})
			return
		}
		var id string
		hash := dummyHash
		var stored string
		err := db.QueryRowContext(c.Request.Context(), `SELECT uid, password_hash FROM users WHERE email = ?`, strings.TrimSpace(in.Email)).Scan(&id, &stored)
		found := err == nil
		if found {
			hash = []byte(stored)
		} else if !errors.Is(err, sql.ErrNoRows) {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		ok := bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) == nil
		if !found || !ok {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Bad email or password"})
			return
		}
		// A new session, listed with this request's user agent and
		// address; fresh, since the password was just given.
		access, refresh, err := jwt.StartSession(c, id, ginjwt.Fresh())
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})

	r.POST("/refresh", jwt.RefreshRequired(), func(c *gin.Context) {
		access, err := jwt.RefreshAccessToken(c)
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access})
	})

	// Logout ends the session of the token it is given: its access token,
	// its refresh token and every access token refreshed from it, even
	// copies. No guard: an expired access token (a tab left idle) still
	// names its session and logs out. Without a token there is nothing to
	// end, and the answer is the same. A body is not read (the refresh
	// token is of the same session), so one sent by an older page is
	// harmless.
	r.DELETE("/logout", func(c *gin.Context) {
		if err := jwt.Logout(c); err != nil {
			jwt.Abort(c, err) // 422 for a token that is not one of ours, 503 when the store is down
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Logged out"})
	})

	// LoadUser: a deleted user's token gets 401 before the handler.
	private := r.Group("/", jwt.JWTRequired(ginjwt.LoadUser()))
	private.GET("/private", func(c *gin.Context) {
		u, err := ginjwt.CurrentUser[User](c)
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, u)
	})
	// The user's sessions, for a "your sessions" page: each login, with
	// the device it came from, and which one is making the request.
	private.GET("/sessions", func(c *gin.Context) {
		list, err := jwt.Sessions(c.Request.Context(), ginjwt.CurrentIdentity(c))
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		current := ginjwt.CurrentClaims(c).SessionID()
		out := make([]SessionInfo, 0, len(list))
		for _, s := range list {
			out = append(out, SessionInfo{ID: s.ID, Created: s.Created.UTC(), Renewed: timeOrNil(s.Renewed),
				Expires: timeOrNil(s.Expires), UserAgent: s.UserAgent, ClientIP: s.ClientIP, Current: s.ID == current})
		}
		c.JSON(http.StatusOK, gin.H{"sessions": out})
	})
	// Signs one session out, as a logout on that device would. Only the
	// user's own: the identity is the token's, never one from the request,
	// and another user's session ID is as unknown as a made-up one.
	private.DELETE("/sessions/:id", func(c *gin.Context) {
		err := jwt.EndSession(c.Request.Context(), ginjwt.CurrentIdentity(c), c.Param("id"))
		if errors.Is(err, ginjwt.ErrSessionNotFound) {
			c.JSON(http.StatusNotFound, gin.H{"msg": "No such session"})
			return
		}
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Session ended"})
	})
	// Sign out everywhere: every token issued to the user so far, on every
	// device, this one included.
	private.DELETE("/sessions", func(c *gin.Context) {
		if err := jwt.RevokeIdentity(c.Request.Context(), ginjwt.CurrentIdentity(c)); err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Signed out everywhere"})
	})
	// Deleting the account wants a fresh token, one from a password
	// login rather than from /refresh: a stolen or long-lived session
	// cannot do it. Then every session of the user ends: without that, a
	// refresh token of another device would still get access tokens
	// (loading nobody).
	r.DELETE("/account", jwt.FreshRequired(ginjwt.LoadUser()), func(c *gin.Context) {
		u, _ := ginjwt.CurrentUser[User](c)
		if _, err := db.ExecContext(c.Request.Context(), `DELETE FROM users WHERE uid = ?`, u.ID); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		if err := jwt.RevokeIdentity(c.Request.Context(), u.ID); err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Account deleted"})
	})
	// Changing the password wants the old one and a fresh token, as
	// deleting the account does. It signs out every device (whoever had
	// the old password or a copied token is locked out), and logs this one
	// in again with a new session.
	r.POST("/password", jwt.FreshRequired(ginjwt.LoadUser()), func(c *gin.Context) {
		u, _ := ginjwt.CurrentUser[User](c)
		var in struct {
			Old string `json:"old_password"`
			New string `json:"new_password"`
		}
		if c.ShouldBindJSON(&in) != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
			return
		}
		if in.Old == "" || in.New == "" {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing old or new password"})
			return
		}
		if msg := validatePassword(in.New); msg != "" {
			c.JSON(http.StatusBadRequest, gin.H{"msg": msg})
			return
		}
		if ok, wait := passwordLimiter.allow(u.ID); !ok {
			tooMany(c, wait, "Too many password attempts, try again later")
			return
		}
		var stored string
		ctx := c.Request.Context()
		if err := db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE uid = ?`, u.ID).Scan(&stored); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		// No stored password is longer than 72 bytes, and bcrypt would
		// ignore what follows them.
		if len(in.Old) > maxPassword || bcrypt.CompareHashAndPassword([]byte(stored), []byte(in.Old)) != nil {
			c.JSON(http.StatusUnauthorized, gin.H{"msg": "Wrong password"})
			return
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(in.New), bcrypt.DefaultCost)
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		// Sign every device out before storing the new password, so that
		// a failure leaves no device signed in with the password changed:
		// the store down (503) changes nothing; a failed UPDATE (500)
		// leaves the old password and every device, this one too, signed
		// out.
		if err := jwt.RevokeIdentity(ctx, u.ID); err != nil {
			jwt.Abort(c, err)
			return
		}
		if _, err := db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE uid = ?`, string(hash), u.ID); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		access, refresh, err := jwt.StartSession(c, u.ID, ginjwt.Fresh())
		if err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "refresh_token": refresh})
	})
	return r, db, nil
}

// limitBody refuses request bodies above maxBody before a handler reads
// them.
func limitBody(c *gin.Context) {
	if c.Request.ContentLength > maxBody {
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"msg": "Request body too large"})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
}

// loginLimiter is a token bucket per client: burst attempts at once, then
// one per every. It holds at most maxClients buckets, so a flood of
// addresses cannot grow it without bound.
type loginLimiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	now     func() time.Time
	clients map[string]bucket
}

type bucket struct {
	tokens float64   // attempts left at at
	at     time.Time // last update
}

// maxClients bounds the limiter's memory (about 100 bytes a client).
const maxClients = 100_000

func newLoginLimiter(burst int, every time.Duration, now func() time.Time) *loginLimiter {
	if burst <= 0 {
		burst = 5
	}
	if every <= 0 {
		every = 12 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &loginLimiter{burst: float64(burst), every: every, now: now, clients: map[string]bucket{}}
}

// allow takes one attempt from key's bucket; when none is left it says how
// long until the next.
func (l *loginLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= maxClients {
			l.prune(now)
		}
		b = bucket{tokens: l.burst, at: now}
	}
	b.tokens = math.Min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens < 1 {
		l.clients[key] = b
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	l.clients[key] = b
	return true, 0
}

// prune forgets the clients whose buckets have refilled (they start full
// anyway), and if all are still draining, an arbitrary half of them.
func (l *loginLimiter) prune(now time.Time) {
	full := time.Duration(l.burst * float64(l.every))
	for k, b := range l.clients {
		if now.Sub(b.at) >= full {
			delete(l.clients, k)
		}
	}
	for k := range l.clients {
		if len(l.clients) < maxClients/2 {
			break
		}
		delete(l.clients, k)
	}
}

// middleware answers 429 when the client has no attempt left, before the
// handler reads the body or runs bcrypt.
func (l *loginLimiter) middleware(c *gin.Context) {
	if ok, wait := l.allow(clientKey(c.ClientIP())); !ok {
		tooMany(c, wait, "Too many login attempts, try again later")
	}
}

// tooMany answers 429 with msg, and when to try again.
func tooMany(c *gin.Context, wait time.Duration, msg string) {
	c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"msg": msg})
}

// clientKey is the limiter's key for a client address: the address, or
// for IPv6 its /64, which one client usually holds whole.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Is4() || addr.Is4In6() {
		return ip
	}
	p, _ := addr.Prefix(64)
	return p.String()
}

// secretKey reads JWT_SECRET_KEY through getenv. Unset, it makes a random
// secret for this run and says so: never a fixed one that anyone reading
// this file could sign tokens with. Tokens then stop working at restart.
func secretKey(getenv func(string) string, logf func(string, ...any)) []byte {
	if s := getenv("JWT_SECRET_KEY"); s != "" {
		return []byte(s)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails (crypto/rand)
	logf("JWT_SECRET_KEY is not set: signing with a random secret made for this run; tokens stop working when the server restarts")
	return secret
}

// splitList reads a comma-separated list (origins, proxies), forgiving
// spaces.
func splitList(list string) []string {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// validate checks sign-up input; it returns the message for the client.
func validate(email, password, name string) string {
	switch {
	case email == "" || password == "":
		return "Missing email or password"
	case len(email) > maxEmail:
		return fmt.Sprintf("Email too long (%d characters at most)", maxEmail)
	case strings.Count(email, "@") != 1 || strings.HasPrefix(email, "@") || strings.HasSuffix(email, "@") || strings.ContainsAny(email, " \t\r\n"):
		return "Invalid email"
	}
	if msg := validatePassword(password); msg != "" {
		return msg
	}
	if len(name) > maxName {
		return fmt.Sprintf("Name too long (%d characters at most)", maxName)
	}
	return ""
}

// validatePassword checks a new password (signup, password change); it
// returns the message for the client.
func validatePassword(password string) string {
	switch {
	case len(password) > maxPassword:
		return fmt.Sprintf("Password too long (%d bytes at most)", maxPassword)
	case len([]rune(password)) < minPassword:
		return fmt.Sprintf("Password too short (%d characters at least)", minPassword)
	}
	return ""
}

func main() {
	secret := secretKey(os.Getenv, log.Printf)
	origins := "http://127.0.0.1:5173,http://localhost:5173"
	if o := os.Getenv("CORS_ORIGINS"); o != "" {
		origins = o
	}
	r, db, err := newApp(Config{DatabasePath: os.Getenv("DATABASE_PATH"), Secret: secret, Origins: splitList(origins),
		TrustedProxies: splitList(os.Getenv("TRUSTED_PROXIES"))})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	srv := &http.Server{Addr: addr, Handler: r, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on http://%s", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
	_ = srv.Shutdown(context.Background())
}
