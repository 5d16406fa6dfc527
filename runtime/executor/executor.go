package executor

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Executor runs a kernel schedule on one device. Every launch has its own
// kernel with its arguments bound at load time (all offsets are static),
// so a step is a loop of launches.
type Executor struct {
	dev    Device
	s      *schedule.Schedule
	bufs   []Buffer
	kind   schedule.DeviceKind
	graphs [][]bound // per graph, per launch
	// argmax holds the greedy-decoding kernel bound to each logits row
	// asked for so far, by graph.
	argmax []map[int]Kernel
	// topk and gumbel hold sampling's kernels (sample.go), bound the same
	// way: by graph, row and k, and by graph and row.
	topk   map[topkKey][2]Kernel
	gumbel map[[2]int]Kernel
	// recorder is the device when it records launch tables (and
	// recording was not turned off); recorded holds each graph's, made
	// at its first step.
	recorder Recorder
	recorded []Recording
}

// bound is a launch as the device makes it (the variant for its kind)
// with its kernel.
type bound struct {
	k Kernel
	l *schedule.Launch
}

// Options are how an executor uses its device.
type Options struct {
	// Kind overrides the device's kind when choosing each launch's
	// variant (schedule.Launch.For): the conformance harness runs the
	// CPU-shaped kernels and the GPU-shaped ones on one device. AnyKind
	// asks the device.
	Kind schedule.DeviceKind
	// NoRecording launches every step kernel by kernel even on a device
	// that can record (CUDA graphs), for A/B measurements.
	NoRecording bool
}

// Load opens device index with open, builds the program from source,
// allocates every buffer of s, uploads weights (from load) and constants,
// zeroes the rest and binds the launch tables.
func Load(open Opener, s *schedule.Schedule, source string, device int, load func(*schedule.Buffer) ([]byte, error)) (*Executor, error) {
	return LoadWith(open, s, source, device, load, Options{})
}

// LoadWith is Load with options.
func LoadWith(open Opener, s *schedule.Schedule, source string, device int, load func(*schedule.Buffer) ([]byte, error), opt Options) (_ *Executor, err error) {
	dev, err := open(device)
	if err != nil {
		return nil, err
	}
	e := &Executor{dev: dev, s: s, kind: opt.Kind, argmax: make([]map[int]Kernel, len(s.Graphs)),
		topk: map[topkKey][2]Kernel{}, gumbel: map[[2]int]Kernel{}, recorded: make([]Recording, len(s.Graphs))}
	if e.kind == schedule.AnyKind {
		e.kind = dev.Kind()
	}
	if r, ok := dev.(Recorder); ok && !opt.NoRecording {
		e.recorder = r
	}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if err = dev.Build(source); err != nil {
		return nil, err
	}
	// Allocate everything before uploading anything, so that a model too
	// big for the device fails at once.
	for i := range s.Buffers {
		b := &s.Buffers[i]
		mem, err := dev.Alloc(b.Bytes, fmt.Sprintf("%s buffer %s", b.Kind, b.Name))
		if err != nil {
			return nil, err
		}
		e.bufs = append(e.bufs, mem)
	}
	for i := range s.Buffers {
		if err := e.fill(&s.Buffers[i], e.bufs[i], load); err != nil {
			return nil, err
		}
	}
	for _, g := range s.Graphs {
		var ks []bound
		for i := range g.Launches {
			l := g.Launches[i].For(e.kind)
			k, err := e.kernel(l, l.Args)
			if err != nil {
				return nil, fmt.Errorf("graph %s launch %d (%s): %w", g.Name, i, l.Node, err)
			}
			ks = append(ks, bound{k, l})
		}
		e.graphs = append(e.graphs, ks)
	}
	return e, dev.Finish()
}

