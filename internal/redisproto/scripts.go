package redisproto

import (
	"crypto/sha1" //nolint:gosec // G505: Redis names scripts by their SHA-1; not for security
	"encoding/hex"
)

// Script is a Lua script of the stores, each on one key (KEYS[1]), so
// that Redis Cluster runs it whatever the key's slot.
type Script struct {
	// Source is the script's text (EVAL).
	Source string
	// SHA1 is its name in Redis's script cache (EVALSHA).
	SHA1 string
}

func newScript(src string) Script {
	sum := sha1.Sum([]byte(src)) //nolint:gosec // G401: Redis names scripts by their SHA-1
	return Script{Source: src, SHA1: hex.EncodeToString(sum[:])}
}

// Revoke sets the token key KEYS[1] for ARGV[1] ms (0: no expiry), keeping
// a longer TTL it already has. It always writes, so that a WAIT after it
// covers the entry whatever connection wrote it first. It returns 1.
var Revoke = newScript(`
local want = tonumber(ARGV[1])
local have = redis.call('PTTL', KEYS[1])
if have == -1 then
  want = 0
elseif want > 0 and have > want then
  want = have
end
if want == 0 then
  redis.call('SET', KEYS[1], '1')
else
  redis.call('SET', KEYS[1], '1', 'PX', want)
end
return 1
`)

// Rotate moves the family key KEYS[1] from ARGV[1] to ARGV[2] for ARGV[3]
// ms (0: no expiry, -1: already expired, so deleted) when it is absent or
// holds ARGV[1]; it returns 1 then, else 0 and changes nothing.
var Rotate = newScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return 0
end
local ms = tonumber(ARGV[3])
if ms > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ms)
elseif ms == 0 then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
`)
