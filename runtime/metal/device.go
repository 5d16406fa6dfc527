package metal

import (
	"fmt"
	"os"
	"time"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// driver is what the Objective-C layer provides (device_darwin.go), kept
// to calls the device logic below composes, so that this logic
// type-checks and vets on every platform (GOOS=darwin CGO_ENABLED=0 in
// CI) and can be tested without a Mac.
type driver interface {
	build(source string) (compile time.Duration, err error)
	pipeline(name string) (pipe any, maxThreads int, err error)
	alloc(bytes int64) (buf any, contents []byte, err error)
	free(buf any)
	// dispatch encodes a launch into the open command buffer.
	dispatch(pipe any, bufs []any, scalars []byte, groups, threads [3]uint32) error
	// blit encodes a copy of bytes from src to dst.
	blit(dst, src any, bytes int64) error
	// commit runs the open command buffer, waits, and returns the GPU's
	// time for it.
	commit() (time.Duration, error)
	maxBuffer() int64
	workingSet() int64
	close()
}

// buffer is a shared-memory MTLBuffer and its contents, which the CPU
// reads and writes directly once the GPU is done with it.
type buffer struct {
	buf      any
	contents []byte
}

type kernel struct {
	name       string
	pipe       any
	maxThreads int
	bufs       []any
	scalars    []byte
}

// device is the executor.Device over a driver: launches are encoded into
// one command buffer, committed when the host next reads, writes, times
// or finishes, so a step's launches are one command buffer.
type device struct {
	drv       driver
	name      string
	pipes     map[string]*kernel
	allocated int64
	pending   bool
}

func (d *device) Name() string              { return d.name }
func (d *device) Kind() schedule.DeviceKind { return schedule.GPU }

func (d *device) Build(source string) error {
	took, err := d.drv.build(source)
	if err != nil {
		return errorf("compiling the library: %v", err)
	}
	fmt.Fprintf(os.Stderr, "metal: library compiled in %v on %s\n", took.Round(time.Millisecond), d.name)
	return nil
}

func (d *device) Alloc(bytes int64, what string) (executor.Buffer, error) {
	buf, contents, err := d.drv.alloc(max(bytes, 1))
	if err != nil {
		return nil, errorf("allocating %d bytes for %s: %v", bytes, what, err)
	}
	d.allocated += int64(len(contents))
	return &buffer{buf, contents[:bytes]}, nil
}

func (d *device) Free(b executor.Buffer) {
	d.allocated -= int64(cap(b.(*buffer).contents))
	d.drv.free(b.(*buffer).buf)
}

// settle commits what is encoded and waits, before the CPU touches
// shared memory the GPU may be using.
func (d *device) settle() error {
	if !d.pending {
		return nil
	}
	d.pending = false
	_, err := d.drv.commit()
	return err
}

func (d *device) Write(b executor.Buffer, off int64, data []byte) error {
	if err := d.settle(); err != nil {
		return err
	}
	buf := b.(*buffer)
	if off < 0 || off+int64(len(data)) > int64(len(buf.contents)) {
		return errorf("write of %d bytes at %d into a buffer of %d", len(data), off, len(buf.contents))
	}
	copy(buf.contents[off:], data)
	return nil
}

func (d *device) WriteAsync(b executor.Buffer, data []byte) error { return d.Write(b, 0, data) }

func (d *device) Read(b executor.Buffer, off int64, data []byte) error {
	if err := d.settle(); err != nil {
		return err
	}
	buf := b.(*buffer)
	if off < 0 || off+int64(len(data)) > int64(len(buf.contents)) {
		return errorf("read of %d bytes at %d from a buffer of %d", len(data), off, len(buf.contents))
	}
	copy(data, buf.contents[off:])
	return nil
}

func (d *device) Zero(b executor.Buffer) error {
	if err := d.settle(); err != nil {
		return err
	}
	clear(b.(*buffer).contents)
	return nil
}

func (d *device) Kernel(name string, args []executor.Arg) (executor.Kernel, error) {
	p := d.pipes[name]
	if p == nil {
		pipe, maxThreads, err := d.drv.pipeline(name)
		if err != nil {
			return nil, errorf("pipeline of %s: %v", name, err)
		}
		p = &kernel{name: name, pipe: pipe, maxThreads: maxThreads}
		d.pipes[name] = p
	}
	bufs, scalars := Bind(args)
	k := &kernel{name: name, pipe: p.pipe, maxThreads: p.maxThreads, scalars: scalars}
	for _, b := range bufs {
		k.bufs = append(k.bufs, b.(*buffer).buf)
	}
	return k, nil
}

func (d *device) Launch(kk executor.Kernel, l *schedule.Launch) error {
	k := kk.(*kernel)
	groups, threads, err := Grid(l)
	if err != nil {
		return err
	}
	if n := int(threads[0] * threads[1] * threads[2]); n > k.maxThreads {
		return errorf("launch of %s: %d threads per group, %s's pipeline takes %d", l.Node, n, k.name, k.maxThreads)
	}
	d.pending = true
	return d.drv.dispatch(k.pipe, k.bufs, k.scalars, groups, threads)
}

func (d *device) LaunchTimed(k executor.Kernel, l *schedule.Launch) (time.Duration, error) {
	if err := d.settle(); err != nil {
		return 0, err
	}
	if err := d.Launch(k, l); err != nil {
		return 0, err
	}
	d.pending = false
	return d.drv.commit()
}

func (d *device) CopyTimed(dst, src executor.Buffer, bytes int64) (time.Duration, error) {
	if err := d.settle(); err != nil {
		return 0, err
	}
	if err := d.drv.blit(dst.(*buffer).buf, src.(*buffer).buf, bytes); err != nil {
		return 0, err
	}
	return d.drv.commit()
}

func (d *device) MaxAlloc() int64    { return d.drv.maxBuffer() }
func (d *device) Unallocated() int64 { return max(d.drv.workingSet()-d.allocated, 0) }
func (d *device) Finish() error      { return d.settle() }

func (d *device) Close() {
	_ = d.settle()
	for _, p := range d.pipes {
		d.drv.free(p.pipe)
	}
	d.pipes = nil
	d.drv.close()
}
