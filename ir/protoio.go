package ir

import (
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/proto/irpb"
)

// FormatVersion is the version of the protobuf model format this code writes
// and reads.
const FormatVersion = 1

// Marshal encodes m as a deterministic protobuf (same model, same bytes).
func Marshal(m *Model) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(ToProto(m))
}

// Unmarshal decodes and verifies a protobuf model. name (a file name)
// prefixes errors.
func Unmarshal(name string, data []byte) (*Model, error) {
	var pm irpb.Model
	if err := proto.Unmarshal(data, &pm); err != nil {
		return nil, fmt.Errorf("%s: not an irc model (corrupt protobuf): %v", name, err)
	}
	m, err := FromProto(&pm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// WriteFile writes m as a .irpb file.
func WriteFile(path string, m *Model) error {
	data, err := Marshal(m)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, data, 0o644)
}

// ReadFile reads and validates a .irpb file.
func ReadFile(path string) (*Model, error) {
	data, err := safetensors.ReadInput(path, math.MaxInt64, ModelExpansion)
	if err != nil {
		return nil, err
	}
	return Unmarshal(path, data)
}

// ToProto converts the in-memory model to its protobuf form.
func ToProto(m *Model) *irpb.Model {
	mt := m.Meta
	pm := &irpb.Model{
		FormatVersion: FormatVersion,
		Meta: &irpb.Meta{
			Architecture: mt.Architecture, Dtype: mt.DType, VocabSize: mt.VocabSize, HiddenSize: mt.HiddenSize,
			IntermediateSize: mt.IntermediateSize, NumLayers: mt.NumLayers, NumHeads: mt.NumHeads,
			NumKvHeads: mt.NumKVHeads, HeadDim: mt.HeadDim, MaxPositionEmbeddings: mt.MaxPositionEmbeddings,
			MaxCacheLen: mt.MaxCacheLen, PrefillLen: mt.PrefillLen, RopeTheta: mt.RopeTheta,
			RmsNormEps: mt.RMSNormEps, TieWordEmbeddings: mt.TieWordEmbeddings, RopeScaling: mt.RopeScaling,
			EosTokenIds: mt.EOSTokenIDs, BosTokenId: mt.BOSTokenID, Tokenizer: tokenizerToProto(mt.Tokenizer),
		},
	}
	for _, w := range m.Weights {
		pm.Weights = append(pm.Weights, &irpb.Weight{Name: w.Value.Name, Type: typeToProto(w.Value.Type), File: w.File, Tensor: w.Tensor})
	}
	for _, s := range m.States {
		pm.States = append(pm.States, &irpb.State{Name: s.Value.Name, Type: typeToProto(s.Value.Type)})
	}
	for _, g := range m.Graphs {
		pg := &irpb.Graph{Name: g.Name}
		for _, v := range g.Inputs {
			pg.Inputs = append(pg.Inputs, &irpb.Value{Name: v.Name, Type: typeToProto(v.Type)})
		}
		for _, n := range g.Nodes {
			pn := &irpb.Node{Op: n.Op}
			for _, in := range n.Inputs {
				pn.Inputs = append(pn.Inputs, refName(in))
			}
			for _, o := range n.Outputs {
				pn.Outputs = append(pn.Outputs, &irpb.Value{Name: o.Name, Type: typeToProto(o.Type)})
			}
			for _, k := range attrOrder(n) {
				pn.Attrs = append(pn.Attrs, attrToProto(k, n.Attrs[k]))
			}
			pg.Nodes = append(pg.Nodes, pn)
		}
		for _, o := range g.Outputs {
			pg.Outputs = append(pg.Outputs, refName(o))
		}
		pm.Graphs = append(pm.Graphs, pg)
	}
	return pm
}

// refName is how a node input names a value in protobuf: '@' for weights and
// states, the bare name for graph values.
func refName(v *Value) string {
	if v.Kind == WeightValue || v.Kind == StateValue {
		return "@" + v.Name
	}
	return v.Name
}

func typeToProto(t TensorType) *irpb.TensorType {
	return &irpb.TensorType{Dtype: irpb.DType(t.DType), Shape: t.Shape}
}

func typeFromProto(t *irpb.TensorType, what string) (TensorType, error) {
	if t == nil {
		return TensorType{}, fmt.Errorf("%s has no type", what)
	}
	d := DType(t.Dtype)
	if d == Invalid || int(d) >= len(dtypeNames) {
		return TensorType{}, fmt.Errorf("%s has unknown dtype %v", what, t.Dtype)
	}
	tt := TensorType{DType: d, Shape: Shape(append([]int64{}, t.Shape...))}
	if err := CheckType(tt); err != nil {
		return TensorType{}, fmt.Errorf("%s: %v", what, err)
	}
	return tt, nil
}

func attrToProto(name string, v any) *irpb.Attr {
	a := &irpb.Attr{Name: name}
	switch v := v.(type) {
	case int64:
		a.Value = &irpb.Attr_I{I: v}
	case float64:
		a.Value = &irpb.Attr_F{F: v}
	case string:
		a.Value = &irpb.Attr_S{S: v}
	case []int64:
		a.Value = &irpb.Attr_Ints{Ints: &irpb.Ints{Values: v}}
	case []float64:
		a.Value = &irpb.Attr_Floats{Floats: &irpb.Floats{Values: v}}
	case DType:
		a.Value = &irpb.Attr_Dtype{Dtype: irpb.DType(v)}
	}
	return a
}

func attrFromProto(a *irpb.Attr) (any, error) {
	switch v := a.GetValue().(type) {
	case *irpb.Attr_I:
		return v.I, nil
	case *irpb.Attr_F:
		return v.F, nil
	case *irpb.Attr_S:
		return v.S, nil
	case *irpb.Attr_Ints:
		return append([]int64{}, v.Ints.GetValues()...), nil
	case *irpb.Attr_Floats:
		return append([]float64{}, v.Floats.GetValues()...), nil
	case *irpb.Attr_Dtype:
		d := DType(v.Dtype)
		if d == Invalid || int(d) >= len(dtypeNames) {
			return nil, fmt.Errorf("attribute %q has unknown dtype %v", a.Name, v.Dtype)
		}
		return d, nil
	}
	return nil, fmt.Errorf("attribute %q has no value", a.Name)
}

// FromProto converts and validates (Model.Validate) a protobuf model.
func FromProto(pm *irpb.Model) (*Model, error) {
	if pm.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("format_version is %d, this irc reads version %d", pm.FormatVersion, FormatVersion)
	}
	m := &Model{}
	if mt := pm.Meta; mt != nil {
		m.Meta = Meta{
			Architecture: mt.Architecture, DType: mt.Dtype, VocabSize: mt.VocabSize, HiddenSize: mt.HiddenSize,
			IntermediateSize: mt.IntermediateSize, NumLayers: mt.NumLayers, NumHeads: mt.NumHeads,
			NumKVHeads: mt.NumKvHeads, HeadDim: mt.HeadDim, MaxPositionEmbeddings: mt.MaxPositionEmbeddings,
			MaxCacheLen: mt.MaxCacheLen, PrefillLen: mt.PrefillLen, RopeTheta: mt.RopeTheta,
			RMSNormEps: mt.RmsNormEps, TieWordEmbeddings: mt.TieWordEmbeddings, RopeScaling: mt.RopeScaling,
			EOSTokenIDs: mt.EosTokenIds, BOSTokenID: mt.BosTokenId, Tokenizer: tokenizerFromProto(mt.Tokenizer),
		}
	}
	// Symbols by name: Model.Symbol is a linear search, and a file of many
	// symbols would take quadratic time.
	syms := map[string]*Value{}
	for i, w := range pm.Weights {
		if !ValidName(w.Name) {
			return nil, fmt.Errorf("weight %d has an invalid name %.80q (want letters, digits, '_' and '.')", i, w.Name)
		}
		t, err := typeFromProto(w.Type, fmt.Sprintf("weight %d (@%s)", i, w.Name))
		if err != nil {
			return nil, err
		}
		if syms[w.Name] != nil {
			return nil, fmt.Errorf("weight @%s declared twice", w.Name)
		}
		syms[w.Name] = m.AddWeight(w.Name, t, w.File, w.Tensor)
	}
	for i, s := range pm.States {
		if !ValidName(s.Name) {
			return nil, fmt.Errorf("state %d has an invalid name %.80q (want letters, digits, '_' and '.')", i, s.Name)
		}
		t, err := typeFromProto(s.Type, fmt.Sprintf("state %d (@%s)", i, s.Name))
		if err != nil {
			return nil, err
		}
		if syms[s.Name] != nil {
			return nil, fmt.Errorf("state @%s declared twice", s.Name)
		}
		syms[s.Name] = m.AddState(s.Name, t)
	}
	for _, pg := range pm.Graphs {
		if err := graphFromProto(m, pg, syms); err != nil {
			return nil, err
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func graphFromProto(m *Model, pg *irpb.Graph, syms map[string]*Value) error {
	if !ValidName(pg.Name) {
		return fmt.Errorf("graph %d has an invalid name %.80q (want letters, digits, '_' and '.')", len(m.Graphs), pg.Name)
	}
	for _, v := range pg.Inputs {
		if !ValidName(v.Name) {
			return fmt.Errorf("graph %s: input with an invalid name %.80q (want letters, digits, '_' and '.')", pg.Name, v.Name)
		}
	}
	for i, pn := range pg.Nodes {
		if Lookup(pn.Op) == nil {
			return fmt.Errorf("graph %s: node %d: unknown op %.80q", pg.Name, i, pn.Op)
		}
		for _, v := range pn.Outputs {
			if !ValidName(v.Name) {
				return fmt.Errorf("graph %s: node %d (%.80q): output with an invalid name %.80q (want letters, digits, '_' and '.')", pg.Name, i, pn.Op, v.Name)
			}
		}
		// Attribute names are printed in errors and dumps as they are:
		// any byte there (a newline) would break the one-line promise.
		for _, a := range pn.Attrs {
			if !ValidName(a.Name) {
				return fmt.Errorf("graph %s: node %d (%.80q): attribute with an invalid name %.80q (want letters, digits, '_' and '.')", pg.Name, i, pn.Op, a.Name)
			}
		}
	}
	g := m.NewGraph(pg.Name)
	locals := map[string]*Value{}
	resolve := func(name string) *Value {
		if len(name) > 0 && name[0] == '@' {
			return syms[name[1:]]
		}
		return locals[name]
	}
	for _, in := range pg.Inputs {
		t, err := typeFromProto(in.Type, fmt.Sprintf("graph %s input %%%s", pg.Name, in.Name))
		if err != nil {
			return err
		}
		if locals[in.Name] != nil {
			return fmt.Errorf("graph %s: input %%%s defined twice", pg.Name, in.Name)
		}
		locals[in.Name] = g.AddInput(in.Name, t)
	}
	for i, pn := range pg.Nodes {
		n := &Node{Op: pn.Op, Attrs: Attrs{}}
		for _, name := range pn.Inputs {
			v := resolve(name)
			if v == nil {
				return fmt.Errorf("graph %s: node %d (%.80q): input %.80q is not defined before use", pg.Name, i, pn.Op, name)
			}
			n.Inputs = append(n.Inputs, v)
		}
		for _, pa := range pn.Attrs {
			v, err := attrFromProto(pa)
			if err != nil {
				return fmt.Errorf("graph %s: node %d (%.80q): %w", pg.Name, i, pn.Op, err)
			}
			n.Attrs[pa.Name] = v
		}
		for _, po := range pn.Outputs {
			t, err := typeFromProto(po.Type, fmt.Sprintf("graph %s node %d (%.80q) output %%%s", pg.Name, i, pn.Op, po.Name))
			if err != nil {
				return err
			}
			if locals[po.Name] != nil {
				return fmt.Errorf("graph %s: node %d (%.80q): %%%s defined twice", pg.Name, i, pn.Op, po.Name)
			}
			v := &Value{Name: po.Name, Type: t, Kind: Local, Def: n}
			locals[po.Name] = v
			n.Outputs = append(n.Outputs, v)
		}
		g.Nodes = append(g.Nodes, n)
	}
	for _, name := range pg.Outputs {
		v := resolve(name)
		if v == nil {
			return fmt.Errorf("graph %s: output %.80q is not defined", pg.Name, name)
		}
		g.Outputs = append(g.Outputs, v)
	}
	return nil
}
