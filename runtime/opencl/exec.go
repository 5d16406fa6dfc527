package opencl

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Executor runs a kernel schedule on one device. Every launch has its own
// kernel object with its arguments set once at load time (all offsets are
// static), so a step is a loop of enqueues.
type Executor struct {
	ctx  *Context
	prog *Program
	s    *schedule.Schedule
	bufs []*Buffer
	// staging holds the bytes of each input buffer's latest async write.
	staging map[int]*Staging
	graphs  [][]*Kernel // per graph, per launch
	argmax  *Kernel
	best    *Buffer
}

// Load opens device index, builds the program from source, allocates every
// buffer of s, uploads weights (from load) and constants, zeroes the states
// and prepares the launch tables.
func Load(s *schedule.Schedule, source string, device int, load func(*schedule.Buffer) ([]byte, error)) (_ *Executor, err error) {
	ctx, err := Open(device)
	if err != nil {
		return nil, err
	}
	e := &Executor{ctx: ctx, s: s, staging: map[int]*Staging{}}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.prog, err = ctx.Build(source, ""); err != nil {
		return nil, err
	}
	// Allocate everything before uploading anything, so that a model too
	// big for the device fails at once.
	for i := range s.Buffers {
		b := &s.Buffers[i]
		mem, err := ctx.Alloc(b.Bytes, fmt.Sprintf("%s buffer %s", b.Kind, b.Name))
		if err != nil {
			return nil, err
		}
		e.bufs = append(e.bufs, mem)
	}
	for i := range s.Buffers {
		b, mem := &s.Buffers[i], e.bufs[i]
		switch b.Kind {
		case schedule.Weight:
			data, err := load(b)
			if err != nil {
				return nil, err
			}
			if int64(len(data)) != b.Bytes {
				return nil, fmt.Errorf("weight @%s: got %d bytes, want %d", b.Name, len(data), b.Bytes)
			}
			err = ctx.Write(mem, 0, data)
		case schedule.Constant:
			err = ctx.Write(mem, 0, b.Data)
		default:
			err = ctx.Zero(mem)
		}
		if err != nil {
			return nil, fmt.Errorf("%s buffer %s: %w", b.Kind, b.Name, err)
		}
	}
	for _, g := range s.Graphs {
		var ks []*Kernel
		for i, l := range g.Launches {
			k, err := e.kernel(l.Kernel, l.Args)
			if err != nil {
				return nil, fmt.Errorf("graph %s launch %d (%s): %w", g.Name, i, l.Node, err)
			}
			ks = append(ks, k)
		}
		e.graphs = append(e.graphs, ks)
	}
	if e.best, err = ctx.Alloc(4, "argmax result"); err != nil {
		return nil, err
	}
	if e.argmax, err = e.prog.Kernel(s.Kernels[s.Argmax]); err != nil {
		return nil, err
	}
	return e, ctx.Finish()
}

// kernel creates a kernel object for kernel index id with args set.
func (e *Executor) kernel(id int, args []schedule.Arg) (*Kernel, error) {
	k, err := e.prog.Kernel(e.s.Kernels[id])
	if err != nil {
		return nil, err
	}
	if err := e.setArgs(k, 0, args); err != nil {
		k.Release()
		return nil, err
	}
	return k, nil
}

func (e *Executor) setArgs(k *Kernel, at int, args []schedule.Arg) error {
	for _, a := range args {
		var err error
		switch a.Kind {
		case schedule.TensorArg:
			if err = k.SetBuffer(at, e.bufs[a.Buf]); err == nil {
				at++
				err = k.SetInt(at, int32(a.Off))
			}
		case schedule.IntArg:
			err = k.SetInt(at, int32(a.Int))
		case schedule.FloatArg:
			err = k.SetFloat(at, a.F)
		}
		if err != nil {
			return err
		}
		at++
	}
	return nil
}

// Device describes the device the executor runs on.
func (e *Executor) Device() string { return e.ctx.Device.String() }

// Run enqueues one step of a runner graph g (an index into the schedule's
// graphs) on tokens at cache position pos. It returns before the device
// finishes.
func (e *Executor) Run(g int, tokens []int32, pos int32) error {
	if err := e.writeStep(g, tokens, pos); err != nil {
		return err
	}
	return e.Launch(g)
}

func (e *Executor) writeStep(g int, tokens []int32, pos int32) error {
	graph := &e.s.Graphs[g]
	if len(graph.Inputs) != 2 || len(graph.Outputs) != 1 {
		return fmt.Errorf("graph %s is not a runner step (inputs tokens, pos; output logits)", graph.Name)
	}
	if err := e.writeInts(graph.Inputs[0], tokens); err != nil {
		return err
	}
	return e.writeInts(graph.Inputs[1], []int32{pos})
}

// Launch enqueues graph g's launch table on whatever its inputs hold.
func (e *Executor) Launch(g int) error {
	graph := &e.s.Graphs[g]
	for i, k := range e.graphs[g] {
		l := &graph.Launches[i]
		if err := e.ctx.Launch(k, l.Global, l.Local); err != nil {
			return fmt.Errorf("graph %s launch %d (%s): %w", graph.Name, i, l.Node, err)
		}
	}
	return nil
}

// Profile runs one step like Run but waits for each launch and returns the
// device time of each.
func (e *Executor) Profile(g int, tokens []int32, pos int32) ([]time.Duration, error) {
	graph := &e.s.Graphs[g]
	if err := e.writeStep(g, tokens, pos); err != nil {
		return nil, err
	}
	times := make([]time.Duration, len(e.graphs[g]))
	for i, k := range e.graphs[g] {
		l := &graph.Launches[i]
		d, err := e.ctx.LaunchTimed(k, l.Global, l.Local)
		if err != nil {
			return nil, fmt.Errorf("graph %s launch %d (%s): %w", graph.Name, i, l.Node, err)
		}
		times[i] = d
	}
	return times, nil
}

