// Package sqlblocklist is a ginjwt.Blocklist in the application's own SQL
// database (flask-jwt-extended's blocklist_database.py), so that logouts,
// refresh-token rotation, "log out everywhere" and the list of a user's
// sessions survive restarts without a Redis server. It works on
// database/sql with SQLite and PostgreSQL; the application brings its own
// driver and *sql.DB. It lives in its own module: ginjwt's users who do
// not need it never download it.
//
//	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // or "sqlite"
//	store, err := sqlblocklist.New(ctx, db, sqlblocklist.Postgres)
//	jwt, err := ginjwt.New(
//		ginjwt.WithSecretKey(secret),
//		ginjwt.WithBlocklist(store),
//		ginjwt.WithSessionList(0), // optional
//	)
//
// A Store implements ginjwt.RotationStore, ginjwt.IdentityRevoker and
// ginjwt.SessionStore. New creates its tables, or migrates them, and
// records the schema version. Revoked keys are rows that live until their
// token expires; each refresh-token family (one login under
// WithRefreshRotation) is one row holding its current token ID, moved on
// by a single compare-and-set statement, so exactly one of concurrent
// rotations wins. Manager.RevokeIdentity keeps one row per identity, its
// cutoff in milliseconds, and the guards' check reads it together with
// the token's keys in one statement, one round trip. WithSessionList
// keeps one row per live session. Expired rows are deleted in bounded
// batches by the writes that follow (and by Sweep), never by a
// long-running statement that readers would wait for.
package sqlblocklist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginjwt/ginjwt"
)

// Dialect names the SQL database behind the *sql.DB. Both supported
// databases have INSERT ... ON CONFLICT; they differ in placeholders and
// in how a migration is serialized between processes.
type Dialect int

const (
	// SQLite is SQLite 3.24 or later, with any driver
	// (modernc.org/sqlite, github.com/mattn/go-sqlite3, ...). SQLite has
	// one writer at a time: give the connections a busy timeout (e.g.
	// modernc's "_pragma=busy_timeout(5000)") or use one connection
	// (db.SetMaxOpenConns(1)), or concurrent writes fail with "database
	// is locked". WAL mode ("_pragma=journal_mode(WAL)") lets readers go
	// on while a write runs.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 9.5 or later, with any driver
	// (github.com/jackc/pgx/v5/stdlib, github.com/lib/pq, ...).
	Postgres
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// ErrSchemaTooNew is returned by New when the database's schema was made
// by a newer version of this package: the store refuses to read a layout
// it does not know rather than misread it.
var ErrSchemaTooNew = errors.New("sqlblocklist: the database schema is newer than this version of sqlblocklist")

// Store is a ginjwt.Blocklist in a SQL database. It is safe for concurrent
// use, by goroutines and by processes sharing the database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	prefix  string
	now     func() time.Time
	every   time.Duration // between sweeps
	batch   int           // rows a sweep deletes per table, at most

	q queries

	// writer serializes this process's writes on SQLite, which runs one
	// writer at a time anyway: waiting here, in order and bounded by the
	// caller's context, beats SQLite's busy handler, whose sleeps grow
	// to many milliseconds per retry. Nil on PostgreSQL.
	writer chan struct{}

	lastSweep atomic.Int64 // unix nanoseconds
	backlog   atomic.Bool  // the last sweep was full: more expired rows wait
	sweeping  sync.Mutex   // one sweep at a time
}

var (
	_ ginjwt.RotationStore   = (*Store)(nil)
	_ ginjwt.IdentityRevoker = (*Store)(nil)
	_ ginjwt.SessionStore    = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store) error

// WithTablePrefix sets the prefix of the table names. Default "ginjwt_":
// the tables are ginjwt_revoked, ginjwt_families, ginjwt_identities,
// ginjwt_sessions and ginjwt_schema_version. It must be a plain SQL
// identifier prefix (letters, digits, underscores, not starting with a
// digit) of at most 41 characters.
func WithTablePrefix(prefix string) Option {
	return func(s *Store) error {
		if !identifier.MatchString(prefix) {
			return fmt.Errorf("sqlblocklist: WithTablePrefix(%q): letters, digits and underscores only, not starting with a digit", prefix)
		}
		s.prefix = prefix
		return nil
	}
}

