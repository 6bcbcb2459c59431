package ginjwt

import (
	"context"
	"sync"
	"time"
)

// MemoryBlocklist is a Blocklist, with every capability, for one process;
// it forgets on restart, and several instances need a shared store. It
// holds an entry (about 150 bytes) per live revocation, rotating or listed
// session and revoked identity, dropping expired ones as it writes.
type MemoryBlocklist struct {
	mu         sync.RWMutex
	revoked    map[string]memEntry              // key → revocation
	families   map[string]memEntry              // session → current refresh token
	identities map[string]memEntry              // identity → cutoff
	sessions   map[string]map[string]memSession // identity → session ID → session
	expiries   expiryHeap                       // at most one item per entry with an expiry
	now        func() time.Time
}

// memEntry is a revocation, a session's current token (jti) or an
// identity's cutoff (before).
type memEntry struct {
	until     time.Time // zero: forever
	jti       string
	before    time.Time
	scheduled bool // an item for this entry is in the expiry heap
}

type memSession struct {
	Session
	scheduled bool
}

// sweepBudget bounds the expired entries one write removes: more than the
// one a write can add, so a backlog drains, and few enough that the write
// lock stays short however many entries expire at once.
const sweepBudget = 16

// NewMemoryBlocklist returns an empty MemoryBlocklist with clock now (nil:
// time.Now).
func NewMemoryBlocklist(now func() time.Time) *MemoryBlocklist {
	if now == nil {
		now = time.Now
	}
	return &MemoryBlocklist{
		revoked:    map[string]memEntry{},
		families:   map[string]memEntry{},
		identities: map[string]memEntry{},
		sessions:   map[string]map[string]memSession{},
		now:        now,
	}
}

var (
	_ RotationStore   = (*MemoryBlocklist)(nil)
	_ IdentityRevoker = (*MemoryBlocklist)(nil)
	_ SessionStore    = (*MemoryBlocklist)(nil)
)

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
	b.revoked[key] = b.schedule(expiryItem{key: key, kind: revokedItem}, old.scheduled, until)
	return nil
}

// IsRevoked implements Blocklist.
func (b *MemoryBlocklist) IsRevoked(_ context.Context, keys ...string) (bool, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.anyRevoked(keys, b.now()), nil
}

func (b *MemoryBlocklist) anyRevoked(keys []string, now time.Time) bool {
	for _, k := range keys {
		if _, inForce := lookup(b.revoked, k, now); inForce {
			return true
		}
	}
	return false
}

// RevokeIdentity implements IdentityRevoker.
func (b *MemoryBlocklist) RevokeIdentity(_ context.Context, identity string, before, until time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	if !until.IsZero() && !now.Before(until) {
		return nil
	}
	old, inForce := lookup(b.identities, identity, now)
	if inForce {
		if old.before.After(before) {
			before = old.before
		}
		until = laterOf(old.until, until)
	}
	e := b.schedule(expiryItem{key: identity, kind: identityItem}, old.scheduled, until)
	e.before = before
	b.identities[identity] = e
	return nil
}

// IsRevokedFor implements IdentityRevoker.
func (b *MemoryBlocklist) IsRevokedFor(_ context.Context, identity string, issued time.Time, keys ...string) (bool, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	now := b.now()
	return b.anyRevoked(keys, now) || b.identityRevoked(identity, issued, now), nil
}

// identityRevoked compares to the millisecond, as IdentityRevoker says:
// the cutoff rounded up, the issue time down, so that a cutoff between two
// milliseconds refuses more, never less.
func (b *MemoryBlocklist) identityRevoked(identity string, issued, now time.Time) bool {
	e, inForce := lookup(b.identities, identity, now)
	return inForce && issued.UnixMilli() < e.before.Add(time.Millisecond-1).UnixMilli()
}

// revokedToken is IsRevokedFor for a token, without the variadic slice or
// the keys' concatenation: the guard's fast path.
func (b *MemoryBlocklist) revokedToken(c *Claims) bool {
	var buf [64]byte
	key := append(append(buf[:0], "fam:"...), c.SessionID()...) // sessionKey, on the stack
	b.mu.RLock()
	defer b.mu.RUnlock()
	now := b.now()
	if c.SessionID() != "" { // else a legacy token, with no key (WithLegacyTokensUntil)
		if _, inForce := lookup(b.revoked, c.JTI, now); inForce {
			return true
		}
		if e, ok := b.revoked[string(key)]; ok && (e.until.IsZero() || now.Before(e.until)) {
			return true
		}
	}
	return len(b.identities) > 0 && b.identityRevoked(c.Identity, c.issuedAt(), now)
}

