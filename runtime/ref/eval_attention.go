package ref

import (
	"math"

	"github.com/irc-compiler/irc/ir"
)

func init() { register("attention", attention) }

// attention is the fused op spelled as the ops it replaces: rope on q and
// k, the two cache writes, then causal softmax(scale * q . K) . V over
// each query's cache prefix, in float32 with float64 sums.
func attention(n *ir.Node, in []*Tensor) (*Tensor, error) {
	q, k, v, kCache, vCache, pos, start := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
	rotate := func(x *Tensor) (*Tensor, error) {
		r := &ir.Node{Op: "rope", Attrs: ir.Attrs{"inv_freq": n.Attrs.Floats("inv_freq")}, Outputs: []*ir.Value{{Type: x.Type()}}}
		return rope(r, []*Tensor{x, pos})
	}
	qr, err := rotate(q)
	if err != nil {
		return nil, err
	}
	kr, err := rotate(k)
	if err != nil {
		return nil, err
	}
	write := &ir.Node{Op: "cache_write", Attrs: ir.Attrs{"axis": int64(1)}, Outputs: []*ir.Value{{Type: kCache.Type()}}}
	for _, w := range [][2]*Tensor{{kCache, kr}, {vCache, v}} {
		if _, err := eval(write, []*Tensor{w[0], w[1], start}); err != nil {
			return nil, err
		}
	}
	heads, rows, dim := int(q.Shape[0]), int(q.Shape[1]), int(q.Shape[2])
	groups, length := int(kCache.Shape[0]), int(kCache.Shape[1])
	scale := float32(n.Attrs.Float("scale", 1))
	out := NewTensor(n.Outputs[0].Type)
	scores := make([]float32, length)
	for m := range rows {
		keys := int(min(pos.I[m], int64(length-1))) + 1
		for h := range heads {
			g := h / (heads / groups)
			qv := qr.F[(h*rows+m)*dim : (h*rows+m+1)*dim]
			top := float32(math.Inf(-1))
			for j := range keys {
				kv := kCache.F[(g*length+j)*dim : (g*length+j+1)*dim]
				var dot float64
				for d, x := range qv {
					dot += float64(x) * float64(kv[d])
				}
				scores[j] = float32(dot) * scale
				top = max(top, scores[j])
			}
			var sum float64
			for j := range keys {
				scores[j] = float32(math.Exp(float64(scores[j] - top)))
				sum += float64(scores[j])
			}
			o := out.F[(m*heads+h)*dim : (m*heads+h+1)*dim]
			acc := make([]float64, dim)
			for j := range keys {
				p := float64(scores[j]) / sum
				vv := vCache.F[(g*length+j)*dim : (g*length+j+1)*dim]
				for d, x := range vv {
					acc[d] += p * float64(x)
				}
			}
			for d := range o {
				o[d] = float32(acc[d])
			}
		}
	}
	return out, nil
}
