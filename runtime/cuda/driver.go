//go:build cuda

package cuda

// What gorgonia.org/cu does not offer, over the driver API: launches from
// parameter blocks prepared once in C memory (cu copies every launch's
// parameters into two fresh C allocations), pinned host memory,
// asynchronous copies on our stream, stream capture and CUDA graphs.

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
#include <stdlib.h>

static CUresult irc_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
		unsigned bx, unsigned by, unsigned bz, unsigned shared, CUstream s, void **params) {
	return cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, params, NULL);
}

// irc_params makes n parameter slots of 8 bytes and the array of pointers
// to them that cuLaunchKernel reads, in one allocation: pointers first.
static void **irc_params(const unsigned long long *slots, int n) {
	void **p = (void **)malloc((size_t)n * 2 * sizeof(void *) + 1);
	if (p == NULL) return NULL;
	unsigned long long *vals = (unsigned long long *)(p + n);
	for (int i = 0; i < n; i++) {
		vals[i] = slots[i];
		p[i] = &vals[i];
	}
	return p;
}

static const char *irc_error(CUresult r) {
	const char *s = NULL;
	cuGetErrorName(r, &s);
	return s != NULL ? s : "unknown CUDA error";
}
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"
)

func check(what string, r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return fmt.Errorf("%s: %s", what, C.GoString(C.irc_error(r)))
}

// module is a loaded fatbin.
type module struct{ m C.CUmodule }

func loadModule(image string) (*module, error) {
	if len(image) == 0 {
		return nil, fmt.Errorf("the runner carries no compiled kernels (was go generate run before go build?)")
	}
	data := C.CBytes([]byte(image))
	defer C.free(data)
	var m C.CUmodule
	if err := check("loading the kernels (cuModuleLoadFatBinary)", C.cuModuleLoadFatBinary(&m, data)); err != nil {
		return nil, err
	}
	return &module{m}, nil
}

func (m *module) unload() { C.cuModuleUnload(m.m) }

// function is a kernel with its parameter block.
type function struct {
	name   string
	f      C.CUfunction
	params *unsafe.Pointer
}

func (m *module) function(name string, slots []uint64) (*function, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var f C.CUfunction
	if err := check("kernel "+name, C.cuModuleGetFunction(&f, m.m, cname)); err != nil {
		return nil, err
	}
	var first *C.ulonglong
	if len(slots) > 0 {
		first = (*C.ulonglong)(unsafe.Pointer(&slots[0]))
	}
	p := C.irc_params(first, C.int(len(slots)))
	if p == nil {
		return nil, fmt.Errorf("kernel %s: out of host memory for its parameters", name)
	}
	return &function{name: name, f: f, params: p}, nil
}

func (f *function) free() { C.free(unsafe.Pointer(f.params)) }

// stream is an in-order queue that blocks with the legacy default stream,
// so cu's synchronous copies and memsets stay ordered with our launches.
type stream struct {
	s          C.CUstream
	start, end C.CUevent
}

func newStream() (*stream, error) {
	st := &stream{}
	if err := check("cuStreamCreate", C.cuStreamCreate(&st.s, C.CU_STREAM_DEFAULT)); err != nil {
		return nil, err
	}
	if err := check("cuEventCreate", C.cuEventCreate(&st.start, C.CU_EVENT_DEFAULT)); err != nil {
		return nil, err
	}
	if err := check("cuEventCreate", C.cuEventCreate(&st.end, C.CU_EVENT_DEFAULT)); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *stream) destroy() {
	C.cuEventDestroy(st.start)
	C.cuEventDestroy(st.end)
	C.cuStreamDestroy(st.s)
}

func (st *stream) launch(f *function, grid, block [3]uint32, shared int) error {
	return check("launching "+f.name, C.irc_launch(f.f, C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]),
		C.uint(block[0]), C.uint(block[1]), C.uint(block[2]), C.uint(shared), st.s, f.params))
}

func (st *stream) sync() error { return check("cuStreamSynchronize", C.cuStreamSynchronize(st.s)) }

