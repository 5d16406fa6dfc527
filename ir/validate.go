package ir

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/irc-compiler/irc/ir/budget"
)

// Validate is the one check every way into the compiler runs before a model
// leaves it (the text and protobuf readers, the Hugging Face importer), so
// that nothing downstream (the passes, ref, the lowering, a runner) sees a
// model that contradicts itself or that no machine can hold:
//
//   - it has at least one graph, and Verify passes (every type's element
//     count and byte size fit in int64);
//   - every meta field is in range and agrees with the graphs, weights and
//     states it describes (checkMeta);
//   - its declared bytes (every weight, every state and its largest value)
//     add up without overflowing int64. Whether they fit is for what
//     allocates them to say (ref, a device): a model is compiled here for a
//     bigger machine.
//
// The error is one line naming the graph, node, value or meta field.
func (m *Model) Validate() error {
	if len(m.Graphs) == 0 {
		return errors.New("the model has no graphs: want at least one (an imported model has prefill and decode)")
	}
	if err := m.Verify(); err != nil {
		return err
	}
	if err := m.checkMeta(); err != nil {
		return err
	}
	_, err := m.DeclaredSize()
	return err
}

// Size is what holding a model takes, from its declared types.
type Size struct {
	Weights, States int64
	// Largest is the largest graph value (an input or a node's result), the
	// least any executor must hold besides weights and states.
	Largest     int64
	LargestName string
	Total       int64
}

func (s Size) String() string {
	return fmt.Sprintf("the model (weights %s, KV caches %s, largest value %s %s)",
		budget.Format(s.Weights), budget.Format(s.States), s.LargestName, budget.Format(s.Largest))
}

// DeclaredSize sums the model's declared bytes with overflow checks. The
// model must have passed Verify (every type checked).
func (m *Model) DeclaredSize() (Size, error) {
	var s Size
	add := func(sum *int64, what string, t TensorType) error {
		n, ok := t.SizeBytes()
		if !ok || *sum > math.MaxInt64-n {
			return fmt.Errorf("the model's declared bytes overflow int64 at %s %v", what, t)
		}
		*sum += n
		return nil
	}
	for _, w := range m.Weights {
		if err := add(&s.Weights, "weight @"+w.Value.Name, w.Value.Type); err != nil {
			return s, err
		}
	}
	for _, st := range m.States {
		if err := add(&s.States, "state @"+st.Value.Name, st.Value.Type); err != nil {
			return s, err
		}
	}
	largest := func(g *Graph, v *Value) {
		if n, ok := v.Type.SizeBytes(); ok && (n > s.Largest || s.LargestName == "") {
			s.Largest, s.LargestName = n, "%"+v.Name+" (graph "+g.Name+")"
		}
	}
	for _, g := range m.Graphs {
		for _, v := range g.Inputs {
			largest(g, v)
		}
		for _, n := range g.Nodes {
			for _, o := range n.Outputs {
				largest(g, o)
			}
		}
	}
	total := int64(0)
	for _, part := range []int64{s.Weights, s.States, s.Largest} {
		if total > math.MaxInt64-part {
			return s, errors.New("the model's declared bytes (weights, KV caches and largest value) overflow int64")
		}
		total += part
	}
	s.Total = total
	return s, nil
}

// Runner graphs: the graphs a runner drives, by name. Each takes
// (%tokens: i32[n], %pos: i32[1]) and returns logits f32[n, vocab].
const (
	PrefillGraph = "prefill"
	DecodeGraph  = "decode"
)

// Runnable reports whether m has both runner graphs. Such a model is an
// LLM as the importer builds it, and every meta field must be set and agree
// with it; other models (single graphs, test modules) need only agree with
// the fields they set.
func (m *Model) Runnable() bool { return m.Graph(PrefillGraph) != nil && m.Graph(DecodeGraph) != nil }

// DTypeOfTorch maps the meta's dtype (a torch dtype name) to the IR dtype
// of the weights and caches; false for a name the importer never writes.
func DTypeOfTorch(torch string) (DType, bool) {
	switch torch {
	case "bfloat16":
		return BF16, true
	case "float16":
		return F16, true
	case "float32":
		return F32, true
	}
	return Invalid, false
}