// fill gives a freshly allocated buffer its first contents.
func (e *Executor) fill(b *schedule.Buffer, mem Buffer, load func(*schedule.Buffer) ([]byte, error)) error {
	var err error
	switch b.Kind {
	case schedule.Weight:
		data, lerr := load(b)
		if lerr != nil {
			return lerr
		}
		if int64(len(data)) != b.Bytes {
			return fmt.Errorf("weight @%s: got %d bytes, want %d", b.Name, len(data), b.Bytes)
		}
		err = e.dev.Write(mem, 0, data)
	case schedule.Constant:
		err = e.dev.Write(mem, 0, b.Data)
	default:
		err = e.dev.Zero(mem)
	}
	if err != nil {
		return fmt.Errorf("%s buffer %s: %w", b.Kind, b.Name, err)
	}
	return nil
}

// kernel binds launch l's kernel to args.
func (e *Executor) kernel(l *schedule.Launch, args []schedule.Arg) (Kernel, error) {
	bound := make([]Arg, len(args))
	for i, a := range args {
		bound[i] = Arg{Kind: a.Kind, Int: int32(a.Int), F: a.F}
		if a.Kind == schedule.TensorArg {
			bound[i].Buf, bound[i].Off = e.bufs[a.Buf], int32(a.Off)
		}
	}
	return e.dev.Kernel(e.s.Kernels[l.Kernel], bound)
}

// Device names the device the executor runs on.
func (e *Executor) Device() string { return e.dev.Name() }

// Kind is the device kind whose launch variants the executor makes.
func (e *Executor) Kind() schedule.DeviceKind { return e.kind }

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

func (e *Executor) writeInts(buf int, vals []int32) error {
	b := e.s.Buffers[buf]
	if int64(len(vals))*4 != b.Bytes {
		return fmt.Errorf("input %s holds %d ids, got %d", b.Name, b.Bytes/4, len(vals))
	}
	var small [64]byte // no allocation for decode's single token and position
	data := small[:0]
	for _, v := range vals {
		data = binary.LittleEndian.AppendUint32(data, uint32(v))
	}
	return e.dev.WriteAsync(e.bufs[buf], data)
}

// Launch enqueues graph g's launch table on whatever its inputs hold: as
// one replay of its recording on a device that records (recorded at the
// first step), else kernel by kernel.
func (e *Executor) Launch(g int) error {
	if e.recorder == nil {
		return e.launchEach(g)
	}
	if e.recorded[g] == nil {
		rec, err := e.recorder.Record(func() error { return e.launchEach(g) })
		if err != nil {
			return fmt.Errorf("recording graph %s: %w", e.s.Graphs[g].Name, err)
		}
		e.recorded[g] = rec
	}
	return e.recorder.Replay(e.recorded[g])
}

// launchEach queues graph g's launches one by one.
func (e *Executor) launchEach(g int) error {
	for i, b := range e.graphs[g] {
		if err := e.dev.Launch(b.k, b.l); err != nil {
			return fmt.Errorf("graph %s launch %d (%s): %w", e.s.Graphs[g].Name, i, b.l.Node, err)
		}
	}
	return nil
}

// Profile runs one step like Run but waits for each launch and returns the
// device time of each.
func (e *Executor) Profile(g int, tokens []int32, pos int32) ([]time.Duration, error) {
	if err := e.writeStep(g, tokens, pos); err != nil {
		return nil, err
	}
	return e.Time(g)
}

// Time launches graph g's table on whatever its inputs hold, waiting for
// each launch, and returns the device time of each.
func (e *Executor) Time(g int) ([]time.Duration, error) {
	times := make([]time.Duration, len(e.graphs[g]))
	for i, b := range e.graphs[g] {
		d, err := e.dev.LaunchTimed(b.k, b.l)
		if err != nil {
			return nil, fmt.Errorf("graph %s launch %d (%s): %w", e.s.Graphs[g].Name, i, b.l.Node, err)
		}
		times[i] = d
	}
	return times, nil
}

