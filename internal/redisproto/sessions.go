package redisproto

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// An identity's sessions (WithSessionList) are one hash, Keys.Sessions:
// a field per session ID, whose value is
//
//	<expires>,<renewed>,<created>,<len(client IP)>,<client IP><user agent>
//
// with times in milliseconds since 1970, empty for the zero time (never,
// for expires). Expiry comes first so that the scripts read it with one
// pattern. Every write removes the expired sessions and sets the hash's
// TTL to the latest expiry (none when a session never expires), so the
// hash holds the live sessions only, plus those expired since its last
// write, and goes when the last one expires. One key per identity keeps
// every operation on one Cluster slot.

// Session is one session as the hash holds it; the stores turn it into a
// ginjwt.Session (this package imports nothing but the standard library).
type Session struct {
	ID                        string
	Created, Renewed, Expires time.Time
	UserAgent, ClientIP       string
}

// settle is the part of every session script that sweeps the hash KEYS[1]
// at now (ms) and sets its TTL to the latest expiry left.
const settle = `
local function settle(key, now)
  local all = redis.call('HGETALL', key)
  local last = 0
  for i = 1, #all, 2 do
    local e = string.match(all[i + 1], '^(%-?%d*),')
    if e == '' then
      last = -1
    elseif e == nil or tonumber(e) <= now then
      redis.call('HDEL', key, all[i])
    elseif last ~= -1 and tonumber(e) > last then
      last = tonumber(e)
    end
  end
  if last == -1 then
    redis.call('PERSIST', key)
  elseif last > 0 then
    redis.call('PEXPIRE', key, last - now + 1)
  end
end
`

// SaveSession stores the session ARGV[2] with the value ARGV[3] in the
// hash KEYS[1], replacing one of the same ID, at the time ARGV[1] (ms).
// It returns 1.
var SaveSession = newScript(settle + `
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
settle(KEYS[1], tonumber(ARGV[1]))
return 1
`)

// TouchSession records a renewal of the session ARGV[2] of the hash
// KEYS[1] at the time ARGV[1] (ms): renewed becomes ARGV[3], expires the
// later of ARGV[4] and its own (empty: never). A session absent or
// expired stays absent, and the script returns 0; else 1.
var TouchSession = newScript(settle + `
local now = tonumber(ARGV[1])
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then
  return 0
end
local e, _, rest = string.match(v, '^(%-?%d*),(%-?%d*),(.*)$')
if e == nil or (e ~= '' and tonumber(e) <= now) then
  settle(KEYS[1], now)
  return 0
end
local x = ARGV[4]
if e == '' or x == '' then
  x = ''
elseif tonumber(e) > tonumber(x) then
  x = e
end
redis.call('HSET', KEYS[1], ARGV[2], x .. ',' .. ARGV[3] .. ',' .. rest)
settle(KEYS[1], now)
return 1
`)

// DeleteSession removes the session ARGV[2] from the hash KEYS[1] at the
// time ARGV[1] (ms). It returns 1, removed or not, so that a WAIT after
// it covers an earlier removal through another connection.
var DeleteSession = newScript(settle + `
redis.call('HDEL', KEYS[1], ARGV[2])
settle(KEYS[1], tonumber(ARGV[1]))
return 1
`)

// Millis is a time as the scripts take it: milliseconds since 1970, empty
// for the zero time.
func Millis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func unmillis(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}

// EncodeSession returns the hash value of s (its ID is the field).
func EncodeSession(s Session) string {
	return Millis(s.Expires) + "," + Millis(s.Renewed) + "," + Millis(s.Created) + "," +
		strconv.Itoa(len(s.ClientIP)) + "," + s.ClientIP + s.UserAgent
}

var errSession = errors.New("redisproto: unreadable session")

// DecodeSession reads the hash value of session id.
func DecodeSession(id, v string) (Session, error) {
	s := Session{ID: id}
	var times [3]time.Time
	for i := range times {
		field, rest, ok := strings.Cut(v, ",")
		if !ok {
			return Session{}, errSession
		}
		t, err := unmillis(field)
		if err != nil {
			return Session{}, errSession
		}
		times[i], v = t, rest
	}
	s.Expires, s.Renewed, s.Created = times[0], times[1], times[2]
	field, rest, ok := strings.Cut(v, ",")
	n, err := strconv.Atoi(field)
	if !ok || err != nil || n < 0 || n > len(rest) {
		return Session{}, errSession
	}
	s.ClientIP, s.UserAgent = rest[:n], rest[n:]
	return s, nil
}

// LiveSessions reads a hash of sessions (field → value) and returns those
// live at now, in any order. An expired session is one a write has not
// swept yet.
func LiveSessions(hash map[string]string, now time.Time) ([]Session, error) {
	var out []Session
	for id, v := range hash {
		s, err := DecodeSession(id, v)
		if err != nil {
			return nil, err
		}
		if s.Expires.IsZero() || now.Before(s.Expires) {
			out = append(out, s)
		}
	}
	return out, nil
}
