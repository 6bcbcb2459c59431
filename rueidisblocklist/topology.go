package rueidisblocklist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// topology is the trackers of every Redis master: one for a single node
// or Sentinel client, one per master for a Cluster. A cached answer is
// used only when all are fresh: a key's slot may have moved, and with it
// the master whose invalidations cover it.
type topology struct {
	trackers []*tracker
	addrs    []string // the masters' addresses, for a Cluster
}

func (p *topology) fresh(now int64) bool {
	for _, t := range p.trackers {
		if !t.fresh(now) {
			return false
		}
	}
	return len(p.trackers) > 0
}

// failing is the store's circuit breaker: when a tracking connection
// broke or could not be made, calls fail at once.
func (s *Store) failing() error {
	s.mapper.want()
	topo := s.topo.Load()
	if topo == nil {
		return nil
	}
	for _, t := range topo.trackers {
		if err := t.failing(); err != nil {
			return err
		}
	}
	return nil
}

// trackingUp reports whether every master's tracking connection is up,
// so that an answer asked now will be invalidated if its key changes.
func (s *Store) trackingUp() bool {
	topo := s.topo.Load()
	if topo == nil {
		return false
	}
	for _, t := range topo.trackers {
		if t.conn.Load() == nil {
			return false
		}
	}
	return true
}

// suspect is told of a call that failed: unless Redis itself answered the
// error, the tracking connections are pinged now, so that a hung Redis
// opens the breaker within the ping timeout.
func (s *Store) suspect(err error) {
	if _, ok := rueidis.IsRedisErr(err); ok {
		return
	}
	if topo := s.topo.Load(); topo != nil {
		for _, t := range topo.trackers {
			t.want()
		}
	} else {
		s.mapper.want()
	}
}

// call runs fn with ctx and returns its answer, or ctx's error when ctx
// ends first, or ErrCircuitOpen when a tracker finds Redis down first:
// rueidis honours deadlines on a connection it has, but a
// call waiting for a connection being made to a hung Redis waits for the
// dial. fn then finishes in the background, within rueidis's own
// timeouts. A failure other than Redis's answer has the tracking
// connections pinged (suspect).
func call[T any](s *Store, ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	if ctx.Done() == nil {
		v, err := fn(ctx)
		if err != nil {
			s.suspect(err)
		}
		return v, err
	}
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := fn(ctx)
		done <- answer{v, err}
	}()
	var zero T
	select {
	case a := <-done:
		if a.err != nil {
			s.suspect(a.err)
		}
		return a.v, a.err
	case <-ctx.Done():
		s.suspect(ctx.Err())
		return zero, ctx.Err()
	case <-*s.tripped.Load():
		if err := s.failing(); err != nil {
			return zero, err
		}
		return zero, ErrCircuitOpen // and back up already
	}
}

// trip wakes the calls waiting on Redis when a tracker finds it down:
// they fail with ErrCircuitOpen instead of waiting for their deadline.
func (s *Store) trip() {
	next := make(chan struct{})
	close(*s.tripped.Swap(&next))
}

// topologyEvery is how often a Cluster's masters are read again
// (CLUSTER SLOTS) while the store is used, to track a master that took
// slots over.
const topologyEvery = time.Second

// mapper keeps a Cluster store's topology: it reads the masters from
// CLUSTER SLOTS and gives each a tracker.
type mapper struct {
	s       *Store
	running atomic.Bool
	wanted  atomic.Bool
}

// want keeps the mapper running, starting it if needed; cheap when it
// runs and was asked already.
func (m *mapper) want() {
	if m == nil || m.wanted.Load() && m.running.Load() {
		return
	}
	m.wanted.Store(true)
	if m.running.CompareAndSwap(false, true) {
		go m.keep()
	}
}

func (m *mapper) keep() {
	for {
		m.run()
		m.running.Store(false)
		if !m.wanted.Load() || !m.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// run reads the masters every topologyEvery, and replaces the topology
// when they changed, until no check wanted it for idleAfter.
func (m *mapper) run() {
	idleSince := time.Now()
	for {
		if m.wanted.Swap(false) {
			idleSince = time.Now()
		} else if time.Since(idleSince) > idleAfter {
			return
		}
		if addrs, err := m.masters(); err == nil {
			m.update(addrs)
		}
		time.Sleep(topologyEvery)
	}
}

// update installs a topology of addrs unless it is the current one:
// trackers of masters that stay are kept, and the cache is flushed, as it
// may hold answers of masters not tracked before.
func (m *mapper) update(addrs []string) {
	s := m.s
	old := s.topo.Load()
	if old != nil && slices.Equal(old.addrs, addrs) {
		return
	}
	topo := &topology{addrs: addrs}
	for _, addr := range addrs {
		var t *tracker
		if old != nil {
			if i := slices.Index(old.addrs, addr); i >= 0 {
				t = old.trackers[i]
			}
		}
		if t == nil {
			t = newTracker(s, func() (rueidis.DedicatedClient, error) {
				node, ok := s.client.Nodes()[addr]
				if !ok {
					return nil, fmt.Errorf("rueidisblocklist: the client does not know master %s yet", addr)
				}
				dc, _ := node.Dedicate()
				return dc, nil
			})
		}
		topo.trackers = append(topo.trackers, t)
	}
	s.topo.Store(topo)
	s.cache.flush()
	// Trackers of masters gone close their connection once idle.
}

// masters reads the masters' addresses, sorted, from CLUSTER SLOTS.
func (m *mapper) masters() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), m.s.pingTimeout)
	defer cancel()
	slots, err := m.s.client.Do(ctx, m.s.client.B().ClusterSlots().Build().Pin()).ToArray()
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, slot := range slots {
		fields, err := slot.ToArray()
		if err != nil || len(fields) < 3 {
			return nil, errors.New("rueidisblocklist: unexpected CLUSTER SLOTS reply")
		}
		node, err := fields[2].ToArray()
		if err != nil || len(node) < 2 {
			return nil, errors.New("rueidisblocklist: unexpected CLUSTER SLOTS reply")
		}
		host, err1 := node[0].ToString()
		port, err2 := node[1].AsInt64()
		if err1 != nil || err2 != nil {
			return nil, errors.New("rueidisblocklist: unexpected CLUSTER SLOTS reply")
		}
		addr := net.JoinHostPort(host, strconv.FormatInt(port, 10))
		if !slices.Contains(addrs, addr) {
			addrs = append(addrs, addr)
		}
	}
	slices.Sort(addrs)
	return addrs, nil
}
