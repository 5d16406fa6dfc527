//go:build cuda

package cuda

import (
	"fmt"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// buffer is device memory.
type buffer struct {
	ptr  cu.DevicePtr
	size int64
}

// device is the executor.Device of one CUDA GPU: the GPU's primary
// context, current on the OS thread that opened it (the driver's calls go
// through that thread: the runner drives it from one goroutine, locked to
// its thread; several executors of one process, such as irc bench's whole
// and DAG, share the context), the loaded kernels, one stream, pinned
// staging per asynchronously written buffer, and the CUDA graphs recorded
// from it.
type device struct {
	gpu       cu.Device
	ctx       cu.CUContext
	name      string
	total     int64
	allocated int64
	mod       *module
	st        *stream
	functions []*function
	staging   map[*buffer]*staged
	readback  *pinned
	upload    [2]*staged
	uploadAt  uint64 // where the chunk being staged goes
	graphs    []*graph
}

// OpenDevice opens CUDA GPU index for the executor, on the calling
// goroutine's thread, which stays locked to it until Close.
func OpenDevice(index int) (executor.Device, error) {
	runtime.LockOSThread()
	d, err := open(index)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return d, nil
}

func open(index int) (*device, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("no CUDA device: %v", err)
	}
	if index < 0 || index >= n {
		var list []string
		for i := range n {
			if name, err := cu.Device(i).Name(); err == nil {
				list = append(list, fmt.Sprintf("%d: %s", i, name))
			}
		}
		return nil, fmt.Errorf("--device %d: no such CUDA device; there are %d: %s", index, n, strings.Join(list, "; "))
	}
	dev, err := cu.GetDevice(index)
	if err != nil {
		return nil, err
	}
	d := &device{gpu: dev, staging: map[*buffer]*staged{}}
	if d.name, err = dev.Name(); err != nil {
		return nil, err
	}
	if major, minor, err := dev.ComputeCapability(); err == nil {
		d.name += fmt.Sprintf(" (sm_%d%d)", major, minor)
	}
	if d.ctx, err = dev.RetainPrimaryCtx(); err != nil {
		return nil, fmt.Errorf("the CUDA context of %s: %v", d.name, err)
	}
	if err = cu.SetCurrentContext(d.ctx); err != nil {
		dev.ReleasePrimaryCtx()
		return nil, err
	}
	if _, d.total, err = cu.MemInfo(); err != nil {
		dev.ReleasePrimaryCtx()
		return nil, err
	}
	if d.st, err = newStream(); err != nil {
		dev.ReleasePrimaryCtx()
		return nil, err
	}
	if d.readback, err = newPinned(64); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *device) Name() string { return d.name }

func (d *device) Kind() schedule.DeviceKind { return schedule.GPU }

// Build loads the runner's fatbin (its SASS for this GPU, or its PTX
// compiled by the driver).
func (d *device) Build(image string) (err error) {
	d.mod, err = loadModule(image)
	if err != nil {
		return fmt.Errorf("%s: %w (the runner's kernels were compiled for the architectures of its go:generate line; recompile with irc compile --cuda-arch for this GPU)", d.name, err)
	}
	return nil
}

func (d *device) Alloc(bytes int64, what string) (executor.Buffer, error) {
	bytes = max(bytes, 4)
	if d.allocated+bytes > d.total {
		return nil, fmt.Errorf("out of device memory: %s needs %s more, %s has %s of which %s is taken",
			what, budget.Format(bytes), d.name, budget.Format(d.total), budget.Format(d.allocated))
	}
	ptr, err := cu.MemAlloc(bytes)
	if err != nil {
		return nil, fmt.Errorf("out of device memory? %s (%s): %v", what, budget.Format(bytes), err)
	}
	d.allocated += bytes
	return &buffer{ptr: ptr, size: bytes}, nil
}

// staged is pinned memory with its stager.
type staged struct {
	pm *pinned
	s  *stager
}

func (d *device) newStaged(n int, dst func() uint64) (*staged, error) {
	pm, err := newPinned(n)
	if err != nil {
		return nil, err
	}
	return &staged{pm, d.st.stager(pm, dst)}, nil
}

func (d *device) Free(b executor.Buffer) {
	buf := b.(*buffer)
	if st := d.staging[buf]; st != nil {
		st.pm.free()
		delete(d.staging, buf)
	}
	cu.MemFree(buf.ptr)
	d.allocated -= buf.size
}

func at(b executor.Buffer, off int64) cu.DevicePtr { return b.(*buffer).ptr + cu.DevicePtr(off) }

