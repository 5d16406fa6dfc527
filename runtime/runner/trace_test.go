package runner

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// A traced run is the prompt in padded chunks, then one decode step per
// id of the tail, at consecutive positions.
func TestTraceSteps(t *testing.T) {
	steps, err := TraceSteps([]int64{1, 2, 3, 4, 5, 6, 7}, 2, 3, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%s@%d:%s", s.Graph, s.Pos, strings.ReplaceAll(strings.Trim(fmt.Sprint(s.Tokens), "[]"), " ", ",")))
	}
	if want := "prefill@0:1,2,3 prefill@3:4,5,0 decode@5:6 decode@6:7"; strings.Join(got, " ") != want {
		t.Fatalf("steps %q, want %q", strings.Join(got, " "), want)
	}
	for _, bad := range []struct {
		ids    []int64
		decode int
	}{{[]int64{1, 2}, 2}, {[]int64{1, 2}, -1}, {[]int64{1, 99}, 0}} {
		if _, err := TraceSteps(bad.ids, bad.decode, 3, 10, 16); err == nil {
			t.Errorf("%v decode %d: no error", bad.ids, bad.decode)
		}
	}
}

// The runner's --trace takes --tokens and nothing that is not a run.
func TestTraceFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--trace", "x.gob", "--bench"},
		{"--trace", "x.gob", "--prompt", "hi"},
	} {
		var out, errOut bytes.Buffer
		err := Run(fakeProgram(&fakeBackend{vocab: 10}), args, &out, &errOut)
		if _, ok := err.(errUsage); !ok || !strings.Contains(err.Error(), "--trace") {
			t.Errorf("%v: %v, want a usage error naming --trace", args, err)
		}
	}
}