// identifier is what a table prefix may look like: it is spliced into the
// SQL text, so nothing that could quote or end a name. 41 characters
// leave room for the longest name, <prefix>identities_expires_at, within
// PostgreSQL's 63.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)

// WithClock sets the clock that decides expiry, for tests. Default:
// time.Now. Every process sharing the database should have the same time.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("sqlblocklist: WithClock(nil)")
		}
		s.now = now
		return nil
	}
}

// WithSweep sets how often writes delete expired rows (every, default one
// minute) and how many rows one sweep deletes per table at most (batch,
// default 1000). While a sweep finds a full batch, the next write sweeps
// again, so deletion keeps up with any rate of revocation in steps of
// bounded work.
func WithSweep(every time.Duration, batch int) Option {
	return func(s *Store) error {
		if every <= 0 || batch <= 0 {
			return fmt.Errorf("sqlblocklist: WithSweep(%v, %d): both must be positive", every, batch)
		}
		s.every, s.batch = every, batch
		return nil
	}
}

// New returns a Store on db, creating or migrating its tables first. ctx
// bounds the migration. The Store does not own db: close db yourself.
func New(ctx context.Context, db *sql.DB, dialect Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlblocklist: nil *sql.DB")
	}
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("sqlblocklist: unknown dialect %v", dialect)
	}
	s := &Store{db: db, dialect: dialect, prefix: "ginjwt_", now: time.Now, every: time.Minute, batch: 1000}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	s.q = s.buildQueries()
	if dialect == SQLite {
		s.writer = make(chan struct{}, 1)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	s.lastSweep.Store(s.now().UnixNano())
	return s, nil
}

// forever is the stored expiry of a key revoked for as long as the store
// lives: later than any real time, so "expires_at > now" needs no special
// case.
const forever = math.MaxInt64

// stamp turns an expiry into the stored integer: microseconds since 1970,
// forever for the zero time.
func stamp(t time.Time) int64 {
	if t.IsZero() {
		return forever
	}
	return t.UnixMicro()
}