// timed runs queue between two events on the stream and returns the
// device's measure of the time between them.
func (st *stream) timed(queue func() error) (time.Duration, error) {
	if err := check("cuEventRecord", C.cuEventRecord(st.start, st.s)); err != nil {
		return 0, err
	}
	if err := queue(); err != nil {
		return 0, err
	}
	if err := check("cuEventRecord", C.cuEventRecord(st.end, st.s)); err != nil {
		return 0, err
	}
	if err := check("cuEventSynchronize", C.cuEventSynchronize(st.end)); err != nil {
		return 0, err
	}
	var ms C.float
	if err := check("cuEventElapsedTime", C.cuEventElapsedTime(&ms, st.start, st.end)); err != nil {
		return 0, err
	}
	return time.Duration(float64(ms) * float64(time.Millisecond)), nil
}

func (st *stream) copyDtoD(dst, src uint64, bytes int64) error {
	return check("cuMemcpyDtoDAsync", C.cuMemcpyDtoDAsync(C.CUdeviceptr(dst), C.CUdeviceptr(src), C.size_t(bytes), st.s))
}

// pinned is page-locked host memory the device reads asynchronously, and
// the event that marks its last copy done.
type pinned struct {
	p    unsafe.Pointer
	n    int
	done C.CUevent
}

func newPinned(n int) (*pinned, error) {
	pm := &pinned{n: max(n, 1)}
	if err := check("cuMemHostAlloc", C.cuMemHostAlloc(&pm.p, C.size_t(pm.n), 0)); err != nil {
		return nil, err
	}
	if err := check("cuEventCreate", C.cuEventCreate(&pm.done, C.CU_EVENT_DISABLE_TIMING)); err != nil {
		C.cuMemFreeHost(pm.p)
		return nil, err
	}
	return pm, nil
}

func (pm *pinned) bytes() []byte { return unsafe.Slice((*byte)(pm.p), pm.n) }

func (pm *pinned) free() {
	C.cuEventSynchronize(pm.done)
	C.cuEventDestroy(pm.done)
	C.cuMemFreeHost(pm.p)
}

// stager is pm as staging for asynchronous copies to device address dst
// on st (see stager: it waits for pm's previous copy before reuse).
func (st *stream) stager(pm *pinned, dst func() uint64) *stager {
	return &stager{size: pm.n,
		wait: func() error { return check("cuEventSynchronize", C.cuEventSynchronize(pm.done)) },
		fill: func(data []byte) { copy(pm.bytes(), data) },
		queue: func(n int) error {
			if err := check("cuMemcpyHtoDAsync", C.cuMemcpyHtoDAsync(C.CUdeviceptr(dst()), pm.p, C.size_t(n), st.s)); err != nil {
				return err
			}
			return check("cuEventRecord", C.cuEventRecord(pm.done, st.s))
		},
	}
}

// copyOut copies bytes from device address src into data through pm,
// after everything queued on the stream.
func (st *stream) copyOut(data []byte, src uint64, pm *pinned) error {
	if len(data) > pm.n {
		return fmt.Errorf("%d bytes do not fit %d bytes of staging", len(data), pm.n)
	}
	if err := check("cuMemcpyDtoHAsync", C.cuMemcpyDtoHAsync(pm.p, C.CUdeviceptr(src), C.size_t(len(data)), st.s)); err != nil {
		return err
	}
	if err := st.sync(); err != nil {
		return err
	}
	copy(data, unsafe.Slice((*byte)(pm.p), len(data)))
	return nil
}

// graph is a CUDA graph instantiated from a captured launch sequence.
type graph struct{ exec C.CUgraphExec }

// capture records what queue launches on the stream as a graph instead of
// running it.
func (st *stream) capture(queue func() error) (*graph, error) {
	if err := check("cuStreamBeginCapture", C.cuStreamBeginCapture(st.s, C.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)); err != nil {
		return nil, err
	}
	qerr := queue()
	var g C.CUgraph
	if err := check("cuStreamEndCapture", C.cuStreamEndCapture(st.s, &g)); err != nil || qerr != nil {
		if g != nil {
			C.cuGraphDestroy(g)
		}
		if qerr != nil {
			return nil, qerr
		}
		return nil, err
	}
	defer C.cuGraphDestroy(g)
	out := &graph{}
	if err := check("cuGraphInstantiateWithFlags", C.cuGraphInstantiateWithFlags(&out.exec, g, 0)); err != nil {
		return nil, err
	}
	return out, nil
}

func (st *stream) replay(g *graph) error {
	return check("cuGraphLaunch", C.cuGraphLaunch(g.exec, st.s))
}

func (g *graph) destroy() { C.cuGraphExecDestroy(g.exec) }
