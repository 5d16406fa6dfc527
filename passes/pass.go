// Package passes rewrites imported primitive graphs into fused, placed graphs.
//
// A pass is one entry of the table below: a name, a one-line description and
// a function run once per graph. The table is the canonical order; the
// constraints say which passes must precede which whenever both run, and are
// checked at start-up and for every custom pipeline (as the Go compiler's
// cmd/compile/internal/ssa/compile.go does).
package passes

import (
	"fmt"
	"slices"
)

// Pass is one entry of the pass table.
type Pass struct {
	Name string
	Doc  string
	Run  func(*Context)
}

// table lists every pass in its canonical order.
var table = []*Pass{
	{Name: "dce", Doc: "remove nodes whose results nothing reads (state writes are kept)", Run: runDCE},
	{Name: "cse", Doc: "merge nodes that compute the same op on the same inputs", Run: runCSE},
	{Name: "const_fold", Doc: "evaluate small all-constant subgraphs and drop x+0, x*1, same-dtype casts", Run: runConstFold},
	{Name: "rms_norm", Doc: "cast/pow/mean/add/rsqrt/mul chains -> rms_norm (eps, optional weight)", Run: runRMSNorm},
	{Name: "silu_mul", Doc: "silu(a)*b and a*sigmoid(a)*b -> silu_mul", Run: runSiLUMul},
	{Name: "rope", Doc: "x*cos + rotate_half(x)*sin over position tables -> rope with angles on the fly", Run: runRoPE},
	{Name: "masked_softmax", Doc: "softmax(x*scale + mask) -> masked_softmax; an iota causal mask becomes causal=1", Run: runMaskedSoftmax},
	{Name: "gqa", Doc: "attention matmuls (against repeat_kv of K or V, or over equal heads) -> grouped_matmul", Run: runGQA},
	{Name: "causal_bound", Doc: "causal attention's grouped_matmuls carry the query positions: scores skip columns, probs x V stop the sum", Run: runCausalBound},
	{Name: "linear", Doc: "matmul against a transposed 2-D weight, + bias, + residual -> linear with fused epilogues", Run: runLinear},
	{Name: "views", Doc: "reshape/transpose/expand/slice/unsqueeze/squeeze chains -> one strided view (copy only where strides cannot)", Run: runViews},
	{Name: "attention", Doc: "rope + cache writes + causal GQA softmax(q.K)V over the KV caches -> attention (one op per layer)", Run: runAttention},
	{Name: "merge_projections", Doc: "linears reading one x with model weights -> one linear over concat(weights) and views (q/k/v); gate/up under silu_mul -> linear {glu=1}", Run: runMergeProjections},
	{Name: "norm_linear", Doc: "rms_norm read only by linears (as x) -> the linears' norm prologue {norm=1, eps}", Run: runNormLinear},
	{Name: "partition", Doc: "place every node in a DAG of partitions on the target or the CPU, with transfers at cuts", Run: runPartition},
}

// constraints: when both passes run, the first must come before the second.
var constraints = [][2]string{
	// The fusions match primitive view ops, which views replaces.
	{"rms_norm", "views"},
	{"rope", "views"},
	{"gqa", "views"},
	{"linear", "views"},
	// The causal-mask and rope patterns read positions through x+0, which const_fold removes.
	{"const_fold", "rope"},
	{"const_fold", "masked_softmax"},
	// The causal bound is read off the fused attention: a causal masked_softmax
	// and the grouped_matmuls around it. It adds an operand the softmax already
	// reads, so it needs no order with views (which leaves that value alone).
	{"masked_softmax", "causal_bound"},
	{"gqa", "causal_bound"},
	// Attention is found through the causal bounds and the views (the
	// transposed K cache is one view after views).
	{"causal_bound", "attention"},
	{"views", "attention"},
	{"rope", "attention"},
	// merge_projections merges fused linears, composes the views the views
	// pass made (it leaves no view of a view), and turns silu_mul into the
	// glu epilogue. norm_linear moves fused norms into fused linears.
	{"linear", "merge_projections"},
	{"views", "merge_projections"},
	{"silu_mul", "merge_projections"},
	{"rms_norm", "norm_linear"},
	{"linear", "norm_linear"},
	// Placement is the last word: no rewrite may add unplaced nodes after it.
	{"dce", "partition"},
	{"cse", "partition"},
	{"const_fold", "partition"},
	{"rms_norm", "partition"},
	{"silu_mul", "partition"},
	{"rope", "partition"},
	{"masked_softmax", "partition"},
	{"gqa", "partition"},
	{"causal_bound", "partition"},
	{"linear", "partition"},
	{"views", "partition"},
	{"attention", "partition"},
	{"merge_projections", "partition"},
	{"norm_linear", "partition"},
}

func init() {
	if err := checkOrder(Names()); err != nil {
		panic("passes: the pass table breaks its own constraints: " + err.Error())
	}
	for _, c := range constraints {
		if Lookup(c[0]) == nil || Lookup(c[1]) == nil {
			panic(fmt.Sprintf("passes: constraint %v names an unknown pass", c))
		}
	}
}

// Lookup returns the pass called name, or nil.
func Lookup(name string) *Pass {
	for _, p := range table {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Names lists every pass in canonical order.
func Names() []string {
	out := make([]string, len(table))
	for i, p := range table {
		out[i] = p.Name
	}
	return out
}

// Table returns the pass table in canonical order.
func Table() []*Pass { return slices.Clone(table) }

// checkOrder reports the first constraint a pipeline breaks.
func checkOrder(pipeline []string) error {
	at := map[string]int{}
	for i, name := range pipeline {
		at[name] = i
	}
	for _, c := range constraints {
		a, okA := at[c[0]]
		b, okB := at[c[1]]
		if okA && okB && a > b {
			return fmt.Errorf("pass %s must run before %s", c[0], c[1])
		}
	}
	return nil
}
