package runner

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// A Client drives a Session served over pipes exactly as it would
// in-process, and a failed request is an error that leaves the server up.
func TestServeRoundTrip(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	sess, err := NewSession("whole", b, fakeProgram(b).Schedule, 12500*time.Microsecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	reqR, reqW := io.Pipe()
	respR, respW := io.Pipe()
	done := make(chan error)
	go func() {
		err := Serve(NewGroup(sess), reqR, respW)
		respW.Close()
		done <- err
	}()
	c := NewClient(reqW, respR)
	reps, err := c.Info()
	if err != nil || len(reps) != 1 || reps[0].LoadMs != 12.5 || reps[0].PrefillTokens != 4 || reps[0].Device != "fake" || reps[0].Executor != "whole" {
		t.Fatalf("info %+v, %v", reps, err)
	}
	if _, _, err := c.Measure(99, 0); err == nil || !strings.Contains(err.Error(), "position 99 is outside the cache") {
		t.Errorf("measure past the cache: %v", err)
	}
	ds, n, err := c.Measure(TTFT, 0)
	if err != nil || n != 1 || len(ds) != 1 || ds[0] < 0 {
		t.Errorf("measure TTFT: %v, %d, %v", ds, n, err)
	}
	if err := c.call("frobnicate", &struct{}{}); err == nil || !strings.Contains(err.Error(), `unknown request "frobnicate"`) {
		t.Errorf("unknown request: %v", err)
	}
	reqW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Info(); !errors.Is(err, ErrNoReply) {
		t.Errorf("after the server ended: %v", err)
	}
}
