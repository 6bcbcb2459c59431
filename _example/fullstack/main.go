// Command fullstack is the Gin twin of the full-stack Flask tutorial: users
// in a SQL database with bcrypt-hashed passwords, POST /token for a login,
// a private page that loads the user from the token, token refresh, a
// logout that revokes both tokens, and a plain HTML + JavaScript front end
// that keeps the tokens in sessionStorage and may run on another origin
// (CORS).
//
//	go run .                       # then open http://127.0.0.1:5000
//	DATABASE_PATH=users.db go run .
//
// See README.md for the curl session.
package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
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
	JWTOptions   []ginjwt.Option
}

// User is a row of the users table, as the API shows it.
type User struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
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
	dsn := "file:" + path
	if path == "" {
		dsn = fmt.Sprintf("file:fullstack-%d?mode=memory&cache=shared", time.Now().UnixNano())
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // SQLite writes one at a time; an in-memory DB lives in its connection
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS users (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		email TEXT NOT NULL UNIQUE COLLATE NOCASE,
		name TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL
	)`)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
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
		id, err := strconv.ParseInt(tok.Claims.Identity, 10, 64)
		if err != nil {
			return User{}, ginjwt.ErrUserNotFound
		}
		var u User
		err = db.QueryRowContext(c.Request.Context(), `SELECT id, email, name FROM users WHERE id = ?`, id).Scan(&u.ID, &u.Email, &u.Name)
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, ginjwt.ErrUserNotFound
		}
		return u, err
	}
	jwt, err := ginjwt.New(append([]ginjwt.Option{
		ginjwt.WithSecretKey(cfg.Secret),
		ginjwt.WithUserLookup(lookup),
		// One process: the in-memory blocklist. Several: redisblocklist.
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)),
	}, cfg.JWTOptions...)...)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}

	r := gin.Default()
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
		res, err := db.ExecContext(c.Request.Context(), `INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?)`,
			in.Email, in.Name, string(hash))
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				c.JSON(http.StatusConflict, gin.H{"msg": "Email already registered"})
				return
			}
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		id, _ := res.LastInsertId()
		c.JSON(http.StatusCreated, User{ID: id, Email: in.Email, Name: in.Name})
	})

	r.POST("/token", func(c *gin.Context) {
		var in struct{ Email, Password string }
		if c.ShouldBindJSON(&in) != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing JSON in request"})
			return
		}
		if in.Email == "" || in.Password == "" {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Missing email or password"})
			return
		}
		var id int64
		hash := dummyHash
		var stored string
		err := db.QueryRowContext(c.Request.Context(), `SELECT id, password_hash FROM users WHERE email = ?`, strings.TrimSpace(in.Email)).Scan(&id, &stored)
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
		access, refresh, err := jwt.CreateTokenPair(id, ginjwt.Fresh())
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
	// Logout revokes the access token and, when the body names it, the
	// refresh token: neither works again, even if it was copied.
	private.DELETE("/logout", func(c *gin.Context) {
		var in struct {
			RefreshToken string `json:"refresh_token"`
		}
		if c.Request.ContentLength != 0 && c.ShouldBindJSON(&in) != nil {
			c.JSON(http.StatusBadRequest, gin.H{"msg": "Invalid JSON in request"})
			return
		}
		tok, _ := ginjwt.CurrentToken(c)
		raws := []string{tok.Raw}
		if in.RefreshToken != "" {
			raws = append(raws, in.RefreshToken)
		}
		if err := jwt.Revoke(c.Request.Context(), raws...); err != nil {
			jwt.Abort(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Logged out"})
	})
	private.DELETE("/account", func(c *gin.Context) {
		u, _ := ginjwt.CurrentUser[User](c)
		if _, err := db.ExecContext(c.Request.Context(), `DELETE FROM users WHERE id = ?`, u.ID); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"msg": "Account deleted"})
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

// splitOrigins reads a comma-separated origin list, forgiving spaces.
func splitOrigins(list string) []string {
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
	case len(password) > maxPassword:
		return fmt.Sprintf("Password too long (%d bytes at most)", maxPassword)
	case len([]rune(password)) < minPassword:
		return fmt.Sprintf("Password too short (%d characters at least)", minPassword)
	case len(name) > maxName:
		return fmt.Sprintf("Name too long (%d characters at most)", maxName)
	}
	return ""
}

func main() {
	secret := []byte(os.Getenv("JWT_SECRET_KEY"))
	if len(secret) == 0 {
		log.Print("JWT_SECRET_KEY is not set: using the example's public development secret")
		secret = []byte("example-only-secret-change-me-0123456789")
	}
	origins := "http://127.0.0.1:5173,http://localhost:5173"
	if o := os.Getenv("CORS_ORIGINS"); o != "" {
		origins = o
	}
	r, db, err := newApp(Config{DatabasePath: os.Getenv("DATABASE_PATH"), Secret: secret, Origins: splitOrigins(origins)})
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