// unstamp is stamp's inverse.
func unstamp(us int64) time.Time {
	if us == forever {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// queries are the statements of one Store, in its dialect and with its
// table names.
type queries struct {
	revoke, current, rotate string
	// isRevoked[n] asks about n keys: a token, or a token and its family.
	isRevoked [3]string
	identity  identityQueries
	session   sessionQueries
	// sweeps delete a bounded batch of expired rows, one per table.
	sweeps []string
}

func (s *Store) buildQueries() queries {
	r, f := s.prefix+"revoked", s.prefix+"families"
	i, ss := s.prefix+"identities", s.prefix+"sessions"
	return queries{
		// Revoking again keeps the later expiry: a second logout must not
		// shorten a family revocation.
		revoke: s.sql(`INSERT INTO ` + r + ` (id, expires_at) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET expires_at = CASE
				WHEN excluded.expires_at > ` + r + `.expires_at THEN excluded.expires_at
				ELSE ` + r + `.expires_at END`),
		isRevoked: [3]string{1: s.revokedQuery(1), 2: s.revokedQuery(2)},
		current:   s.sql(`SELECT token_id FROM ` + f + ` WHERE family = ? AND expires_at > ?`),
		// The compare-and-set in one statement: the insert wins when the
		// family has no row; otherwise the update runs only when the row
		// still holds prev (or has expired). Both databases lock the row
		// and evaluate the WHERE against its latest version, so of
		// concurrent calls with the same prev one changes a row and the
		// others change none.
		rotate: s.sql(`INSERT INTO ` + f + ` (family, token_id, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (family) DO UPDATE SET token_id = excluded.token_id, expires_at = excluded.expires_at
			WHERE ` + f + `.token_id = ? OR ` + f + `.expires_at <= ?`),
		identity: s.identityQueries(),
		session:  s.sessionQueries(),
		// Bounded deletes: the index on expires_at finds the batch, and
		// the statement never holds more than batch rows. Each takes the
		// time, then the batch size.
		sweeps: []string{
			s.sql(`DELETE FROM ` + r + ` WHERE id IN (SELECT id FROM ` + r + ` WHERE expires_at <= ? LIMIT ?)`),
			s.sql(`DELETE FROM ` + f + ` WHERE family IN (SELECT family FROM ` + f + ` WHERE expires_at <= ? LIMIT ?)`),
			s.sql(`DELETE FROM ` + i + ` WHERE identity IN (SELECT identity FROM ` + i + ` WHERE expires_at <= ? LIMIT ?)`),
			s.sql(`DELETE FROM ` + ss + ` WHERE (identity, id) IN (SELECT identity, id FROM ` + ss + ` WHERE expires_at <= ? LIMIT ?)`),
		},
	}
}

// sql turns the ? placeholders of query into the dialect's. The queries
// have no ? inside literals.
func (s *Store) sql(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrations are the schema versions in order: migrations[i] brings the
// schema from version i to i+1. Never edit a released one; append.
func (s *Store) migrations() [][]string {
	r, f := s.prefix+"revoked", s.prefix+"families"
	i, ss := s.prefix+"identities", s.prefix+"sessions"
	return [][]string{
		{ // 1: revoked keys and family records, each with the expiry the sweep orders by.
			`CREATE TABLE IF NOT EXISTS ` + r + ` (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS ` + r + `_expires_at ON ` + r + ` (expires_at)`,
			`CREATE TABLE IF NOT EXISTS ` + f + ` (family TEXT PRIMARY KEY, token_id TEXT NOT NULL, expires_at BIGINT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS ` + f + `_expires_at ON ` + f + ` (expires_at)`,
		},
		{ // 2: identity cutoffs (RevokeIdentity) and the session list.
			// Cutoffs and session times are milliseconds, the precision
			// ginjwt tells tokens apart by; a NULL session time is the
			// zero time, which no count of milliseconds stands for.
			`CREATE TABLE IF NOT EXISTS ` + i + ` (identity TEXT PRIMARY KEY, before_ms BIGINT NOT NULL, expires_at BIGINT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS ` + i + `_expires_at ON ` + i + ` (expires_at)`,
			`CREATE TABLE IF NOT EXISTS ` + ss + ` (identity TEXT NOT NULL, id TEXT NOT NULL,
				created_ms BIGINT, renewed_ms BIGINT, expires_at BIGINT NOT NULL,
				user_agent TEXT NOT NULL, client_ip TEXT NOT NULL, PRIMARY KEY (identity, id))`,
			`CREATE INDEX IF NOT EXISTS ` + ss + `_expires_at ON ` + ss + ` (expires_at)`,
		},
	}
}

// SchemaVersion is the schema version this package creates and reads.
const SchemaVersion = 2

// runner is what a migration runs statements on: a PostgreSQL
// transaction, or a SQLite connection inside BEGIN IMMEDIATE.
type runner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrate brings the schema to SchemaVersion in one transaction, so a
// failed migration leaves the previous version whole. Processes starting
// together take turns: PostgreSQL through an advisory lock (concurrent
// CREATE TABLE IF NOT EXISTS can fail there), SQLite by taking the write
// lock first (BEGIN IMMEDIATE), since a transaction that has read cannot
// wait for the lock and fails with SQLITE_BUSY.
func (s *Store) migrate(ctx context.Context) error {
	var err error
	if s.dialect == Postgres {
		err = s.migratePostgres(ctx)
	} else {
		err = s.migrateSQLite(ctx)
	}
	if err != nil {
		return fmt.Errorf("sqlblocklist: migrate: %w", err)
	}
	return nil
}

func (s *Store) migratePostgres(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	h := fnv.New64a()
	_, _ = h.Write([]byte("ginjwt sqlblocklist " + s.prefix))
	if _, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil { //nolint:gosec // G115: any 64 bits make a lock key
		return err
	}
	if err := s.migrateOn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) migrateSQLite(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return err
	}
	if err := s.migrateOn(ctx, conn); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	return nil
}

// migrateOn reads the schema version and runs the missing steps.
func (s *Store) migrateOn(ctx context.Context, r runner) error {
	v := s.prefix + "schema_version"
	if _, err := r.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+v+` (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	version := 0
	err := r.QueryRowContext(ctx, `SELECT version FROM `+v).Scan(&version)
	fresh := errors.Is(err, sql.ErrNoRows)
	if err != nil && !fresh {
		return err
	}
	steps := s.migrations()
	if version > len(steps) {
		return fmt.Errorf("%w: version %d, this package knows %d", ErrSchemaTooNew, version, len(steps))
	}
	for _, step := range steps[version:] {
		for _, stmt := range step {
			if _, err := r.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
	}
	switch {
	case fresh:
		_, err = r.ExecContext(ctx, s.sql(`INSERT INTO `+v+` (version) VALUES (?)`), len(steps))
	case version < len(steps):
		_, err = r.ExecContext(ctx, s.sql(`UPDATE `+v+` SET version = ?`), len(steps))
	}
	return err
}

// Revoke implements ginjwt.Blocklist: one row per key, kept until the
// later of its expiries.
func (s *Store) Revoke(ctx context.Context, key string, until time.Time) error {
	now := s.now()
	if !until.IsZero() && !until.After(now) {
		return nil // the token has expired: nothing to remember
	}
	if _, err := s.write(ctx, s.q.revoke, key, stamp(until)); err != nil {
		return fmt.Errorf("sqlblocklist: revoke: %w", err)
	}
	s.maybeSweep(ctx, now)
	return nil
}

// write runs one writing statement and returns the number of rows it
// changed, after waiting for this process's other writes on SQLite.
func (s *Store) write(ctx context.Context, query string, args ...any) (int64, error) {
	if s.writer != nil {
		select {
		case s.writer <- struct{}{}:
			defer func() { <-s.writer }()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// IsRevoked implements ginjwt.Blocklist with one query whatever the number
// of keys.
func (s *Store) IsRevoked(ctx context.Context, keys ...string) (bool, error) {
	if len(keys) == 0 {
		return false, nil
	}
	args := make([]any, 0, 1+len(keys))
	args = append(args, s.now().UnixMicro())
	for _, k := range keys {
		args = append(args, k)
	}
	var query string
	if len(keys) < len(s.q.isRevoked) {
		query = s.q.isRevoked[len(keys)]
	} else {
		query = s.revokedQuery(len(keys))
	}
	var one int
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlblocklist: check: %w", err)
	}
	return true, nil
}

// revokedQuery asks whether any of n keys is revoked; its arguments are
// the time, then the keys.
func (s *Store) revokedQuery(n int) string {
	return s.sql(`SELECT 1 FROM ` + s.prefix + `revoked WHERE expires_at > ? AND id IN (?` +
		strings.Repeat(", ?", n-1) + `) LIMIT 1`)
}

// Rotate implements ginjwt.RotationStore: one INSERT ... ON CONFLICT DO UPDATE
// ... WHERE statement on the family's row, whose affected-row count is the
// answer. A false answer has changed nothing.
func (s *Store) Rotate(ctx context.Context, family, prev, next string, until time.Time) (bool, error) {
	now := s.now()
	n, err := s.write(ctx, s.q.rotate, family, next, stamp(until), prev, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("sqlblocklist: rotate: %w", err)
	}
	s.maybeSweep(ctx, now)
	return n > 0, nil
}

// Current implements ginjwt.RotationStore.
func (s *Store) Current(ctx context.Context, family string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.q.current, family, s.now().UnixMicro()).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("sqlblocklist: current: %w", err)
	}
	return id, nil
}

// Sweep deletes expired rows: at most the batch size of WithSweep from
// each table. It returns how many rows it deleted; while that is at least
// the batch size, more may be waiting. Writes sweep on their own (see
// WithSweep); call Sweep from a timer of yours if writes are rare and you
// want the tables small anyway.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	s.sweeping.Lock()
	defer s.sweeping.Unlock()
	return s.sweep(ctx, s.now())
}

func (s *Store) sweep(ctx context.Context, now time.Time) (int64, error) {
	s.lastSweep.Store(now.UnixNano())
	var total int64
	full := false
	for _, q := range s.q.sweeps {
		n, err := s.write(ctx, q, now.UnixMicro(), s.batch)
		if err != nil {
			return total, fmt.Errorf("sqlblocklist: sweep: %w", err)
		}
		total += n
		full = full || n >= int64(s.batch)
	}
	s.backlog.Store(full)
	return total, nil
}

// maybeSweep runs a sweep after a write when one is due, unless one is
// running. Its error is dropped: the write it follows has succeeded, and
// the next write tries again.
func (s *Store) maybeSweep(ctx context.Context, now time.Time) {
	if !s.backlog.Load() && now.UnixNano()-s.lastSweep.Load() < int64(s.every) {
		return
	}
	if !s.sweeping.TryLock() {
		return
	}
	defer s.sweeping.Unlock()
	_, _ = s.sweep(ctx, now)
}
