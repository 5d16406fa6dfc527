//go:build darwin && cgo

package metal

/*
#cgo CFLAGS: -x objective-c -fobjc-arc -Wall
#cgo LDFLAGS: -framework Metal -framework Foundation
#include <stdlib.h>
#include "metal_darwin.h"
*/
import "C"

import (
	"time"
	"unsafe"

	"github.com/irc-compiler/irc/runtime/executor"
)

// OpenDevice opens Metal device index (MTLCopyAllDevices' order).
func OpenDevice(index int) (executor.Device, error) {
	var name, msg [256]C.char
	h := C.irc_mtl_open(C.int(index), &name[0], C.int(len(name)), &msg[0], C.int(len(msg)))
	if h == nil {
		return nil, errorf("%s", C.GoString(&msg[0]))
	}
	return &device{drv: &objc{h: h}, name: C.GoString(&name[0]), pipes: map[string]*kernel{}}, nil
}

// objc is the driver over metal_darwin.m; handles are retained
// Objective-C objects as C pointers.
type objc struct {
	h    unsafe.Pointer
	ptrs []unsafe.Pointer // C scratch for a dispatch's buffer handles
}

func (o *objc) build(source string) (time.Duration, error) {
	src := C.CString(source)
	defer C.free(unsafe.Pointer(src))
	var ms C.double
	var msg [4096]C.char
	if C.irc_mtl_build(o.h, src, &ms, &msg[0], C.int(len(msg))) == 0 {
		return 0, errorf("%s", C.GoString(&msg[0]))
	}
	return time.Duration(float64(ms) * float64(time.Millisecond)), nil
}

func (o *objc) pipeline(name string) (any, int, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var threads C.int
	var msg [1024]C.char
	p := C.irc_mtl_pipeline(o.h, cname, &threads, &msg[0], C.int(len(msg)))
	if p == nil {
		return nil, 0, errorf("%s", C.GoString(&msg[0]))
	}
	return p, int(threads), nil
}

func (o *objc) alloc(bytes int64) (any, []byte, error) {
	b := C.irc_mtl_alloc(o.h, C.int64_t(bytes))
	if b == nil {
		return nil, nil, errorf("newBufferWithLength: %d bytes refused", bytes)
	}
	return b, unsafe.Slice((*byte)(C.irc_mtl_contents(b)), bytes), nil
}

func (o *objc) free(buf any) {
	if p, ok := buf.(unsafe.Pointer); ok {
		C.irc_mtl_free(p) // releases a buffer or a pipeline alike
	}
}

func (o *objc) dispatch(pipe any, bufs []any, scalars []byte, groups, threads [3]uint32) error {
	handles := (*[32]unsafe.Pointer)(C.malloc(C.size_t(32 * unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(handles))
	for i, b := range bufs {
		handles[i] = b.(unsafe.Pointer)
	}
	cs := C.CBytes(scalars)
	defer C.free(cs)
	g := [3]C.uint32_t{C.uint32_t(groups[0]), C.uint32_t(groups[1]), C.uint32_t(groups[2])}
	t := [3]C.uint32_t{C.uint32_t(threads[0]), C.uint32_t(threads[1]), C.uint32_t(threads[2])}
	C.irc_mtl_dispatch(o.h, pipe.(unsafe.Pointer), &handles[0], C.int(len(bufs)), cs, C.int(len(scalars)), &g[0], &t[0])
	return nil
}

func (o *objc) blit(dst, src any, bytes int64) error {
	C.irc_mtl_blit(o.h, dst.(unsafe.Pointer), src.(unsafe.Pointer), C.int64_t(bytes))
	return nil
}

func (o *objc) commit() (time.Duration, error) {
	var ms C.double
	var msg [1024]C.char
	if C.irc_mtl_commit(o.h, &ms, &msg[0], C.int(len(msg))) == 0 {
		return 0, errorf("command buffer: %s", C.GoString(&msg[0]))
	}
	return time.Duration(float64(ms) * float64(time.Millisecond)), nil
}

func (o *objc) maxBuffer() int64  { return int64(C.irc_mtl_max_buffer(o.h)) }
func (o *objc) workingSet() int64 { return int64(C.irc_mtl_working_set(o.h)) }
func (o *objc) close()            { C.irc_mtl_close(o.h) }
