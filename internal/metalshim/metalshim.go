//go:build cgo && linux

// Package metalshim runs generated Metal Shading Language on Linux, for
// tests: an executor.Device that compiles a kernels.metal with the C++
// shim (shim/: metal_stdlib maps MSL onto C++20, driver.cpp runs each
// threadgroup's threads as fibers with real barriers and 32-lane
// simdgroups) into a shared library, loads it, and runs launches over
// host memory, binding arguments as the Metal runtime does
// (runtime/metal.Bind). It verifies the Metal backend's logic, signatures
// and argument binding: everything but Apple's compiler and driver.
package metalshim

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef int (*find_fn)(const char*);
typedef int (*launch_fn)(int, void* const*, int, const void*, int, const unsigned*, const unsigned*, int, char*, int);
static int shim_find(void* f, const char* name) { return ((find_fn)f)(name); }
static int shim_launch(void* f, int k, void* const* bufs, int nbuf, const void* scalars, int nscalar,
	const unsigned* groups, const unsigned* tpg, int reverse, char* err, int errlen) {
	return ((launch_fn)f)(k, bufs, nbuf, scalars, nscalar, groups, tpg, reverse, err, errlen);
}
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/metal"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Order is the order a threadgroup's fibers start in and are resumed.
type Order int

const (
	Forward Order = iota
	Reverse
)

func (o Order) String() string { return [...]string{"forward", "reverse"}[o] }

// Open is an executor.Opener of the shim's one device, running fibers in
// order o.
func Open(o Order) executor.Opener {
	return func(index int) (executor.Device, error) {
		if index != 0 {
			return nil, fmt.Errorf("metal shim: no device %d (it has one)", index)
		}
		if _, err := compiler(); err != nil {
			return nil, err
		}
		return &device{order: o}, nil
	}
}

// buffer is host memory from C's allocator (cgo lets C keep no Go
// pointers), aligned as Metal's buffers are.
type buffer struct {
	p    unsafe.Pointer
	size int64
}

func (b *buffer) bytes() []byte { return unsafe.Slice((*byte)(b.p), b.size) }

type kernel struct {
	index   C.int
	bufs    unsafe.Pointer // C array of the buffers' base pointers
	nbuf    int
	scalars unsafe.Pointer
	nscalar int
}

type device struct {
	order          Order
	lib            *library
	kernels        []*kernel
	allocated      int64
	launches       int
	lastLaunchTime time.Duration
}

// The shim's pretend memory: enough for the tiny presets and the harness.
const memory = 16 << 30

func (d *device) Name() string { return "Metal C++ shim (" + d.order.String() + " fibers)" }

func (d *device) Kind() schedule.DeviceKind { return schedule.GPU }

func (d *device) Build(source string) error {
	lib, err := load(source)
	d.lib = lib
	return err
}

func (d *device) Alloc(bytes int64, what string) (executor.Buffer, error) {
	size := max(bytes, 1)
	p := C.aligned_alloc(256, C.size_t((size+255)/256*256))
	if p == nil {
		return nil, fmt.Errorf("metal shim: allocating %d bytes for %s", bytes, what)
	}
	C.memset(p, 0, C.size_t(size))
	d.allocated += size
	return &buffer{p, size}, nil
}

func (d *device) Free(b executor.Buffer) {
	d.allocated -= b.(*buffer).size
	C.free(b.(*buffer).p)
}

func (d *device) Write(b executor.Buffer, off int64, data []byte) error {
	buf := b.(*buffer)
	if off < 0 || off+int64(len(data)) > buf.size {
		return fmt.Errorf("metal shim: write of %d bytes at %d into a buffer of %d", len(data), off, buf.size)
	}
	copy(buf.bytes()[off:], data)
	return nil
}

func (d *device) WriteAsync(b executor.Buffer, data []byte) error { return d.Write(b, 0, data) }

func (d *device) Read(b executor.Buffer, off int64, data []byte) error {
	buf := b.(*buffer)
	if off < 0 || off+int64(len(data)) > buf.size {
		return fmt.Errorf("metal shim: read of %d bytes at %d from a buffer of %d", len(data), off, buf.size)
	}
	copy(data, buf.bytes()[off:])
	return nil
}

func (d *device) Zero(b executor.Buffer) error {
	clear(b.(*buffer).bytes())
	return nil
}

func (d *device) Kernel(name string, args []executor.Arg) (executor.Kernel, error) {
	if d.lib == nil {
		return nil, fmt.Errorf("metal shim: kernel %s before Build", name)
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	i := C.shim_find(d.lib.find, cname)
	if i < 0 {
		return nil, fmt.Errorf("metal shim: the library has no kernel %s", name)
	}
	bufs, scalars := metal.Bind(args)
	k := &kernel{index: i, nbuf: len(bufs), nscalar: len(scalars)}
	k.bufs = C.malloc(C.size_t(max(len(bufs), 1)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	ptrs := unsafe.Slice((*unsafe.Pointer)(k.bufs), max(len(bufs), 1))
	for j, b := range bufs {
		ptrs[j] = b.(*buffer).p
	}
	k.scalars = C.malloc(C.size_t(max(len(scalars), 1)))
	copy(unsafe.Slice((*byte)(k.scalars), len(scalars)), scalars)
	d.kernels = append(d.kernels, k)
	return k, nil
}

func (d *device) Launch(kk executor.Kernel, l *schedule.Launch) error {
	k := kk.(*kernel)
	groups, threads, err := metal.Grid(l)
	if err != nil {
		return err
	}
	var errbuf [512]C.char
	g := [3]C.uint{C.uint(groups[0]), C.uint(groups[1]), C.uint(groups[2])}
	t := [3]C.uint{C.uint(threads[0]), C.uint(threads[1]), C.uint(threads[2])}
	rc := C.shim_launch(d.lib.launch, k.index, (*unsafe.Pointer)(k.bufs), C.int(k.nbuf), k.scalars, C.int(k.nscalar),
		&g[0], &t[0], C.int(d.order), &errbuf[0], C.int(len(errbuf)))
	d.launches++
	if rc != 0 {
		return fmt.Errorf("metal shim: launch of %s: %s", l.Node, C.GoString(&errbuf[0]))
	}
	return nil
}

func (d *device) LaunchTimed(k executor.Kernel, l *schedule.Launch) (time.Duration, error) {
	start := time.Now()
	err := d.Launch(k, l)
	return time.Since(start), err
}

func (d *device) CopyTimed(dst, src executor.Buffer, bytes int64) (time.Duration, error) {
	start := time.Now()
	copy(dst.(*buffer).bytes()[:bytes], src.(*buffer).bytes()[:bytes])
	return time.Since(start), nil
}

func (d *device) MaxAlloc() int64    { return memory }
func (d *device) Unallocated() int64 { return memory - d.allocated }
func (d *device) Finish() error      { return nil }

func (d *device) Close() {
	for _, k := range d.kernels {
		C.free(k.bufs)
		C.free(k.scalars)
	}
	d.kernels = nil
}
