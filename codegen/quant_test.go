package codegen_test

import (
	"path/filepath"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Real configs imported with --random-weights --quantize q4_0: the decode
// step's schedule reads every linear layer's weight at 4.5 bits per
// weight (18-byte blocks of 32) and the embedding/output in bf16, and
// every KV cache is a state buffer on the device.
func TestRealConfigsQuantizedWeightBytes(t *testing.T) {
	for _, name := range []string{"llama-3.1-8b", "qwen2.5-7b-instruct"} {
		t.Run(name, func(t *testing.T) {
			m, _, err := hf.Import(filepath.Join("..", "models", name), hf.Options{MaxCacheLen: 4096, Quantize: ir.Q4_0})
			if err != nil {
				t.Fatal(err)
			}
			var quantElems, plainBytes int64
			for _, w := range m.Weights {
				if w.Value.Type.DType == ir.Q4_0 {
					quantElems += w.Value.Type.Shape.NumElements()
				} else {
					plainBytes += w.Value.Type.Bytes()
				}
			}
			low := lowerModel(t, m)
			s := low.Schedule
			var quantBytes, quantBuffers, states int64
			for _, b := range s.Buffers {
				switch {
				case b.Kind == schedule.Weight && b.DType == schedule.Q4_0:
					quantBytes += b.Bytes
					quantBuffers++
				case b.Kind == schedule.State:
					states++
				}
			}
			if bits := float64(quantBytes) * 8 / float64(quantElems); bits != 4.5 {
				t.Errorf("q4_0 weight buffers: %.4f bits per weight, want 4.5", bits)
			}
			if states != 2*m.Meta.NumLayers {
				t.Errorf("%d state buffers, want a K and a V cache per layer (%d)", states, 2*m.Meta.NumLayers)
			}
			var decode schedule.Traffic
			for _, tr := range s.Roofline() {
				if tr.Graph == "decode" {
					decode = tr
				}
			}
			// The decode step reads every weight once: the quantized ones at
			// 4.5 bits, the rest (embedding rows aside, which the schedule
			// counts whole) in bf16.
			if decode.WeightBytes != quantBytes+plainBytes {
				t.Errorf("decode reads %d weight bytes, want %d quantized + %d bf16", decode.WeightBytes, quantBytes, plainBytes)
			}
			if decode.StateBuffers != int(states) {
				t.Errorf("decode uses %d of %d caches", decode.StateBuffers, states)
			}
			t.Logf("%s q4_0: %d quantized weights in %d buffers, %.2f GB at 4.5 bits + %.2f GB bf16; decode reads %.2f GB of weights, %d KV caches on the device",
				name, quantElems, quantBuffers, float64(quantBytes)/1e9, float64(plainBytes)/1e9, float64(decode.WeightBytes)/1e9, decode.StateBuffers)
		})
	}
}
