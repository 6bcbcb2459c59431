package ginjwt

import (
	"context"
	"sync"
	"time"
)

// checkContext is the context of one revocation check: the request's
// context with the blocklist timeout as its deadline, as
// context.WithTimeout makes it, except that it starts no timer until a
// store waits on Done. A store that answers from memory
// (rueidisblocklist's cache, or your own) never does, and that timer,
// added to and removed from the runtime's heap on every request, was most
// of what such a check cost.
type checkContext struct {
	parent   context.Context
	deadline time.Time

	mu         sync.Mutex
	done       chan struct{} // made by the first Done
	err        error         // set when done is closed
	stopped    bool          // stop was called
	timer      *time.Timer
	stopParent func() bool
}

// newCheckContext returns parent with a deadline d from now (or parent's,
// if earlier). Call stop when the check is over, as a CancelFunc.
func newCheckContext(parent context.Context, d time.Duration) *checkContext {
	deadline := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	return &checkContext{parent: parent, deadline: deadline}
}

// Deadline implements context.Context.
func (c *checkContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Value implements context.Context.
func (c *checkContext) Value(key any) any { return c.parent.Value(key) }

// Done implements context.Context. The first call starts the timer and
// watches the parent; the channel closes at the deadline, when the parent
// is done, or at stop.
func (c *checkContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	switch err := c.errNow(); {
	case err != nil:
		c.closeLocked(err)
	default:
		c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.finish(context.DeadlineExceeded) })
		if c.parent.Done() != nil { // else it never ends
			c.stopParent = context.AfterFunc(c.parent, func() { c.finish(c.parent.Err()) })
		}
	}
	return c.done
}

// Err implements context.Context. Before anyone waited on Done, it
// answers from the parent and the clock, as Done would have closed.
func (c *checkContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.err
	}
	return c.errNow()
}

// errNow is the error Done would close with now, nil if none.
func (c *checkContext) errNow() error {
	switch {
	case c.stopped:
		return context.Canceled
	case c.parent.Err() != nil:
		return c.parent.Err()
	case !time.Now().Before(c.deadline):
		return context.DeadlineExceeded
	}
	return nil
}

func (c *checkContext) finish(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(err)
}

func (c *checkContext) closeLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stopParent != nil {
		c.stopParent()
	}
}

// stop ends the context as its CancelFunc would: what still waits on Done
// (a store's call abandoned at the deadline) sees context.Canceled.
func (c *checkContext) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.done != nil {
		c.closeLocked(context.Canceled)
	}
}
