package rueidisblocklist_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The guards' question, a token's keys and its identity's cutoff, is
// answered from memory like a token's alone: no GET for a thousand
// checks. Another instance's RevokeIdentity invalidates the cached
// cutoff before it returns; a token issued after the cutoff still
// passes. (A window of a second: this test counts round trips.)
func TestIdentityChecksAreAnsweredFromMemory(t *testing.T) {
	srv := rueidistest.Start(t)
	raw := srv.Raw(t)
	gets := func() int { return rueidistest.CommandCalls(t, raw, "get") }
	window := rueidisblocklist.WithFreshness(time.Second)
	store := mustNew(t, srv.Client(t, "app", nil), window)
	ctx := context.Background()
	issued := time.Now()
	check := func(identity string, issued time.Time) bool {
		t.Helper()
		revoked, err := store.IsRevokedFor(ctx, identity, issued, "jti-1", "fam:s-1")
		require.NoError(t, err)
		return revoked
	}
	require.Eventually(t, func() bool {
		before := gets()
		check("alice", issued)
		return gets() == before
	}, 5*time.Second, 5*time.Millisecond, "the store never answered from memory")
	before := gets()
	for range 1000 {
		require.False(t, check("alice", issued))
	}
	assert.Equal(t, 0, gets()-before, "the keys and the cutoff from memory")

	other := mustNew(t, srv.Client(t, "other", nil), window)
	cutoff := time.Now()
	require.NoError(t, other.RevokeIdentity(ctx, "alice", cutoff, cutoff.Add(time.Hour)))
	assert.True(t, check("alice", issued), "the cutoff reached this instance before RevokeIdentity returned")
	assert.False(t, check("alice", cutoff.Add(time.Millisecond)), "a token issued after the cutoff passes")
	assert.False(t, check("bob", issued), "another identity is untouched")
	before = gets()
	for range 100 {
		require.True(t, check("alice", issued))
	}
	assert.Equal(t, 0, gets()-before, "the cutoff is cached too")
}

// Two instances on one Redis: B has "not revoked" cached for a user's
// token; A revokes the user; the first check on B after A's
// RevokeIdentity returned refuses the token, in every trial.
func TestIdentityRevocationRefusedByOthersOnceAcknowledged(t *testing.T) {
	srv := rueidistest.Start(t)
	a := mustNew(t, srv.Client(t, "instance-a", nil))
	b := mustNew(t, srv.Client(t, "instance-b", nil))
	ctx := context.Background()
	const trials = 100
	var seen []time.Duration
	for i := range trials {
		user := fmt.Sprintf("user-%d", i)
		issued := time.Now()
		jti := fmt.Sprintf("jti-%d", i)
		for range 2 {
			revoked, err := b.IsRevokedFor(ctx, user, issued, jti)
			require.NoError(t, err)
			require.False(t, revoked)
		}
		start := time.Now()
		var refusedAt atomic.Int64
		stop, done := make(chan struct{}), make(chan struct{})
		go func() { // B checks as requests come while A revokes
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if revoked, err := b.IsRevokedFor(ctx, user, issued, jti); err == nil && revoked {
					refusedAt.CompareAndSwap(0, int64(time.Since(start)))
				}
				time.Sleep(50 * time.Microsecond)
			}
		}()
		require.NoError(t, a.RevokeIdentity(ctx, user, time.Now(), time.Now().Add(time.Hour)))
		revoked, err := b.IsRevokedFor(ctx, user, issued, jti)
		close(stop)
		<-done
		require.NoError(t, err)
		require.True(t, revoked, "trial %d: B answered 'not revoked' after A's RevokeIdentity returned", i)
		if at := refusedAt.Load(); at != 0 {
			seen = append(seen, time.Duration(at))
		}
	}
	slices.Sort(seen)
	if len(seen) > 0 {
		t.Logf("B refused the user's token, from RevokeIdentity's call: p50 %v p99 %v (%d of %d trials before it returned)",
			quantile(seen, .5), quantile(seen, .99), len(seen), trials)
	}
}
