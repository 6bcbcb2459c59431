package rueidisblocklist_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/blocklisttest"
	"github.com/ginjwt/ginjwt/rueidisblocklist"
	"github.com/ginjwt/ginjwt/rueidisblocklist/internal/rueidistest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clusterClient returns a rueidis cluster client of addrs with
// ClientOption's settings, closed at t's cleanup.
func clusterClient(t *testing.T, addrs []string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidisblocklist.ClientOption(addrs...))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	require.Equal(t, rueidis.ClientModeCluster, c.Mode())
	return c
}

// Against a three-master Redis Cluster: the conformance suite (methods and
// guards), checks of keys on different masters in one call, and
// invalidations from one client to another.
func TestCluster(t *testing.T) {
	addrs := rueidistest.StartCluster(t)
	client := clusterClient(t, addrs)
	n := 0
	blocklisttest.Run(t, blocklisttest.Harness{
		New: func(t *testing.T) ginjwt.Blocklist {
			n++
			return mustNew(t, client, rueidisblocklist.WithKeyPrefix(fmt.Sprintf("conformance:%d:", n)))
		},
		Now:   time.Now,
		Sleep: time.Sleep,
	})
	blocklisttest.RunGuarded(t, func(t *testing.T) ginjwt.Blocklist {
		n++
		return mustNew(t, client, rueidisblocklist.WithKeyPrefix(fmt.Sprintf("guarded:%d:", n)))
	})

	a := mustNew(t, client)
	b := mustNew(t, clusterClient(t, addrs))
	ctx := context.Background()
	keys := make([]string, 30) // spread over the three masters' slots
	for i := range keys {
		keys[i] = fmt.Sprintf("jti-%d", i)
	}
	// B answers from memory once it tracks every master: no GET on any
	// node for a whole pass over the keys.
	raws := make([]rueidis.Client, len(addrs))
	for i, addr := range addrs {
		raws[i] = rueidistest.RawOf(t, addr)
	}
	gets := func() int {
		n := 0
		for _, raw := range raws {
			n += rueidistest.CommandCalls(t, raw, "get")
		}
		return n
	}
	warm(t, b, gets, keys...)
	// A revokes each key: the first check on B after A's Revoke returned
	// refuses it.
	for _, k := range keys {
		require.NoError(t, a.Revoke(ctx, k, time.Now().Add(time.Hour)))
		revoked, err := b.IsRevoked(ctx, k)
		require.NoError(t, err)
		require.True(t, revoked, "B answered 'not revoked' for %s after A's Revoke returned", k)
	}
	revoked, err := b.IsRevoked(ctx, keys...)
	require.NoError(t, err)
	assert.True(t, revoked)
}