// Write copies data into buffer buf (a graph input, or a state to seed).
func (e *Executor) Write(buf int, data []byte) error {
	if int64(len(data)) != e.s.Buffers[buf].Bytes {
		return fmt.Errorf("buffer %s holds %d bytes, got %d", e.s.Buffers[buf].Name, e.s.Buffers[buf].Bytes, len(data))
	}
	return e.dev.Write(e.bufs[buf], 0, data)
}

// Read returns the bytes of a dense tensor, after every queued launch.
func (e *Executor) Read(t schedule.Tensor) ([]byte, error) {
	n := t.DType.Size()
	for _, d := range t.Shape {
		n *= d
	}
	data := make([]byte, n)
	return data, e.dev.Read(e.bufs[t.Buf], t.Offset*t.DType.Size(), data)
}

// Logits reads rows [row, row+n) of graph g's logits, waiting for the step.
func (e *Executor) Logits(g, row, n int) ([][]float32, error) {
	t := e.s.Graphs[g].Outputs[0]
	vocab := t.Shape[1]
	data := make([]byte, int64(n)*vocab*4)
	if err := e.dev.Read(e.bufs[t.Buf], (t.Offset+int64(row)*vocab)*4, data); err != nil {
		return nil, err
	}
	return schedule.DecodeF32Rows(data, vocab), nil
}

// Argmax returns the greedy next token from row of graph g's logits,
// computed on the device so that only 4 bytes come back.
func (e *Executor) Argmax(g, row int) (int32, error) {
	am := &e.s.Argmax
	k, ok := e.argmax[g][row]
	if !ok {
		t := e.s.Graphs[g].Outputs[0]
		vocab := t.Shape[1]
		args := append([]schedule.Arg(nil), am.Launch.Args...)
		args[am.Row] = schedule.T(t.Buf, t.Offset+int64(row)*vocab)
		args[am.Count] = schedule.I(vocab)
		var err error
		if k, err = e.kernel(&am.Launch, args); err != nil {
			return 0, err
		}
		if e.argmax[g] == nil {
			e.argmax[g] = map[int]Kernel{}
		}
		e.argmax[g][row] = k
	}
	if err := e.dev.Launch(k, &am.Launch); err != nil {
		return 0, err
	}
	var out [4]byte
	if err := e.dev.Read(e.bufs[am.Out], 0, out[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(out[:])), nil
}

// Reset zeroes every state buffer (empties the KV caches).
func (e *Executor) Reset() error {
	for i, b := range e.s.Buffers {
		if b.Kind == schedule.State {
			if err := e.dev.Zero(e.bufs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Finish waits for the device.
func (e *Executor) Finish() error { return e.dev.Finish() }

// Close releases everything.
func (e *Executor) Close() {
	e.dev.Finish()
	for _, b := range e.bufs {
		e.dev.Free(b)
	}
	e.dev.Close()
}

// CopyBandwidth measures the device's copy bandwidth, bytes read plus
// written per second, as the best of six device-to-device copies of up to
// 256 MiB (less where memory is short); 0 where too little memory is free.
func (e *Executor) CopyBandwidth() (float64, error) {
	size := min(256<<20, e.dev.MaxAlloc(), e.dev.Unallocated()/2) &^ 255
	if size < 1<<20 {
		return 0, nil // too little memory left to measure anything meaningful
	}
	// Another context (a second executor) may hold memory this one does
	// not count: a failed allocation means "not measured", not an error.
	src, err := e.dev.Alloc(size, "copy bandwidth source")
	if err != nil {
		return 0, nil
	}
	defer e.dev.Free(src)
	dst, err := e.dev.Alloc(size, "copy bandwidth destination")
	if err != nil {
		return 0, nil
	}
	defer e.dev.Free(dst)
	if err := e.dev.Zero(src); err != nil {
		return 0, err
	}
	best := time.Duration(math.MaxInt64)
	for range 6 { // the best, so the first copy's warm-up does not count
		d, err := e.dev.CopyTimed(dst, src, size)
		if err != nil {
			return 0, err
		}
		best = min(best, max(d, 1))
	}
	return 2 * float64(size) / best.Seconds(), nil
}
