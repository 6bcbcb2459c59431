// Package redisproto is the protocol the two Redis stores share:
// redisblocklist (on go-redis) and rueidisblocklist (on rueidis). It holds
// what must be the same in both for them to share one Redis, so that a
// fleet can move from one to the other an instance at a time: the key
// layout, the Lua scripts as text, how an expiry becomes a TTL, and how
// the values they store are written and read. Each store sends the
// commands with its own client; nothing here talks to Redis.
//
// It imports only the standard library, so that the core module, which
// holds it, depends on no Redis client.
package redisproto

import (
	"encoding/hex"
	"errors"
	"time"
)

// DefaultPrefix is the prefix of every key of a store unless the
// application sets its own.
const DefaultPrefix = "ginjwt:revoked:"

// Keys is the key layout of a store under one prefix. Every key of the
// store starts with the prefix, so that Redis's invalidations of the
// prefix (rueidisblocklist's CLIENT TRACKING BCAST) cover all of them:
//
//	<prefix><key>                   a revoked token ID or session ("fam:" + ID): "1"
//	<prefix>cur:<session>           a session's current refresh token ID (rotation)
//	<prefix>\xffi:<hex(identity)>   an identity's cutoff, in ms since 1970
//	<prefix>\xffs:<hex(identity)>   an identity's sessions: a hash, ID → session
//
// The keys ginjwt revokes are claims of a verified token (a "jti", a
// "sid"), which it reads only as valid UTF-8; 0xFF never occurs in UTF-8,
// so an identity's keys can never be a token's, whatever either holds, and
// hex keeps one identity's keys apart from another's.
type Keys struct{ Prefix string }

// marker starts the keys of identities: a byte no UTF-8 text holds.
const marker = "\xff"

// Token returns the key of a revoked token or session.
func (k Keys) Token(key string) string { return k.Prefix + key }

// Family returns the key of a session's current refresh token.
func (k Keys) Family(session string) string { return k.Prefix + "cur:" + session }

// Identity returns the key of identity's cutoff.
func (k Keys) Identity(identity string) string {
	return k.Prefix + string(AppendIdentity(nil, identity))
}

// AppendIdentity appends the key of identity's cutoff without the prefix
// to dst: what Redis's invalidations name once the prefix is cut, built
// in a buffer of the caller's, so a lookup by it need not allocate.
func AppendIdentity(dst []byte, identity string) []byte {
	dst = append(dst, marker+"i:"...)
	for i := 0; i < len(identity); i++ {
		dst = append(dst, hexDigits[identity[i]>>4], hexDigits[identity[i]&0xf])
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// Sessions returns the key of the hash of identity's sessions.
func (k Keys) Sessions(identity string) string {
	return k.Prefix + marker + "s:" + hex.EncodeToString([]byte(identity))
}

// CheckPrefix reports a prefix a store must not use. An empty one would
// put the store's keys among the application's: a token ID equal to one
// of them would overwrite it.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return errors.New("empty key prefix: the store's keys would mix with every other key in Redis")
	}
	return nil
}

// TTL turns an expiry into the TTL the scripts take, in milliseconds: 0
// for none (zero until: keep the key), -1 for an expiry already past
// (nothing to store). Redis keeps whole milliseconds; the TTL is rounded
// up, so a key never goes before what it protects.
func TTL(until, now time.Time) int64 {
	if until.IsZero() {
		return 0
	}
	d := until.Sub(now)
	if d <= 0 {
		return -1
	}
	return (d.Truncate(time.Millisecond) + time.Millisecond).Milliseconds()
}