// uploadChunk is the size of each of the two pinned buffers large writes
// (weights, from the checkpoint's mapping) go through.
const uploadChunk = 16 << 20

func (d *device) Write(b executor.Buffer, off int64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if len(data) < uploadChunk {
		// cu's copy runs on the legacy default stream, which waits for
		// our stream's work before it and holds back what is queued after.
		return cu.MemcpyHtoD(at(b, off), unsafe.Pointer(&data[0]), int64(len(data)))
	}
	// Large writes alternate between two pinned chunks: the host fills one
	// while the device copies the other (DMA from pinned memory, no
	// staging copy by the driver).
	for i := range d.upload {
		if d.upload[i] == nil {
			st, err := d.newStaged(uploadChunk, func() uint64 { return d.uploadAt })
			if err != nil {
				return err
			}
			d.upload[i] = st
		}
	}
	base := uint64(at(b, off))
	for pos, i := 0, 0; pos < len(data); pos, i = pos+uploadChunk, i^1 {
		d.uploadAt = base + uint64(pos)
		if err := d.upload[i].s.put(data[pos:min(pos+uploadChunk, len(data))]); err != nil {
			return err
		}
	}
	return d.st.sync()
}

func (d *device) WriteAsync(b executor.Buffer, data []byte) error {
	buf := b.(*buffer)
	st := d.staging[buf]
	if st == nil {
		var err error
		if st, err = d.newStaged(int(buf.size), func() uint64 { return uint64(buf.ptr) }); err != nil {
			return err
		}
		d.staging[buf] = st
	}
	return st.s.put(data)
}

// Read copies small reads (the greedy id) through pinned memory on the
// stream, larger ones (logits) with cu after the stream is done.
func (d *device) Read(b executor.Buffer, off int64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if len(data) <= d.readback.n {
		return d.st.copyOut(data, uint64(at(b, off)), d.readback)
	}
	if err := d.st.sync(); err != nil {
		return err
	}
	return cu.MemcpyDtoH(unsafe.Pointer(&data[0]), at(b, off), int64(len(data)))
}

func (d *device) Zero(b executor.Buffer) error {
	buf := b.(*buffer)
	return cu.MemsetD8(buf.ptr, 0, buf.size)
}

func (d *device) Kernel(name string, args []executor.Arg) (executor.Kernel, error) {
	f, err := d.mod.function(name, paramSlots(args, func(b executor.Buffer) uint64 { return uint64(b.(*buffer).ptr) }))
	if err != nil {
		return nil, err
	}
	d.functions = append(d.functions, f)
	return f, nil
}

func (d *device) Launch(k executor.Kernel, l *schedule.Launch) error {
	grid, block, err := dims(l)
	if err != nil {
		return err
	}
	return d.st.launch(k.(*function), grid, block, l.Shared)
}

func (d *device) LaunchTimed(k executor.Kernel, l *schedule.Launch) (time.Duration, error) {
	return d.st.timed(func() error { return d.Launch(k, l) })
}

func (d *device) CopyTimed(dst, src executor.Buffer, bytes int64) (time.Duration, error) {
	return d.st.timed(func() error { return d.st.copyDtoD(uint64(dst.(*buffer).ptr), uint64(src.(*buffer).ptr), bytes) })
}

// Record captures a step's launches into a CUDA graph: a step is then one
// cuGraphLaunch instead of a launch per kernel.
func (d *device) Record(launch func() error) (executor.Recording, error) {
	g, err := d.st.capture(launch)
	if err != nil {
		return nil, err
	}
	d.graphs = append(d.graphs, g)
	return g, nil
}

func (d *device) Replay(r executor.Recording) error { return d.st.replay(r.(*graph)) }

func (d *device) MaxAlloc() int64 { return d.total }

func (d *device) Unallocated() int64 {
	if free, _, err := cu.MemInfo(); err == nil {
		return free
	}
	return d.total - d.allocated
}

func (d *device) Finish() error { return d.st.sync() }

func (d *device) Close() {
	d.st.sync()
	for _, g := range d.graphs {
		g.destroy()
	}
	for _, f := range d.functions {
		f.free()
	}
	for _, st := range d.staging {
		st.pm.free()
	}
	if d.readback != nil {
		d.readback.free()
	}
	for _, st := range d.upload {
		if st != nil {
			st.pm.free()
		}
	}
	if d.mod != nil {
		d.mod.unload()
	}
	d.st.destroy()
	d.gpu.ReleasePrimaryCtx()
	runtime.UnlockOSThread()
}
