package schedule

// MaxTopK is the most candidates TopK reduces a row to: the one bound the
// kernels' headers (TOPK_MAX) and the runner's --top-k check share.
const MaxTopK = 64

// GumbelMin and GumbelMax bound the Gumbel noise the sampling kernel adds
// (its values lie in [-2.81, 16.64] for the u its hash gives), with room
// for a logarithm's last bits: a token whose scaled logit lies more than
// GumbelMax - GumbelMin below the row's largest cannot win, and skips its
// noise (GUMBEL_MIN, GUMBEL_MAX).
const (
	GumbelMin = -3
	GumbelMax = 17
)

// TopKParts is how many work items the first TopK launch splits a row
// over, each keeping its own MaxTopK best (TOPK_PARTS).
const TopKParts = 1024

// TopK is the pair of launches that reduce one logits row to its k largest
// (value, id) pairs, largest first and the lower id first on ties: Part
// has each of TopKParts items keep the best of a strided slice of the row
// in scratch, Merge merges those sorted lists into the Vals and IDs Result
// buffers (MaxTopK floats and ints; past k, or past the row's length, the
// slots hold -inf and -1). As for Argmax, the host sets Part's argument
// Row to the row's tensor and Count to its length, and PartK and MergeK
// (argument indices of Part and Merge) to k, before each launch.
type TopK struct {
	Part, Merge   Launch
	Row, Count    int
	PartK, MergeK int
	Vals, IDs     int
}

// Gumbel is the launch that samples one token from softmax(row /
// temperature) exactly, as the argmax of row / temperature plus Gumbel
// noise drawn from a hash of (seed, step, token id) (GumbelNoise, which
// the host computes identically). Params is an Input buffer of four i32:
// the seed's low and high halves, the step and the temperature's float
// bits, written before each launch; Out the Result buffer of the id. The
// host sets argument Row and Count as for Argmax.
type Gumbel struct {
	Launch     Launch
	Row, Count int
	Params     int
	Out        int
}
