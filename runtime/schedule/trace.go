package schedule

// Traced is one value the runner's tracing mode reads back (irc check):
// where a node's result lives and after which launch of its graph it is
// complete. Launches write into an arena whose regions later values reuse,
// so a traced value is valid right after launch After and perhaps not at
// the end of the step; the tracer reads it there.
//
// The table lives beside the launch table (Graph.Trace), never in it: a
// step that is not traced walks the same launches as before, with nothing
// added to them.
type Traced struct {
	// Value is the IR value's name (without the %).
	Value string
	// After is the index in Graph.Launches of the node's last launch.
	After int
	// Out is where the value lives, strided as the kernels wrote it. For
	// a KV cache the node writes in place (State), Out is the whole
	// [heads, positions, head_dim] state; the tracer reads only the rows
	// the step wrote.
	Out   Tensor
	State bool
}
