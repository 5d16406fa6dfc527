// Package schedule is the kernel schedule a generated runner executes: the
// device buffers (weights, KV-cache states, graph inputs, constants and one
// activation arena with offsets fixed at compile time), the kernels the
// program must provide, and per graph a launch table whose arguments are all
// known ahead of time. The compiler's lowering (codegen.Lower) produces it;
// the runner generator writes it out as Go data, so a runner's hot loop is a
// walk over a slice of launches with no graph, types or switches left.
//
// The package depends only on packages that are copied into every generated
// runner with it.
package schedule

// DType names an element type the way the IR prints it.
type DType string

// Element types a schedule can hold.
const (
	F32  DType = "f32"
	BF16 DType = "bf16"
	F16  DType = "f16"
	I32  DType = "i32"
)

// Size is the storage size of one element in bytes. A quantized type
// (quant.go) is addressed in bytes: its tensors' offsets count bytes, and
// its size here is 1 (BytesOf gives a tensor's true size).
func (d DType) Size() int64 {
	switch d {
	case BF16, F16:
		return 2
	case Q8_0, Q4_0:
		return 1
	}
	return 4
}

// BufferKind says who fills a buffer and when.
type BufferKind uint8

const (
	// Arena holds every activation; graphs reuse it, each value at an
	// offset assigned by the memory plan.
	Arena BufferKind = iota
	// Weight is loaded once from a checkpoint tensor.
	Weight
	// State persists across steps (a KV cache), zeroed at reset.
	State
	// Input is written by the host before each step (token ids, position).
	Input
	// Constant is uploaded once from Data.
	Constant
	// Result is written by a kernel for the host to read (the greedy id).
	Result
)

var kindNames = [...]string{Arena: "arena", Weight: "weight", State: "state", Input: "input", Constant: "constant", Result: "result"}

func (k BufferKind) String() string { return kindNames[k] }

// Buffer is one device allocation.
type Buffer struct {
	Name  string
	Kind  BufferKind
	DType DType
	Shape []int64
	Bytes int64
	// File and Tensor locate a weight's data: a safetensors file relative
	// to the weights folder, and the tensor's name in it. A packed weight
	// has Parts instead (and no File or Tensor).
	File, Tensor string
	// Parts make a packed weight: checkpoint tensors concatenated along
	// their first axis (one merged linear's weight), each copied to its
	// byte offset when the weights load. Sources lists them for every
	// weight buffer, packed or not.
	Parts []Part
	// Data is a constant's contents, little-endian.
	Data []byte
}

// Part is one checkpoint tensor of a packed weight buffer.
type Part struct {
	// Name is the model weight's own name (random weights are drawn per
	// weight name, so a packed buffer holds what its parts would).
	Name         string
	File, Tensor string
	Shape        []int64
	// Offset is where the part starts in the buffer, in bytes.
	Offset int64
}

// Sources is where a weight buffer's bytes come from: its parts when it is
// packed, otherwise the buffer's own tensor as its one part.
func (b *Buffer) Sources() []Part {
	if len(b.Parts) > 0 {
		return b.Parts
	}
	return []Part{{Name: b.Name, File: b.File, Tensor: b.Tensor, Shape: b.Shape}}
}

// Bytes is the part's size in a buffer of dtype d.
func (p Part) Bytes(d DType) int64 {
	n := int64(1)
	for _, x := range p.Shape {
		n *= x
	}
	return d.BytesOf(n)
}

// Tensor is a view of a buffer: Offset and Strides count elements.
type Tensor struct {
	Buf     int
	Offset  int64
	DType   DType
	Shape   []int64
	Strides []int64
}

// ArgKind tells how a launch argument is passed.
type ArgKind uint8

const (
	// TensorArg passes a buffer and an element offset (two kernel
	// arguments: the pointer, then an int).
	TensorArg ArgKind = iota
	// IntArg passes a 32-bit signed integer.
	IntArg
	// FloatArg passes a 32-bit float.
	FloatArg
)

// Arg is one launch argument.
type Arg struct {
	Kind ArgKind
	Buf  int
	Off  int64
	Int  int64
	F    float32
}

// Launch is one kernel launch: a work grid of Global items in groups of
// Local (Global is a multiple of Local in every dimension), each group
// with Shared bytes of dynamic shared (local) memory.
type Launch struct {
	Kernel int
	Global [3]int
	Local  [3]int
	Shared int
	Args   []Arg
	// Node is the IR node the launch computes, for profiles and errors.
	Node string
	// Part is the partition the node belongs to.
	Part int
	// ArenaBytes is the size of the arena values (and scratch) the
	// launch's tensor arguments point into, each counted once, whole
	// even where an argument views part of one: the launch's activation
	// traffic, for the roofline (Traffic).
	ArenaBytes int64
	// CPU, when set, is the launch a CPU device makes instead: the same
	// computation from the same buffers by a kernel shaped for a CPU
	// (one work item owning whole rows rather than a work group sharing
	// each). The executor picks by the device's kind at load (For); it
	// is the one way a schedule carries per-device-kind variants.
	CPU *Launch
}

// DeviceKind is the kind of device a launch is shaped for.
type DeviceKind uint8

const (
	// AnyKind is no kind given: a device's own is asked for.
	AnyKind DeviceKind = iota
	// GPU devices run work groups of many items in lock step.
	GPU
	// CPU devices run a work group's items as a loop on one core.
	CPU
)

func (k DeviceKind) String() string { return [...]string{AnyKind: "any", GPU: "gpu", CPU: "cpu"}[k] }

// For is the launch a device of kind k makes: l's CPU alternative on a
// CPU where it has one, else l.
func (l *Launch) For(k DeviceKind) *Launch {
	if k == CPU && l.CPU != nil {
		return l.CPU
	}
	return l
}

// Graph is one step function. A runner's graphs are prefill (a chunk of
// tokens) and decode, each with inputs (token ids, cache position of the
// first token) and one output, the logits f32[tokens, vocab].
type Graph struct {
	Name string
	// Inputs are the buffers the host writes before a step, in the
	// graph's input order.
	Inputs []int
	// Outputs are where the graph's results are after a step.
	Outputs  []Tensor
	Launches []Launch
	// Trace lists each node's result for the tracing mode (trace.go); the
	// launches above do not depend on it.
	Trace []Traced
}

// Model describes what a runner needs to drive generation.
type Model struct {
	Name        string
	Vocab       int64
	MaxCacheLen int64
	EOS         []int64
}

// Schedule is everything a runner executes.
type Schedule struct {
	Model   Model
	Buffers []Buffer
	// Kernels are the kernel function names, indexed by Launch.Kernel.
	Kernels []string
	// Argmax is greedy decoding on the device.
	Argmax Argmax
	// TopK reduces a logits row to its most likely tokens on the device
	// (sampling with top-k); Gumbel samples from a whole row there.
	TopK   TopK
	Gumbel Gumbel
	Graphs []Graph
}

// Argmax is the launch that writes the index of the largest logit of one
// row into a Result buffer. Its arguments are complete but for the row:
// the host sets argument Row to the row's tensor and argument Count to
// the row's length before each launch.
type Argmax struct {
	Launch     Launch
	Row, Count int
	Out        int // the Result buffer holding the i32 index
}

// T is a tensor argument: buffer buf at element offset off.
func T(buf int, off int64) Arg { return Arg{Kind: TensorArg, Buf: buf, Off: off} }

// I is an integer argument.
func I(v int64) Arg { return Arg{Kind: IntArg, Int: v} }

// F is a float argument.
func F(v float32) Arg { return Arg{Kind: FloatArg, F: v} }
