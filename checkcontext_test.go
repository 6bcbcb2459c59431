package ginjwt

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type valueKey struct{}

// checkContext behaves as context.WithTimeout does, whether or not anyone
// waits on Done.
func TestCheckContext(t *testing.T) {
	t.Run("Done closes at the deadline", func(t *testing.T) {
		ctx := newCheckContext(context.Background(), 30*time.Millisecond)
		defer ctx.stop()
		start := time.Now()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done never closed")
		}
		assert.GreaterOrEqual(t, time.Since(start), 25*time.Millisecond)
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	})
	t.Run("Err follows the clock without Done", func(t *testing.T) {
		ctx := newCheckContext(context.Background(), 30*time.Millisecond)
		defer ctx.stop()
		assert.NoError(t, ctx.Err())
		time.Sleep(40 * time.Millisecond)
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
		select {
		case <-ctx.Done():
		default:
			t.Fatal("Done is not closed after the deadline")
		}
	})
	t.Run("the parent's cancellation reaches it", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		ctx := newCheckContext(parent, time.Hour)
		defer ctx.stop()
		done := ctx.Done()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Done never closed")
		}
		assert.ErrorIs(t, ctx.Err(), context.Canceled)

		parent, cancel = context.WithCancel(context.Background())
		ctx = newCheckContext(parent, time.Hour)
		cancel()
		assert.ErrorIs(t, ctx.Err(), context.Canceled, "without Done too")
	})
	t.Run("stop cancels it", func(t *testing.T) {
		ctx := newCheckContext(context.Background(), time.Hour)
		done := ctx.Done()
		ctx.stop()
		<-done
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		ctx = newCheckContext(context.Background(), time.Hour)
		ctx.stop()
		<-ctx.Done() // made after stop: closed
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	})
	t.Run("deadline and values come from the parent too", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.WithValue(context.Background(), valueKey{}, "v"), time.Minute)
		defer cancel()
		ctx := newCheckContext(parent, time.Hour)
		defer ctx.stop()
		pd, _ := parent.Deadline()
		d, ok := ctx.Deadline()
		assert.True(t, ok)
		assert.Equal(t, pd, d, "the earlier deadline")
		assert.Equal(t, "v", ctx.Value(valueKey{}))
		ctx2 := newCheckContext(parent, time.Second)
		defer ctx2.stop()
		d2, _ := ctx2.Deadline()
		assert.True(t, d2.Before(pd))
	})
	t.Run("a context derived from it ends with it", func(t *testing.T) {
		ctx := newCheckContext(context.Background(), 30*time.Millisecond)
		defer ctx.stop()
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the child never ended")
		}
		assert.ErrorIs(t, child.Err(), context.DeadlineExceeded)
	})
	t.Run("concurrent use", func(t *testing.T) {
		for i := range 100 {
			ctx := newCheckContext(context.Background(), time.Millisecond)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					<-ctx.Done()
					err := ctx.Err()
					require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled), err)
				})
			}
			wg.Go(func() { _ = ctx.Err() })
			time.Sleep(time.Duration(i%3) * time.Millisecond) // stop before, at or after the deadline
			ctx.stop()
			wg.Wait()
		}
	})
}