// Rotate implements RotationStore.
func (b *MemoryBlocklist) Rotate(_ context.Context, session, prev, next string, until time.Time) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	old, inForce := lookup(b.families, session, now)
	if inForce && old.jti != prev {
		return false, nil
	}
	e := b.schedule(expiryItem{key: session, kind: familyItem}, old.scheduled, until)
	e.jti = next
	b.families[session] = e
	return true, nil
}

// Current implements RotationStore.
func (b *MemoryBlocklist) Current(_ context.Context, session string) (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if e, inForce := lookup(b.families, session, b.now()); inForce {
		return e.jti, nil
	}
	return "", nil
}

// SaveSession implements SessionStore.
func (b *MemoryBlocklist) SaveSession(_ context.Context, s Session) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	if !s.Expires.IsZero() && !now.Before(s.Expires) {
		return nil
	}
	list := b.sessions[s.Identity]
	if list == nil {
		list = map[string]memSession{}
		b.sessions[s.Identity] = list
	}
	old := list[s.ID]
	list[s.ID] = b.scheduleSession(s, old.scheduled)
	return nil
}

// TouchSession implements SessionStore.
func (b *MemoryBlocklist) TouchSession(_ context.Context, identity, id string, renewed, expires time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	old, ok := b.sessions[identity][id]
	if !ok || !live(old.Expires, now) {
		return nil
	}
	s := old.Session
	s.Renewed, s.Expires = renewed, laterOf(s.Expires, expires)
	b.sessions[identity][id] = b.scheduleSession(s, old.scheduled)
	return nil
}

// Sessions implements SessionStore.
func (b *MemoryBlocklist) Sessions(_ context.Context, identity string) ([]Session, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	now := b.now()
	var out []Session
	for _, s := range b.sessions[identity] {
		if live(s.Expires, now) {
			out = append(out, s.Session)
		}
	}
	return out, nil
}

// DeleteSession implements SessionStore.
func (b *MemoryBlocklist) DeleteSession(_ context.Context, identity, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(b.now())
	b.deleteSession(identity, id)
	return nil
}

func (b *MemoryBlocklist) deleteSession(identity, id string) {
	list := b.sessions[identity]
	delete(list, id)
	if len(list) == 0 {
		delete(b.sessions, identity)
	}
}

func live(until, now time.Time) bool { return until.IsZero() || now.Before(until) }

// lookup returns the entry for key and whether it is in force at now.
func lookup(entries map[string]memEntry, key string, now time.Time) (memEntry, bool) {
	e, ok := entries[key]
	return e, ok && live(e.until, now)
}

// schedule returns the entry of it expiring at until, pushing an expiry
// item unless one is already queued (it is moved on when it comes due).
func (b *MemoryBlocklist) schedule(it expiryItem, queued bool, until time.Time) memEntry {
	e := memEntry{until: until, scheduled: queued}
	if !until.IsZero() && !queued {
		it.at = until
		b.expiries.push(it)
		e.scheduled = true
	}
	return e
}

func (b *MemoryBlocklist) scheduleSession(s Session, queued bool) memSession {
	e := memSession{Session: s, scheduled: queued}
	if !s.Expires.IsZero() && !queued {
		b.expiries.push(expiryItem{at: s.Expires, key: s.Identity, id: s.ID, kind: sessionItem})
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
		if it.kind == sessionItem {
			b.sweepSession(it, now)
			continue
		}
		entries := b.revoked
		switch it.kind {
		case familyItem:
			entries = b.families
		case identityItem:
			entries = b.identities
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

func (b *MemoryBlocklist) sweepSession(it expiryItem, now time.Time) {
	s, ok := b.sessions[it.key][it.id]
	switch {
	case !ok:
	case s.Expires.IsZero():
		s.scheduled = false
		b.sessions[it.key][it.id] = s
	case now.Before(s.Expires):
		it.at = s.Expires
		b.expiries.push(it)
	default:
		b.deleteSession(it.key, it.id)
	}
}

// expiryItem is when an entry of one of the maps is due.
type expiryItem struct {
	at   time.Time
	key  string // the entry's key; a session's identity
	id   string // a session's ID
	kind itemKind
}

type itemKind uint8

const (
	revokedItem itemKind = iota
	familyItem
	identityItem
	sessionItem
)

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
