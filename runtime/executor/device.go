// Package executor runs a kernel schedule on a device: load order, weight
// checks, staging of step inputs, launch tables, logits, greedy argmax,
// reset and copy bandwidth, written once over the small Device interface
// each backend implements (runtime/opencl, ...). It is copied into every
// generated runner.
package executor

import (
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Buffer is device memory, opaque to the executor.
type Buffer any

// Kernel is a kernel with its arguments bound, ready to launch again and
// again.
type Kernel any

// Arg is one kernel argument: a buffer at an element offset (passed as the
// pointer, then the offset as an int), an int or a float.
type Arg struct {
	Kind schedule.ArgKind
	Buf  Buffer
	Off  int32
	Int  int32
	F    float32
}

// Device is what a backend provides: one device, its memory, its compiled
// program and an in-order queue of launches.
type Device interface {
	// Name names the device for reports.
	Name() string
	// Kind says whether the device is a GPU or a CPU: the executor makes
	// the launches shaped for it (schedule.Launch.For).
	Kind() schedule.DeviceKind
	// Build compiles (or loads) the kernel program.
	Build(source string) error
	// Alloc allocates bytes of device memory; what names it in errors.
	Alloc(bytes int64, what string) (Buffer, error)
	Free(b Buffer)
	// Write copies data to byte offset off of b and waits.
	Write(b Buffer, off int64, data []byte) error
	// WriteAsync queues a copy of data to the start of b and returns
	// without waiting; data may be reused at once (the device stages it).
	WriteAsync(b Buffer, data []byte) error
	// Read copies from byte offset off of b into data after every queued
	// launch.
	Read(b Buffer, off int64, data []byte) error
	// Zero fills b with zero bytes.
	Zero(b Buffer) error
	// Kernel binds args to the program's kernel name.
	Kernel(name string, args []Arg) (Kernel, error)
	// Launch queues k over l's grid (Global items in groups of Local,
	// with Shared bytes of dynamic shared memory).
	Launch(k Kernel, l *schedule.Launch) error
	// LaunchTimed launches k like Launch, waits, and returns the device's
	// own measure of its run time.
	LaunchTimed(k Kernel, l *schedule.Launch) (time.Duration, error)
	// CopyTimed copies bytes from src to dst on the device, waits, and
	// returns the device's measure of the copy's time.
	CopyTimed(dst, src Buffer, bytes int64) (time.Duration, error)
	// MaxAlloc is the largest single allocation; Unallocated what is left.
	MaxAlloc() int64
	Unallocated() int64
	// Finish waits for every queued command.
	Finish() error
	// Close releases the kernels and the device (after the executor has
	// freed its buffers).
	Close()
}

// Opener opens device index of a backend.
type Opener func(index int) (Device, error)

// Recorder is a Device that can record a sequence of launches once and
// replay it as one unit (a CUDA graph): a step then costs one submission
// instead of one per launch. Every value a recorded launch reads is in
// device memory, so a replay computes on whatever the buffers hold.
type Recorder interface {
	Device
	// Record runs launch, which queues launches, capturing them instead
	// of running them.
	Record(launch func() error) (Recording, error)
	// Replay queues a recording.
	Replay(Recording) error
}

// Recording is a recorded launch sequence, owned by its Device.
type Recording any
