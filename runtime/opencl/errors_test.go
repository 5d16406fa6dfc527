package opencl

import (
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

func TestWrongDeviceIndexIsClear(t *testing.T) {
	devs, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(len(devs) + 3)
	if err == nil || !strings.Contains(err.Error(), "no such OpenCL device") || !strings.Contains(err.Error(), devs[0].Name) {
		t.Fatalf("got %v, want an error listing the devices", err)
	}
	if _, err := Open(-1); err == nil {
		t.Fatal("device -1 opened")
	}
}

func TestBuildFailureCarriesTheLog(t *testing.T) {
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	_, err = ctx.Build("__kernel void broken(__global float* x) { x[0] = undefined_name; }", "")
	if err == nil || !strings.Contains(err.Error(), "build log") || !strings.Contains(err.Error(), "undefined_name") {
		t.Fatalf("got %v, want the build log naming the bad identifier", err)
	}
}

func TestOutOfMemoryIsClear(t *testing.T) {
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	_, err = ctx.Alloc(ctx.Device.MaxAlloc+1, "weight buffer w")
	if err == nil || !strings.Contains(err.Error(), "out of device memory") || !strings.Contains(err.Error(), "weight buffer w") {
		t.Fatalf("got %v, want an out-of-memory error naming the buffer", err)
	}
	// A schedule whose buffers together exceed the device fails at load,
	// naming the buffer that did not fit.
	s := &schedule.Schedule{Kernels: []string{"argmax_f32"}}
	per := ctx.Device.MaxAlloc
	for i := int64(0); i*per <= ctx.Device.GlobalMem; i++ {
		s.Buffers = append(s.Buffers, schedule.Buffer{Name: "state" + string(rune('a'+i)), Kind: schedule.State, DType: schedule.F32, Bytes: per})
	}
	_, err = executor.Load(OpenDevice, s, "__kernel void argmax_f32(__global float* x) {}", 0, nil)
	if err == nil || !strings.Contains(err.Error(), "out of device memory") {
		t.Fatalf("got %v, want out of device memory", err)
	}
}
