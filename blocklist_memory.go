package ginjwt

import (
	"context"
	"sync"
	"time"
)

// MemoryBlocklist is a Blocklist for a single process. Its entries go away
// once their tokens have expired, a few at a time on each write, so a
// sweep never holds the lock that guarded requests read under. Memory
// follows the number of revoked, unexpired tokens plus one record per live
// login under WithRefreshRotation: about 150 bytes per entry. Several
// instances of a service need a shared store such as the redisblocklist
// module.
type MemoryBlocklist struct {
	mu       sync.RWMutex
	revoked  map[string]memEntry // key → revocation
	families map[string]memEntry // family → current refresh token
	expiries expiryHeap          // at most one item per entry with an expiry
	now      func() time.Time
}

// memEntry is a revocation (jti unused) or a family's current token.
type memEntry struct {
	until     time.Time // zero: forever
	jti       string
	scheduled bool // an item for this entry is in the expiry heap
}

// sweepBudget bounds the expired entries one write removes: more than the
// one a write can add, so a backlog drains, and few enough that the write
// lock stays short however many entries expire at once.
const sweepBudget = 16

// NewMemoryBlocklist returns an empty MemoryBlocklist. now is the clock
// used to expire entries; nil means time.Now.
func NewMemoryBlocklist(now func() time.Time) *MemoryBlocklist {
	if now == nil {
		now = time.Now
	}
	return &MemoryBlocklist{revoked: map[string]memEntry{}, families: map[string]memEntry{}, now: now}
}

// Revoke implements Blocklist.
func (b *MemoryBlocklist) Revoke(_ context.Context, key string, until time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	if !until.IsZero() && !now.Before(until) {
		return nil
	}
	old, inForce := lookup(b.revoked, key, now)
	if inForce && (old.until.IsZero() || (!until.IsZero() && old.until.After(until))) {
		return nil // keep the longer revocation
	}
	b.revoked[key] = b.schedule(key, false, old.scheduled, until)
	return nil
}

// IsRevoked implements Blocklist.
func (b *MemoryBlocklist) IsRevoked(_ context.Context, keys ...string) (bool, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	now := b.now()
	for _, k := range keys {
		if _, inForce := lookup(b.revoked, k, now); inForce {
			return true, nil
		}
	}
	return false, nil
}

// Rotate implements Blocklist.
func (b *MemoryBlocklist) Rotate(_ context.Context, family, prev, next string, until time.Time) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	old, inForce := lookup(b.families, family, now)
	if inForce && old.jti != prev {
		return false, nil
	}
	e := b.schedule(family, true, old.scheduled, until)
	e.jti = next
	b.families[family] = e
	return true, nil
}

// Current implements Blocklist.
func (b *MemoryBlocklist) Current(_ context.Context, family string) (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if e, inForce := lookup(b.families, family, b.now()); inForce {
		return e.jti, nil
	}
	return "", nil
}

// revokedToken is IsRevoked for a token ID and its family ("" for none),
// without the variadic slice: the guard's fast path.
func (b *MemoryBlocklist) revokedToken(jti, family string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	now := b.now()
	if _, inForce := lookup(b.revoked, jti, now); inForce {
		return true
	}
	if family == "" {
		return false
	}
	_, inForce := lookup(b.revoked, familyKey(family), now)
	return inForce
}

// Len returns the number of entries held (revocations and family records),
// expired ones not yet swept included.
func (b *MemoryBlocklist) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.revoked) + len(b.families)
}

// lookup returns the entry for key and whether it is in force at now.
func lookup(entries map[string]memEntry, key string, now time.Time) (memEntry, bool) {
	e, ok := entries[key]
	return e, ok && (e.until.IsZero() || now.Before(e.until))
}

// schedule returns the entry for key expiring at until, pushing an expiry
// item unless one is already queued (it is moved on when it comes due).
func (b *MemoryBlocklist) schedule(key string, family, queued bool, until time.Time) memEntry {
	e := memEntry{until: until, scheduled: queued}
	if !until.IsZero() && !queued {
		b.expiries.push(expiryItem{at: until, key: key, family: family})
		e.scheduled = true
	}
	return e
}

// sweep removes up to sweepBudget expired entries. An item whose entry was
// extended since it was queued is queued again at the new expiry, so each
// entry has at most one item and the heap stays as small as the maps.
func (b *MemoryBlocklist) sweep(now time.Time) {
	for range sweepBudget {
		if len(b.expiries) == 0 || now.Before(b.expiries[0].at) {
			return
		}
		it := b.expiries.pop()
		entries := b.revoked
		if it.family {
			entries = b.families
		}
		e, ok := entries[it.key]
		switch {
		case !ok:
		case e.until.IsZero():
			e.scheduled = false
			entries[it.key] = e
		case now.Before(e.until):
			it.at = e.until
			b.expiries.push(it)
		default:
			delete(entries, it.key)
		}
	}
}

// expiryItem is when an entry of one of the maps is due.
type expiryItem struct {
	at     time.Time
	key    string
	family bool
}

// expiryHeap is a binary min-heap of items by time. It is written out
// rather than built on container/heap, whose interface boxes every item
// pushed and popped: an allocation per entry under the write lock.
type expiryHeap []expiryItem

func (h *expiryHeap) push(it expiryItem) {
	*h = append(*h, it)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q[i].at.Before(q[parent].at) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *expiryHeap) pop() expiryItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = expiryItem{}
	q = q[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].at.Before(q[least].at) {
			least = l
		}
		if r < len(q) && q[r].at.Before(q[least].at) {
			least = r
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	*h = q
	return top
}
