package ir

import "github.com/irc-compiler/irc/runtime/tokenizer"

// ValueKind says where a value comes from.
type ValueKind uint8

const (
	// Local values are produced by a node of the graph.
	Local ValueKind = iota
	// Input values are graph inputs fed by the caller at each run.
	Input
	// WeightValue values are model weights, shared by all graphs.
	WeightValue
	// StateValue values are persistent model state (KV caches), shared by all graphs.
	StateValue
)

// Value is a typed SSA value. Weights and states are model-level values whose
// names are printed with '@'; the others are printed with '%'.
type Value struct {
	Name string
	Type TensorType
	Kind ValueKind
	// Def is the node that produces a Local value.
	Def *Node
}

// Node is one operation. Outputs are defined by it (Def points back here).
type Node struct {
	Op      string
	Inputs  []*Value
	Outputs []*Value
	Attrs   Attrs
}

// Graph is a straight-line SSA program: nodes in execution order.
type Graph struct {
	Name    string
	Inputs  []*Value
	Nodes   []*Node
	Outputs []*Value
}

// Weight is a constant tensor stored outside the IR, in a safetensors file.
type Weight struct {
	Value  *Value
	File   string // relative to the model file's folder
	Tensor string // name inside File
}

// State is a persistent tensor (a KV cache) that graphs update in place.
type State struct {
	Value *Value
}

// Meta holds the configuration values the graphs were built from.
type Meta struct {
	Architecture          string
	DType                 string
	VocabSize             int64
	HiddenSize            int64
	IntermediateSize      int64
	NumLayers             int64
	NumHeads              int64
	NumKVHeads            int64
	HeadDim               int64
	MaxPositionEmbeddings int64
	MaxCacheLen           int64
	PrefillLen            int64
	RopeTheta             float64
	RMSNormEps            float64
	TieWordEmbeddings     bool
	RopeScaling           string // the config's rope_scaling object as compact JSON, "" if none
	EOSTokenIDs           []int64
	BOSTokenID            int64
	// Tokenizer is the model's tokenizer, from the GGUF file or the
	// checkpoint's tokenizer.json (nil if it had none).
	Tokenizer *tokenizer.Vocab
}

// Model is the unit the compiler works on: metadata, weights, states and the
// graphs (prefill, decode) that share them.
type Model struct {
	Meta    Meta
	Weights []*Weight
	States  []*State
	Graphs  []*Graph
}

// Graph returns the graph with the given name, or nil.
func (m *Model) Graph(name string) *Graph {
	for _, g := range m.Graphs {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// Symbol returns the weight or state value with the given name, or nil.
func (m *Model) Symbol(name string) *Value {
	for _, w := range m.Weights {
		if w.Value.Name == name {
			return w.Value
		}
	}
	for _, s := range m.States {
		if s.Value.Name == name {
			return s.Value
		}
	}
	return nil
}

// AddWeight declares a weight and returns its value.
func (m *Model) AddWeight(name string, t TensorType, file, tensor string) *Value {
	v := &Value{Name: name, Type: t, Kind: WeightValue}
	m.Weights = append(m.Weights, &Weight{Value: v, File: file, Tensor: tensor})
	return v
}

// AddState declares a persistent state tensor and returns its value.
func (m *Model) AddState(name string, t TensorType) *Value {
	v := &Value{Name: name, Type: t, Kind: StateValue}
	m.States = append(m.States, &State{Value: v})
	return v
}

// NewGraph adds an empty graph.
func (m *Model) NewGraph(name string) *Graph {
	g := &Graph{Name: name}
	m.Graphs = append(m.Graphs, g)
	return g
}

// AddInput declares a graph input.
func (g *Graph) AddInput(name string, t TensorType) *Value {
	v := &Value{Name: name, Type: t, Kind: Input}
	g.Inputs = append(g.Inputs, v)
	return v
}