// metaCheck carries the model and whether it is runnable through checkMeta.
type metaCheck struct {
	m        *Model
	mt       *Meta
	runnable bool
}

// need reports whether a cross-check of field value v applies: the field is
// set, or the model is runnable (then every field must be set, and a zero
// is reported against what the model holds).
func (c *metaCheck) need(v int64) bool { return v != 0 || c.runnable }

func metaErr(field string, format string, args ...any) error {
	return fmt.Errorf("meta %s: %s", field, fmt.Sprintf(format, args...))
}

// checkMeta checks every meta field: its range, then against the graphs,
// weights and states it describes; on a runnable model every field must be
// set. The model must have passed Verify.
func (m *Model) checkMeta() error {
	c := &metaCheck{m: m, mt: &m.Meta, runnable: m.Runnable()}
	for _, f := range []func() error{c.ranges, c.embeddings, c.graphs, c.states, c.weights, c.required} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// intFields are the meta's integer fields with what each counts.
func (c *metaCheck) intFields() []struct {
	name string
	v    int64
} {
	mt := c.mt
	return []struct {
		name string
		v    int64
	}{
		{"vocab_size", mt.VocabSize}, {"hidden_size", mt.HiddenSize}, {"intermediate_size", mt.IntermediateSize},
		{"num_layers", mt.NumLayers}, {"num_heads", mt.NumHeads}, {"num_kv_heads", mt.NumKVHeads},
		{"head_dim", mt.HeadDim}, {"max_position_embeddings", mt.MaxPositionEmbeddings},
		{"max_cache_len", mt.MaxCacheLen}, {"prefill_len", mt.PrefillLen}, {"bos_token_id", mt.BOSTokenID},
	}
}

// ranges: what each field can be on its own or with other fields.
func (c *metaCheck) ranges() error {
	mt := c.mt
	for _, f := range c.intFields() {
		if f.v < 0 {
			return metaErr(f.name, "is %d, want >= 0", f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"rope_theta", mt.RopeTheta}, {"rms_norm_eps", mt.RMSNormEps}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return metaErr(f.name, "is %g, want a finite number > 0", f.v)
		}
	}
	if mt.DType != "" {
		if _, ok := DTypeOfTorch(mt.DType); !ok {
			return metaErr("dtype", "is %q, want bfloat16, float16 or float32", mt.DType)
		}
	}
	if mt.RopeScaling != "" {
		var obj map[string]any
		if !json.Valid([]byte(mt.RopeScaling)) || json.Unmarshal([]byte(mt.RopeScaling), &obj) != nil {
			return metaErr("rope_scaling", "is %.80q, want a JSON object (or empty)", mt.RopeScaling)
		}
	}
	if mt.HeadDim%2 != 0 {
		return metaErr("head_dim", "is %d, want an even number (RoPE rotates pairs)", mt.HeadDim)
	}
	if mt.NumHeads > 0 && mt.NumKVHeads > 0 && mt.NumHeads%mt.NumKVHeads != 0 {
		return metaErr("num_heads", "is %d, want a multiple of num_kv_heads (%d)", mt.NumHeads, mt.NumKVHeads)
	}
	if mt.PrefillLen > 0 && mt.MaxCacheLen > 0 && mt.PrefillLen > mt.MaxCacheLen {
		return metaErr("prefill_len", "is %d, want at most max_cache_len (%d)", mt.PrefillLen, mt.MaxCacheLen)
	}
	if c.need(mt.VocabSize) || len(mt.EOSTokenIDs) > 0 {
		for _, id := range mt.EOSTokenIDs {
			if id < 0 || id >= mt.VocabSize {
				return metaErr("eos_token_ids", "holds %d, want ids in [0, vocab_size=%d)", id, mt.VocabSize)
			}
		}
	}
	if mt.VocabSize > 0 && mt.BOSTokenID >= mt.VocabSize {
		return metaErr("bos_token_id", "is %d, want an id in [0, vocab_size=%d)", mt.BOSTokenID, mt.VocabSize)
	}
	if mt.Tokenizer != nil {
		if err := checkTokenizer(mt.Tokenizer, mt.VocabSize); err != nil {
			return metaErr("tokenizer", "%v", err)
		}
	}
	// A layer has weights or states: this bounds num_layers by the model
	// (the partition pass numbers stages by it).
	if mt.NumLayers > int64(len(c.m.Weights)+len(c.m.States)) {
		return metaErr("num_layers", "is %d, but the model declares only %d weights and %d states", mt.NumLayers, len(c.m.Weights), len(c.m.States))
	}
	return nil
}

// graphs: the runner graphs' signatures, prefill_len and the logits'
// vocabulary.
func (c *metaCheck) graphs() error {
	mt := c.mt
	for _, name := range []string{PrefillGraph, DecodeGraph} {
		g := c.m.Graph(name)
		if g == nil {
			continue
		}
		n, vocab, err := runnerSignature(g)
		if err != nil {
			return err
		}
		switch {
		case name == DecodeGraph && n != 1:
			return fmt.Errorf("graph decode takes %%tokens: i32[%d], want i32[1] (one token per step)", n)
		case name == PrefillGraph && c.need(mt.PrefillLen) && n != mt.PrefillLen:
			return metaErr("prefill_len", "is %d, but graph prefill takes %%tokens: i32[%d]", mt.PrefillLen, n)
		case name == PrefillGraph && mt.MaxCacheLen > 0 && n > mt.MaxCacheLen:
			return fmt.Errorf("graph prefill takes %d tokens, more than max_cache_len (%d)", n, mt.MaxCacheLen)
		}
		if c.need(mt.VocabSize) && vocab != mt.VocabSize {
			return metaErr("vocab_size", "is %d, but graph %s returns logits f32[%d,%d] (the last axis is the vocabulary)", mt.VocabSize, name, n, vocab)
		}
	}
	return nil
}

// runnerSignature checks that g takes (%tokens: i32[n], %pos: i32[1]) and
// returns logits f32[n, vocab], and returns n and vocab.
func runnerSignature(g *Graph) (n, vocab int64, err error) {
	bad := func(what string) error {
		return fmt.Errorf("graph %s: %s; a runner drives prefill and decode as (%%tokens: i32[n], %%pos: i32[1]) -> logits f32[n, vocab]", g.Name, what)
	}
	if len(g.Inputs) != 2 {
		return 0, 0, bad(fmt.Sprintf("has %d inputs", len(g.Inputs)))
	}
	tok, pos := g.Inputs[0], g.Inputs[1]
	if tok.Name != "tokens" || tok.Type.DType != I32 || len(tok.Type.Shape) != 1 || tok.Type.Shape[0] < 1 {
		return 0, 0, bad(fmt.Sprintf("its first input is %%%s: %v", tok.Name, tok.Type))
	}
	if pos.Name != "pos" || !pos.Type.Equal(T(I32, 1)) {
		return 0, 0, bad(fmt.Sprintf("its second input is %%%s: %v", pos.Name, pos.Type))
	}
	n = tok.Type.Shape[0]
	if len(g.Outputs) != 1 {
		return 0, 0, bad(fmt.Sprintf("it returns %d values", len(g.Outputs)))
	}
	out := g.Outputs[0].Type
	if out.DType != F32 || len(out.Shape) != 2 || out.Shape[0] != n || out.Shape[1] < 1 {
		return 0, 0, bad(fmt.Sprintf("it returns %s: %v", Ref(g.Outputs[0]), out))
	}
	return n, out.Shape[1], nil
}

// embeddings: every token lookup reads a table of vocab_size rows of
// hidden_size columns (a token past the table would read out of bounds on a
// device that trusts vocab_size).
func (c *metaCheck) embeddings() error {
	mt := c.mt
	for _, g := range c.m.Graphs {
		for i, n := range g.Nodes {
			if n.Op != "embedding" {
				continue
			}
			table := n.Inputs[0]
			rows, cols := table.Type.Shape[0], table.Type.Shape[1]
			if c.need(mt.VocabSize) && rows != mt.VocabSize {
				return metaErr("vocab_size", "is %d, but graph %s node %d looks tokens up in %s, a table of %d rows", mt.VocabSize, g.Name, i, Ref(table), rows)
			}
			if c.need(mt.HiddenSize) && cols != mt.HiddenSize {
				return metaErr("hidden_size", "is %d, but graph %s node %d looks tokens up in %s, a table of %d columns", mt.HiddenSize, g.Name, i, Ref(table), cols)
			}
		}
	}
	return nil
}

// states: the KV caches are [num_kv_heads, max_cache_len, head_dim], one K
// and one V per layer in a runnable model, written along their position
// axis (1). max_cache_len is what ref and the runners check prompts
// against: a larger value would let generation run past the caches.
func (c *metaCheck) states() error {
	mt := c.mt
	if c.runnable && int64(len(c.m.States)) != 2*mt.NumLayers {
		return metaErr("num_layers", "is %d, but the model has %d KV-cache states (want one K and one V per layer)", mt.NumLayers, len(c.m.States))
	}
	for _, s := range c.m.States {
		t := s.Value.Type
		if len(t.Shape) != 3 {
			if c.runnable {
				return fmt.Errorf("state @%s is %v, want [num_kv_heads, max_cache_len, head_dim]", s.Value.Name, t)
			}
			continue
		}
		for i, f := range []struct {
			name string
			v    int64
			axis string
		}{{"num_kv_heads", mt.NumKVHeads, "heads"}, {"max_cache_len", mt.MaxCacheLen, "positions"}, {"head_dim", mt.HeadDim, "columns"}} {
			if c.need(f.v) && t.Shape[i] != f.v {
				return metaErr(f.name, "is %d, but state @%s is %v (%d %s on axis %d)", f.v, s.Value.Name, t, t.Shape[i], f.axis, i)
			}
		}
	}
	if !c.runnable {
		return nil
	}
	for _, g := range c.m.Graphs {
		for i, n := range g.Nodes {
			if n.Op != "cache_write" {
				continue
			}
			st := n.Inputs[0]
			if ax, _ := NormAxis(n.Attrs.Int("axis", 0), len(st.Type.Shape)); ax != 1 {
				return fmt.Errorf("graph %s node %d writes state @%s along axis %d, want its position axis 1 (max_cache_len)", g.Name, i, st.Name, ax)
			}
		}
	}
	return nil
}

// hfWeight is the shape of a weight the importer names after the Hugging
// Face tensor, in meta fields.
type hfWeight struct {
	suffix string
	dims   [][]string // each dimension is a product of meta fields
}

var hfLayerWeights = []hfWeight{
	{"input_layernorm.weight", [][]string{{"hidden_size"}}},
	{"post_attention_layernorm.weight", [][]string{{"hidden_size"}}},
	{"self_attn.q_proj.weight", [][]string{{"num_heads", "head_dim"}, {"hidden_size"}}},
	{"self_attn.k_proj.weight", [][]string{{"num_kv_heads", "head_dim"}, {"hidden_size"}}},
	{"self_attn.v_proj.weight", [][]string{{"num_kv_heads", "head_dim"}, {"hidden_size"}}},
	{"self_attn.q_proj.bias", [][]string{{"num_heads", "head_dim"}}},
	{"self_attn.k_proj.bias", [][]string{{"num_kv_heads", "head_dim"}}},
	{"self_attn.v_proj.bias", [][]string{{"num_kv_heads", "head_dim"}}},
	{"self_attn.q_norm.weight", [][]string{{"head_dim"}}},
	{"self_attn.k_norm.weight", [][]string{{"head_dim"}}},
	{"self_attn.o_proj.weight", [][]string{{"hidden_size"}, {"num_heads", "head_dim"}}},
	{"self_attn.o_proj.bias", [][]string{{"hidden_size"}}},
	{"mlp.gate_proj.weight", [][]string{{"intermediate_size"}, {"hidden_size"}}},
	{"mlp.up_proj.weight", [][]string{{"intermediate_size"}, {"hidden_size"}}},
	{"mlp.down_proj.weight", [][]string{{"hidden_size"}, {"intermediate_size"}}},
}

var hfModelWeights = []hfWeight{
	{"model.embed_tokens.weight", [][]string{{"vocab_size"}, {"hidden_size"}}},
	{"lm_head.weight", [][]string{{"vocab_size"}, {"hidden_size"}}},
	{"model.norm.weight", [][]string{{"hidden_size"}}},
}

// weights: layer numbers in weight names below num_layers (the partition
// pass places model.layers.N.* in layer N), the Hugging Face weights the
// importer declares shaped as the meta says, every weight and state in the
// meta's dtype, tie_word_embeddings matching the presence of lm_head.
func (c *metaCheck) weights() error {
	mt := c.mt
	field := map[string]int64{
		"vocab_size": mt.VocabSize, "hidden_size": mt.HiddenSize, "intermediate_size": mt.IntermediateSize,
		"num_heads": mt.NumHeads, "num_kv_heads": mt.NumKVHeads, "head_dim": mt.HeadDim,
	}
	check := func(w *Weight, spec hfWeight) error {
		t := w.Value.Type
		want := make(Shape, len(spec.dims))
		var names []string
		for i, prod := range spec.dims {
			want[i] = 1
			for _, f := range prod {
				if !c.need(field[f]) {
					return nil // a module that does not set the field
				}
				p, ok := budget.Elements(want[i], field[f])
				if !ok {
					return metaErr(strings.Join(prod, " * "), "overflows int64 (weight @%s)", w.Value.Name)
				}
				want[i] = p
			}
			names = append(names, strings.Join(prod, "*"))
		}
		if !t.Shape.Equal(want) {
			return fmt.Errorf("weight @%s is %v, but the meta's [%s] is %v", w.Value.Name, t, strings.Join(names, ", "), want)
		}
		return nil
	}
	names := map[string]bool{}
	for _, w := range c.m.Weights {
		name := w.Value.Name
		names[name] = true
		if rest, ok := strings.CutPrefix(name, "model.layers."); ok {
			// The layer number as the partition pass reads it.
			num, suffix, dot := strings.Cut(rest, ".")
			if l, err := strconv.Atoi(num); dot && err == nil && (l < 0 || int64(l) >= mt.NumLayers) {
				return metaErr("num_layers", "is %d, but weight @%s belongs to layer %d", mt.NumLayers, name, l)
			}
			for _, spec := range hfLayerWeights {
				if spec.suffix == suffix {
					if err := check(w, spec); err != nil {
						return err
					}
				}
			}
		}
		for _, spec := range hfModelWeights {
			if spec.suffix == name {
				if err := check(w, spec); err != nil {
					return err
				}
			}
		}
	}
	if d, ok := DTypeOfTorch(mt.DType); ok {
		for _, w := range c.m.Weights {
			// A matrix may be stored in another type (quantized, or a GGUF
			// file's F16 under F32 activations): the ops that read one
			// (linear, embedding) convert it as they read.
			t := w.Value.Type
			if t.DType != d && !(len(t.Shape) == 2 && (t.DType.IsQuantized() || t.DType.IsFloat())) {
				return metaErr("dtype", "is %q, but weight @%s is %v (want the meta's dtype; a matrix may be another float type, q8_0 or q4_0)", mt.DType, w.Value.Name, w.Value.Type)
			}
		}
		for _, s := range c.m.States {
			if s.Value.Type.DType != d {
				return metaErr("dtype", "is %q, but state @%s is %v", mt.DType, s.Value.Name, s.Value.Type)
			}
		}
	}
	if c.runnable && names["model.embed_tokens.weight"] && mt.TieWordEmbeddings == names["lm_head.weight"] {
		if mt.TieWordEmbeddings {
			return metaErr("tie_word_embeddings", "is true, but the model has its own @lm_head.weight")
		}
		return metaErr("tie_word_embeddings", "is false, but the model has no @lm_head.weight")
	}
	return nil
}

// required: on a runnable model every field the cross-checks could not
// report is set.
func (c *metaCheck) required() error {
	if !c.runnable {
		return nil
	}
	mt := c.mt
	const why = "a model with prefill and decode graphs needs it"
	if mt.Architecture == "" {
		return metaErr("architecture", "is empty: %s", why)
	}
	if mt.DType == "" {
		return metaErr("dtype", "is empty: %s (bfloat16, float16 or float32)", why)
	}
	for _, f := range c.intFields() {
		if f.v == 0 && f.name != "bos_token_id" {
			return metaErr(f.name, "is 0: %s (want > 0)", why)
		}
	}
	if mt.RopeTheta == 0 {
		return metaErr("rope_theta", "is 0: %s (want > 0)", why)
	}
	if mt.RMSNormEps == 0 {
		return metaErr("rms_norm_eps", "is 0: %s (want > 0)", why)
	}
	return nil
}