func (e *Executor) writeInts(buf int, vals []int32) error {
	b := e.s.Buffers[buf]
	if int64(len(vals))*4 != b.Bytes {
		return fmt.Errorf("input %s holds %d ids, got %d", b.Name, b.Bytes/4, len(vals))
	}
	st := e.staging[buf]
	if st == nil {
		st = NewStaging(int(b.Bytes))
		e.staging[buf] = st
	}
	var small [64]byte // no allocation for decode's single token and position
	data := small[:0]
	for _, v := range vals {
		data = binary.LittleEndian.AppendUint32(data, uint32(v))
	}
	return e.ctx.WriteAsync(e.bufs[buf], st, data)
}

// Write copies data into buffer buf (a graph input, or a state to seed).
func (e *Executor) Write(buf int, data []byte) error {
	if int64(len(data)) != e.s.Buffers[buf].Bytes {
		return fmt.Errorf("buffer %s holds %d bytes, got %d", e.s.Buffers[buf].Name, e.s.Buffers[buf].Bytes, len(data))
	}
	return e.ctx.Write(e.bufs[buf], 0, data)
}

// Read returns the bytes of a dense tensor, after every queued launch.
func (e *Executor) Read(t schedule.Tensor) ([]byte, error) {
	n := t.DType.Size()
	for _, d := range t.Shape {
		n *= d
	}
	data := make([]byte, n)
	return data, e.ctx.Read(e.bufs[t.Buf], t.Offset*t.DType.Size(), data)
}

// Logits reads rows [row, row+n) of graph g's logits, waiting for the step.
func (e *Executor) Logits(g, row, n int) ([][]float32, error) {
	t := e.s.Graphs[g].Outputs[0]
	vocab := t.Shape[1]
	data := make([]byte, int64(n)*vocab*4)
	if err := e.ctx.Read(e.bufs[t.Buf], (t.Offset+int64(row)*vocab)*4, data); err != nil {
		return nil, err
	}
	out := make([][]float32, n)
	for r := range out {
		out[r] = make([]float32, vocab)
		for j := range out[r] {
			out[r][j] = math.Float32frombits(binary.LittleEndian.Uint32(data[(int64(r)*vocab+int64(j))*4:]))
		}
	}
	return out, nil
}

// Argmax returns the greedy next token from row of graph g's logits,
// computed on the device so that only 4 bytes come back.
func (e *Executor) Argmax(g, row int) (int32, error) {
	t := e.s.Graphs[g].Outputs[0]
	vocab := t.Shape[1]
	args := []schedule.Arg{{Kind: schedule.TensorArg, Buf: t.Buf, Off: t.Offset + int64(row)*vocab}, {Kind: schedule.IntArg, Int: vocab}}
	if err := e.setArgs(e.argmax, 0, args); err != nil {
		return 0, err
	}
	if err := e.argmax.SetBuffer(3, e.best); err != nil {
		return 0, err
	}
	if err := e.argmax.SetInt(4, 0); err != nil {
		return 0, err
	}
	if err := e.ctx.Launch(e.argmax, [3]int{64, 1, 1}, [3]int{64, 1, 1}); err != nil {
		return 0, err
	}
	var out [4]byte
	if err := e.ctx.Read(e.best, 0, out[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(out[:])), nil
}

// Reset zeroes every state buffer (empties the KV caches).
func (e *Executor) Reset() error {
	for i, b := range e.s.Buffers {
		if b.Kind == schedule.State {
			if err := e.ctx.Zero(e.bufs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Finish waits for the device.
func (e *Executor) Finish() error { return e.ctx.Finish() }

// Close releases everything.
func (e *Executor) Close() {
	e.ctx.Finish()
	for _, st := range e.staging {
		st.Free()
	}
	for _, ks := range e.graphs {
		for _, k := range ks {
			k.Release()
		}
	}
	if e.argmax != nil {
		e.argmax.Release()
	}
	for _, b := range e.bufs {
		e.ctx.Free(b)
	}
	if e.best != nil {
		e.ctx.Free(e.best)
	}
	if e.prog != nil {
		e.prog.Release()
	}
	e.ctx.Close()
}

// CopyBandwidth measures the device's copy bandwidth, bytes read plus
// written per second, as the best of six device-to-device copies of up to
// 256 MiB (less where memory is short); 0 where too little memory is free.
func (e *Executor) CopyBandwidth() (float64, error) {
	size := min(256<<20, e.ctx.Device.MaxAlloc, e.ctx.Unallocated()/2) &^ 255
	if size < 1<<20 {
		return 0, nil // too little memory left to measure anything meaningful
	}
	// Another context (a second executor) may hold memory this one does
	// not count: a failed allocation means "not measured", not an error.
	src, err := e.ctx.Alloc(size, "copy bandwidth source")
	if err != nil {
		return 0, nil
	}
	defer e.ctx.Free(src)
	dst, err := e.ctx.Alloc(size, "copy bandwidth destination")
	if err != nil {
		return 0, nil
	}
	defer e.ctx.Free(dst)
	if err := e.ctx.Zero(src); err != nil {
		return 0, err
	}
	best := time.Duration(math.MaxInt64)
	for range 6 { // the best, so the first copy's warm-up does not count
		d, err := e.ctx.CopyTimed(dst, src, size)
		if err != nil {
			return 0, err
		}
		best = min(best, max(d, 1))
	}
	return 2 * float64(size) / best.Seconds(), nil
}
