package passes

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// Placement invariants on a real model for every kind of split: execution
// order is partition order, a partition has one device, values cross
// devices only through transfers, each layer's caches sit with that layer's
// weights, and layers go where --gpu-layers says.
func TestPartitionInvariants(t *testing.T) {
	base := importConfig(t, "qwen2.5-0.5b-instruct")
	layers := int(base.Meta.NumLayers)
	for _, mode := range []string{"whole", "layer"} {
		for _, gpu := range []int{-1, 0, 1, layers / 2, layers} {
			t.Run(fmt.Sprintf("%s/gpu-layers=%d", mode, gpu), func(t *testing.T) {
				m := importConfig(t, "qwen2.5-0.5b-instruct")
				compile(t, m, Options{Pipeline: defaultPipeline(t), Partition: mode, GPULayers: gpu})
				for _, g := range m.Graphs {
					if err := checkPlacement(g, mode, gpu, layers); err != nil {
						t.Fatalf("%s: %v", g.Name, err)
					}
				}
			})
		}
	}
}

func checkPlacement(g *ir.Graph, mode string, gpu, layers int) error {
	device := map[*ir.Value]string{}
	last := int64(0)
	partDevice := map[int64]string{}
	for _, n := range g.Nodes {
		p, ok := n.Attrs[ir.AttrPartition].(int64)
		d := n.Attrs.String(ir.AttrDevice)
		if !ok || d == "" {
			return fmt.Errorf("%s has no placement", ir.FormatNode(n))
		}
		if p < last || p > last+1 {
			return fmt.Errorf("%s: partition %d after %d (not in order, or a gap)", ir.FormatNode(n), p, last)
		}
		last = p
		if prev, ok := partDevice[p]; ok && prev != d {
			return fmt.Errorf("partition %d is on %s and %s", p, prev, d)
		}
		partDevice[p] = d
		for _, in := range n.Inputs {
			if from, ok := device[in]; ok && from != d && n.Op != "transfer" {
				return fmt.Errorf("%s reads %s from %s without a transfer", ir.FormatNode(n), ir.Ref(in), from)
			}
		}
		if n.Op == "transfer" && (device[n.Inputs[0]] == d || n.Attrs.String("to") != d) {
			return fmt.Errorf("%s moves nothing across devices", ir.FormatNode(n))
		}
		device[n.Outputs[0]] = d
	}
	parts := Partitions(g)
	switch {
	case mode == "layer" && len(parts) != layers+2:
		return fmt.Errorf("%d partitions, want one per layer plus embedding and head (%d)", len(parts), layers+2)
	case mode == "whole" && (gpu == 0 || gpu < 0 || gpu >= layers) && len(parts) != 1:
		return fmt.Errorf("%d partitions, want 1", len(parts))
	case mode == "whole" && gpu > 0 && gpu < layers && len(parts) != 2:
		return fmt.Errorf("%d partitions, want 2", len(parts))
	}
	var moved int64
	for _, p := range parts {
		moved += p.TransferBytes
		for _, st := range p.States {
			// @cache.N.k lives with layer N's weights, on layer N's device.
			i, err := strconv.Atoi(strings.Split(st, ".")[1])
			if err != nil {
				return fmt.Errorf("state %s: %v", st, err)
			}
			if !spanHas(p.Layers, i) {
				return fmt.Errorf("%s is in partition %d, which holds layers %q", st, p.Index, p.Layers)
			}
			if onTarget := gpu < 0 || i < gpu; onTarget != (p.Device != CPUDevice) {
				return fmt.Errorf("layer %d (%s) is on %s with --gpu-layers=%d", i, st, p.Device, gpu)
			}
		}
	}
	if split := gpu > 0 && gpu < layers; split != (moved > 0) {
		return fmt.Errorf("%d bytes moved per step with --gpu-layers=%d", moved, gpu)
	}
	return nil
}

// spanHas reports whether a span list like "0-3,7" holds i.
func spanHas(spans string, i int) bool {
	for _, part := range strings.Split(spans, ",") {
		lo, hi, found := strings.Cut(part, "-")
		if !found {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 == nil && err2 == nil && a <= i && i <= b {
			return true
		}
	}
	return false
}
