// Package opencl is the small cgo layer a generated runner uses to drive an
// OpenCL device through the ICD loader: device choice, program build (with
// the build log on failure), buffers, kernel arguments, launches and
// profiling events. exec.go runs a kernel schedule on top of it.
package opencl

/*
#cgo LDFLAGS: -lOpenCL
#define CL_TARGET_OPENCL_VERSION 120
#include <stdlib.h>
#include <CL/cl.h>
*/
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// DeviceInfo is one OpenCL device of one platform.
type DeviceInfo struct {
	id        C.cl_device_id
	Name      string
	Platform  string
	GlobalMem int64 // bytes
	MaxAlloc  int64 // largest single buffer, bytes
	// CPU: the device's CL_DEVICE_TYPE includes CL_DEVICE_TYPE_CPU
	// (PoCL's); it wants the CPU-shaped kernels.
	CPU bool
}

func (d DeviceInfo) String() string { return fmt.Sprintf("%s (%s)", d.Name, d.Platform) }

// Devices lists every device of every platform, in the ICD loader's order.
func Devices() ([]DeviceInfo, error) {
	var np C.cl_uint
	if err := check("clGetPlatformIDs", C.clGetPlatformIDs(0, nil, &np)); err != nil || np == 0 {
		return nil, fmt.Errorf("no OpenCL platform found (install a driver, e.g. Debian's pocl-opencl-icd): %v", err)
	}
	platforms := make([]C.cl_platform_id, np)
	if err := check("clGetPlatformIDs", C.clGetPlatformIDs(np, &platforms[0], nil)); err != nil {
		return nil, err
	}
	var out []DeviceInfo
	for _, p := range platforms {
		var nd C.cl_uint
		if C.clGetDeviceIDs(p, C.CL_DEVICE_TYPE_ALL, 0, nil, &nd) != C.CL_SUCCESS || nd == 0 {
			continue
		}
		ids := make([]C.cl_device_id, nd)
		if err := check("clGetDeviceIDs", C.clGetDeviceIDs(p, C.CL_DEVICE_TYPE_ALL, nd, &ids[0], nil)); err != nil {
			return nil, err
		}
		pname := platformString(p, C.CL_PLATFORM_NAME)
		for _, id := range ids {
			out = append(out, DeviceInfo{id: id, Name: strings.TrimSpace(deviceString(id, C.CL_DEVICE_NAME)), Platform: pname,
				GlobalMem: int64(deviceUlong(id, C.CL_DEVICE_GLOBAL_MEM_SIZE)), MaxAlloc: int64(deviceUlong(id, C.CL_DEVICE_MAX_MEM_ALLOC_SIZE)),
				CPU: deviceUlong(id, C.CL_DEVICE_TYPE)&C.CL_DEVICE_TYPE_CPU != 0})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no OpenCL device found on %d platform(s)", np)
	}
	return out, nil
}

func platformString(p C.cl_platform_id, param C.cl_platform_info) string {
	return infoString(func(n C.size_t, v unsafe.Pointer, size *C.size_t) {
		C.clGetPlatformInfo(p, param, n, v, size)
	})
}

func deviceString(d C.cl_device_id, param C.cl_device_info) string {
	return infoString(func(n C.size_t, v unsafe.Pointer, size *C.size_t) {
		C.clGetDeviceInfo(d, param, n, v, size)
	})
}

// infoString reads a string property through an OpenCL clGet*Info call:
// its size first, then its bytes.
func infoString(get func(n C.size_t, v unsafe.Pointer, size *C.size_t)) string {
	var n C.size_t
	get(0, nil, &n)
	if n == 0 {
		return ""
	}
	b := make([]byte, n)
	get(n, unsafe.Pointer(&b[0]), nil)
	return strings.TrimRight(string(b), "\x00")
}

func deviceUlong(d C.cl_device_id, param C.cl_device_info) C.cl_ulong {
	var v C.cl_ulong
	C.clGetDeviceInfo(d, param, C.size_t(unsafe.Sizeof(v)), unsafe.Pointer(&v), nil)
	return v
}

// Context is a device with its context and one in-order, profiling queue.
type Context struct {
	Device    DeviceInfo
	ctx       C.cl_context
	queue     C.cl_command_queue
	allocated int64
}

// Open creates a context and queue on device index (as listed by Devices).
func Open(index int) (*Context, error) {
	devs, err := Devices()
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= len(devs) {
		var list []string
		for i, d := range devs {
			list = append(list, fmt.Sprintf("%d: %s", i, d))
		}
		return nil, fmt.Errorf("--device %d: no such OpenCL device; there are %d: %s", index, len(devs), strings.Join(list, "; "))
	}
	d := devs[index]
	var code C.cl_int
	ctx := C.clCreateContext(nil, 1, &d.id, nil, nil, &code)
	if err := check("clCreateContext", code); err != nil {
		return nil, err
	}
	q := C.clCreateCommandQueue(ctx, d.id, C.CL_QUEUE_PROFILING_ENABLE, &code)
	if err := check("clCreateCommandQueue", code); err != nil {
		C.clReleaseContext(ctx)
		return nil, err
	}
	return &Context{Device: d, ctx: ctx, queue: q}, nil
}

// Close releases the queue and context.
func (c *Context) Close() {
	C.clReleaseCommandQueue(c.queue)
	C.clReleaseContext(c.ctx)
}

// Program is a built OpenCL program.
type Program struct{ p C.cl_program }

// Build compiles source for the context's device; a failure carries the
// compiler's build log.
func (c *Context) Build(source, options string) (*Program, error) {
	src := C.CString(source)
	defer C.free(unsafe.Pointer(src))
	n := C.size_t(len(source))
	var code C.cl_int
	p := C.clCreateProgramWithSource(c.ctx, 1, &src, &n, &code)
	if err := check("clCreateProgramWithSource", code); err != nil {
		return nil, err
	}
	opts := C.CString(options)
	defer C.free(unsafe.Pointer(opts))
	if code := C.clBuildProgram(p, 1, &c.Device.id, opts, nil, nil); code != C.CL_SUCCESS {
		var size C.size_t
		C.clGetProgramBuildInfo(p, c.Device.id, C.CL_PROGRAM_BUILD_LOG, 0, nil, &size)
		log := make([]byte, size+1)
		C.clGetProgramBuildInfo(p, c.Device.id, C.CL_PROGRAM_BUILD_LOG, size, unsafe.Pointer(&log[0]), nil)
		C.clReleaseProgram(p)
		return nil, fmt.Errorf("building the OpenCL program for %s failed (%s); build log:\n%s", c.Device, errName(code), strings.TrimRight(string(log), "\x00\n"))
	}
	return &Program{p: p}, nil
}

// Release frees the program.
func (p *Program) Release() { C.clReleaseProgram(p.p) }

// Kernel is one kernel object; its arguments stay set between launches.
type Kernel struct {
	k    C.cl_kernel
	name string
}

// Kernel creates a kernel object for the named function.
func (p *Program) Kernel(name string) (*Kernel, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var code C.cl_int
	k := C.clCreateKernel(p.p, cname, &code)
	if err := check("clCreateKernel "+name, code); err != nil {
		return nil, err
	}
	return &Kernel{k: k, name: name}, nil
}

// Release frees the kernel object.
func (k *Kernel) Release() { C.clReleaseKernel(k.k) }

// SetBuffer sets argument i to a buffer.
func (k *Kernel) SetBuffer(i int, b *Buffer) error {
	return k.set(i, unsafe.Sizeof(b.mem), unsafe.Pointer(&b.mem))
}

// SetInt sets argument i to a 32-bit integer.
func (k *Kernel) SetInt(i int, v int32) error {
	x := C.cl_int(v)
	return k.set(i, unsafe.Sizeof(x), unsafe.Pointer(&x))
}

// SetFloat sets argument i to a 32-bit float.
func (k *Kernel) SetFloat(i int, v float32) error {
	x := C.cl_float(v)
	return k.set(i, unsafe.Sizeof(x), unsafe.Pointer(&x))
}

func (k *Kernel) set(i int, size uintptr, p unsafe.Pointer) error {
	return check(fmt.Sprintf("clSetKernelArg %s #%d", k.name, i), C.clSetKernelArg(k.k, C.cl_uint(i), C.size_t(size), p))
}

// Buffer is device memory.
type Buffer struct {
	mem  C.cl_mem
	Size int64
}

// Alloc allocates a device buffer. It checks the device's limits first, so
// that running out of memory is a clear error rather than a failure at the
// first launch.
func (c *Context) Alloc(bytes int64, what string) (*Buffer, error) {
	bytes = max(bytes, 4)
	if bytes > c.Device.MaxAlloc {
		return nil, fmt.Errorf("out of device memory: %s needs %s in one buffer, %s allows at most %s", what, mib(bytes), c.Device, mib(c.Device.MaxAlloc))
	}
	if c.allocated+bytes > c.Device.GlobalMem {
		return nil, fmt.Errorf("out of device memory: %s needs %s more, %s has %s of which %s is taken", what, mib(bytes), c.Device, mib(c.Device.GlobalMem), mib(c.allocated))
	}
	var code C.cl_int
	m := C.clCreateBuffer(c.ctx, C.CL_MEM_READ_WRITE, C.size_t(bytes), nil, &code)
	if err := check("clCreateBuffer for "+what, code); err != nil {
		return nil, fmt.Errorf("out of device memory? %w", err)
	}
	c.allocated += bytes
	return &Buffer{mem: m, Size: bytes}, nil
}

// Free releases a buffer.
func (c *Context) Free(b *Buffer) {
	C.clReleaseMemObject(b.mem)
	c.allocated -= b.Size
}

// Write copies data into b at byte offset off and waits for the copy.
func (c *Context) Write(b *Buffer, off int64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	return check("clEnqueueWriteBuffer", C.clEnqueueWriteBuffer(c.queue, b.mem, C.CL_TRUE, C.size_t(off), C.size_t(len(data)), unsafe.Pointer(&data[0]), 0, nil, nil))
}

// Staging is host memory outside Go's heap, which the device may still be
// reading after the call that queued a write from it has returned (cgo
// forbids C keeping Go pointers).
type Staging struct {
	p       unsafe.Pointer
	n       int
	ev      C.cl_event
	pending bool
}

// NewStaging allocates n bytes of staging memory.
func NewStaging(n int) *Staging { return &Staging{p: C.malloc(C.size_t(max(n, 1))), n: n} }

// wait returns once the device has read the last write queued from s.
func (s *Staging) wait() error {
	if !s.pending {
		return nil
	}
	s.pending = false
	defer C.clReleaseEvent(s.ev)
	return check("clWaitForEvents", C.clWaitForEvents(1, &s.ev))
}

// Free waits for s's last write and releases its memory.
func (s *Staging) Free() {
	s.wait()
	C.free(s.p)
}

// WriteAsync queues a copy of data into b through s and returns without
// waiting for the device: a step's small inputs then cost no round trip.
// It waits only for s's previous write, whose bytes it is about to reuse.
func (c *Context) WriteAsync(b *Buffer, s *Staging, data []byte) error {
	if len(data) > s.n {
		return fmt.Errorf("WriteAsync: %d bytes do not fit a %d-byte staging buffer", len(data), s.n)
	}
	if len(data) == 0 {
		return nil
	}
	if err := s.wait(); err != nil {
		return err
	}
	copy(unsafe.Slice((*byte)(s.p), s.n), data)
	if err := check("clEnqueueWriteBuffer", C.clEnqueueWriteBuffer(c.queue, b.mem, C.CL_FALSE, 0, C.size_t(len(data)), s.p, 0, nil, &s.ev)); err != nil {
		return err
	}
	s.pending = true
	return nil
}

// Read copies from b at byte offset off into data, after every queued launch.
func (c *Context) Read(b *Buffer, off int64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	return check("clEnqueueReadBuffer", C.clEnqueueReadBuffer(c.queue, b.mem, C.CL_TRUE, C.size_t(off), C.size_t(len(data)), unsafe.Pointer(&data[0]), 0, nil, nil))
}

// Zero fills b with zero bytes.
func (c *Context) Zero(b *Buffer) error {
	var zero C.cl_uchar
	return check("clEnqueueFillBuffer", C.clEnqueueFillBuffer(c.queue, b.mem, unsafe.Pointer(&zero), 1, 0, C.size_t(b.Size), 0, nil, nil))
}

// Launch enqueues k over a global grid in work groups of local.
func (c *Context) Launch(k *Kernel, global, local [3]int) error {
	return c.enqueue(k, global, local, nil)
}

// enqueue launches k, returning its event in ev when ev is not nil.
func (c *Context) enqueue(k *Kernel, global, local [3]int, ev *C.cl_event) error {
	g := [3]C.size_t{C.size_t(global[0]), C.size_t(global[1]), C.size_t(global[2])}
	l := [3]C.size_t{C.size_t(local[0]), C.size_t(local[1]), C.size_t(local[2])}
	return check("clEnqueueNDRangeKernel "+k.name, C.clEnqueueNDRangeKernel(c.queue, k.k, 3, nil, &g[0], &l[0], 0, nil, ev))
}

// LaunchTimed enqueues k like Launch, waits for it, and returns the
// device's own measure of its run time (from the profiling event).
func (c *Context) LaunchTimed(k *Kernel, global, local [3]int) (time.Duration, error) {
	var ev C.cl_event
	if err := c.enqueue(k, global, local, &ev); err != nil {
		return 0, err
	}
	return eventTime(ev)
}

// CopyTimed copies the first bytes of src to dst on the device, waits, and
// returns the device's measure of the copy's time.
func (c *Context) CopyTimed(dst, src *Buffer, bytes int64) (time.Duration, error) {
	var ev C.cl_event
	if err := check("clEnqueueCopyBuffer", C.clEnqueueCopyBuffer(c.queue, src.mem, dst.mem, 0, 0, C.size_t(bytes), 0, nil, &ev)); err != nil {
		return 0, err
	}
	return eventTime(ev)
}

// eventTime waits for ev, releases it and returns how long its command ran.
func eventTime(ev C.cl_event) (time.Duration, error) {
	defer C.clReleaseEvent(ev)
	if err := check("clWaitForEvents", C.clWaitForEvents(1, &ev)); err != nil {
		return 0, err
	}
	var start, end C.cl_ulong
	C.clGetEventProfilingInfo(ev, C.CL_PROFILING_COMMAND_START, C.size_t(unsafe.Sizeof(start)), unsafe.Pointer(&start), nil)
	C.clGetEventProfilingInfo(ev, C.CL_PROFILING_COMMAND_END, C.size_t(unsafe.Sizeof(end)), unsafe.Pointer(&end), nil)
	return time.Duration(end - start), nil
}

// Unallocated is how many bytes of device memory are not yet allocated.
func (c *Context) Unallocated() int64 { return c.Device.GlobalMem - c.allocated }

// Finish waits for every queued command.
func (c *Context) Finish() error { return check("clFinish", C.clFinish(c.queue)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
