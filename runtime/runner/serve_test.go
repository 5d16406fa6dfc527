package runner

import (
	"io"
	"strings"
	"testing"
	"time"
)

// A Client drives a Session served over pipes exactly as it would
// in-process, and a failed request is an error that leaves the server up.
func TestServeRoundTrip(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	sess, err := NewSession(b, fakeProgram(b).Schedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	reqR, reqW := io.Pipe()
	respR, respW := io.Pipe()
	done := make(chan error)
	go func() {
		err := Serve(Loaded{sess, 12500 * time.Microsecond}, reqR, respW)
		respW.Close()
		done <- err
	}()
	c := NewClient(reqW, respR)
	r, err := c.Info()
	if err != nil || r.LoadMs != 12.5 || r.PrefillTokens != 4 || r.Device != "fake" {
		t.Fatalf("info %+v, %v", r, err)
	}
	if _, _, err := c.Measure(99, 0); err == nil || !strings.Contains(err.Error(), "position 99 is outside the cache") {
		t.Errorf("measure past the cache: %v", err)
	}
	d, n, err := c.Measure(TTFT, 0)
	if err != nil || n != 1 || d < 0 {
		t.Errorf("measure TTFT: %s, %d, %v", d, n, err)
	}
	if err := c.call("frobnicate", &struct{}{}); err == nil || !strings.Contains(err.Error(), `unknown request "frobnicate"`) {
		t.Errorf("unknown request: %v", err)
	}
	reqW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Info(); err == nil || !strings.Contains(err.Error(), "did the runner exit?") {
		t.Errorf("after the server ended: %v", err)
	}
}
