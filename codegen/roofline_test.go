package codegen_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// lowerModel compiles m for OpenCL, the portable target.
func lowerModel(t *testing.T, m *ir.Model) *codegen.Lowered {
	return backendtest.Compile(t, m, backend.MustLookup("opencl"))
}

// On the tiny preset the decode step's weights are the weights its graph
// reads (every one of them: the tied embedding is the output layer too),
// the caches are every state, and every arena value is counted at least
// by the launch that writes it.
func TestRooflineTinyPreset(t *testing.T) {
	p, _ := testmodel.Find("qwen2-tiny")
	dir := filepath.Join(t.TempDir(), p.Name)
	if err := testmodel.Write(dir, p, 1); err != nil {
		t.Fatal(err)
	}
	m, _, err := hf.Import(dir, hf.Options{MaxCacheLen: 64, PrefillLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	low := lowerModel(t, m)
	s := low.Schedule
	weights := map[*ir.Value]bool{}
	for _, w := range m.Weights {
		weights[w.Value] = true
	}
	var readByDecode, allWeights, states int64
	var weightBuffers int
	seen := map[*ir.Value]bool{}
	for _, n := range m.Graph("decode").Nodes {
		for _, v := range n.Inputs {
			if weights[v] && !seen[v] {
				seen[v] = true
				readByDecode += v.Type.Bytes()
			}
		}
	}
	for _, b := range s.Buffers {
		switch b.Kind {
		case schedule.Weight:
			allWeights += b.Bytes
			weightBuffers++
		case schedule.State:
			states += b.Bytes
		}
	}
	roofs := codegen.Rooflines(s, 10)
	if len(roofs) != 2 || roofs[0].Graph != "prefill" || roofs[1].Graph != "decode" {
		t.Fatalf("rooflines of %d graphs", len(roofs))
	}
	dec, pre := roofs[1], roofs[0]
	if dec.WeightBytes != readByDecode || dec.WeightBytes != allWeights || dec.WeightBuffers != weightBuffers {
		t.Errorf("decode weights %d in %d buffers; the decode graph reads %d, the weights are %d in %d", dec.WeightBytes, dec.WeightBuffers, readByDecode, allWeights, weightBuffers)
	}
	if dec.StateBytes != states || dec.CacheLen != 64 || dec.Tokens != 1 || pre.Tokens != 16 || dec.Launches != len(s.Graphs[1].Launches) {
		t.Errorf("decode: states %d of %d, cache %d, tokens %d (prefill %d), launches %d", dec.StateBytes, states, dec.CacheLen, dec.Tokens, pre.Tokens, dec.Launches)
	}
	if len(dec.Points) != 2 || dec.Points[0].Position != 1 || dec.Points[1].Position != 63 || pre.Points[1].Position != 48 {
		t.Errorf("points: decode %+v, prefill %+v", dec.Points, pre.Points)
	}
	if at := dec.Points[1]; at.KVReadBytes != states || at.Bytes != allWeights+states+dec.KVWrittenBytes+dec.ActivationBytes || at.FloorMs != float64(at.Bytes)/1e7 {
		t.Errorf("decode at the last position: %+v", at)
	}
	for gi, g := range s.Graphs {
		var arena, values int64
		for _, ln := range g.Launches {
			if ln.ArenaBytes <= 0 {
				t.Errorf("%s: launch %s has no arena operand", g.Name, ln.Node)
			}
			arena += ln.ArenaBytes
		}
		for _, v := range low.Plans[gi].Slots {
			values += v.Bytes
		}
		if arena < values || roofs[gi].ActivationBytes <= arena {
			t.Errorf("%s: launches touch %d arena bytes of values totalling %d; activations %d", g.Name, arena, values, roofs[gi].ActivationBytes)
		}
	}
	dump := codegen.FormatAt(low, 10)
	for _, want := range []string{"roofline of one step (", fmt.Sprintf("weights      129.3 KiB read (%d buffers, each once)", weightBuffers), "floor        ", "(at 10 GB/s)"} {
		if strings.Count(dump, want) != 2 {
			t.Errorf("the dump has %q %d times, want once a graph", want, strings.Count(dump, want))
		}
	}
	if d := codegen.Format(low); !strings.Contains(d, "give --bandwidth GB/s for the time") || strings.Contains(d, "GB/s)") {
		t.Errorf("without a bandwidth the dump shows:\n%s", d)
	}
}

// Qwen2.5-1.5B at a 32K cache, the performance section's figures: a decode
// step reads 3.09 GB of weights (the tied embedding in full, as the output
// layer) and 28 KiB of KV per cached token, 0.94 GB at 32K.
func TestRooflineQwen15B(t *testing.T) {
	m, _, err := hf.Import(filepath.Join("..", "models", "qwen2.5-1.5b-instruct"), hf.Options{MaxCacheLen: 32768})
	if err != nil {
		t.Fatal(err)
	}
	dec := codegen.Rooflines(lowerModel(t, m).Schedule, 0)[1]
	if dec.WeightBytes < 3.08e9 || dec.WeightBytes > 3.10e9 || dec.KVRowBytes != 28<<10 || dec.StateBytes != 28<<10*32768 {
		t.Errorf("decode: weights %d, KV %d per token, %d in all", dec.WeightBytes, dec.KVRowBytes, dec.StateBytes)
	}
	if dec.Points[0].FloorMs != 0 {
		t.Errorf("a floor without a bandwidth: %+v", dec.Points[0])
	}
	// Issue 14's launch budget: at most 175 a decode step, which the fused
	// layer meets with 6 (q/k/v with its norm, attention's split and
	// combine, o_proj, gate/up with its norm, down) and 3 around them
	// (embedding, the head with the final norm, the logits' cast).
	if want := 28*6 + 3; dec.Launches != want || dec.Launches > 175 {
		t.Errorf("Qwen2.5-1.5B decode: %d launches, want %d (at most 175)", dec.Launches, want)
	}
}
