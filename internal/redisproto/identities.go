package redisproto

import (
	"strconv"
	"time"
)

// An identity's cutoff ("log out everywhere") is one key, Keys.Identity,
// holding the cutoff in milliseconds since 1970 as a decimal integer,
// with a TTL at the end of the longest token it refuses. Tokens of the
// identity issued before the cutoff are refused.

// RevokeIdentity sets the identity key KEYS[1] to the cutoff ARGV[1] (ms)
// for ARGV[2] ms (0: no expiry), keeping the later cutoff and the longer
// TTL of what it already holds. Lua's numbers are doubles, exact for
// every millisecond count of a real time; the stored cutoff is one of the
// two texts, never a number printed back. It returns 1.
var RevokeIdentity = newScript(`
local want = tonumber(ARGV[2])
local have = redis.call('PTTL', KEYS[1])
if have == -1 then
  want = 0
elseif want > 0 and have > want then
  want = have
end
local cutoff = ARGV[1]
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) and tonumber(cur) > tonumber(cutoff) then
  cutoff = cur
end
if want == 0 then
  redis.call('SET', KEYS[1], cutoff)
else
  redis.call('SET', KEYS[1], cutoff, 'PX', want)
end
return 1
`)

// Cutoff returns the value RevokeIdentity stores for before: its time in
// milliseconds, rounded up, so that a cutoff between two milliseconds
// refuses the tokens of the earlier one rather than let them through.
func Cutoff(before time.Time) string {
	ms := before.UnixMilli() // rounded down, also before 1970
	if before.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return strconv.FormatInt(ms, 10)
}

// ParseCutoff reads the value of an identity key.
func ParseCutoff(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) }

// IssuedBefore reports whether a token issued at issued is refused by a
// cutoff: compared to the millisecond, issued rounded down. The zero time
// (a token without "iat") is before every cutoff.
func IssuedBefore(issued time.Time, cutoff int64) bool { return issued.UnixMilli() < cutoff }
