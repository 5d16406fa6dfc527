// Package cuda is the CUDA executor.Device of a generated runner, on the
// NVIDIA driver API through gorgonia.org/cu and a small cgo layer for what
// cu lacks (launches from prepared parameter blocks, pinned staging,
// asynchronous copies, stream capture into CUDA graphs). The files that
// touch the driver build only with the cuda tag: cu initialises the driver
// when the program starts and exits where there is none, so nothing
// without the tag may import it. This file is the driver-free part: how
// arguments become kernel parameters, a launch becomes a CUDA grid, and
// pinned staging is reused.
package cuda

import (
	"fmt"
	"math"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// paramSlots lays out a kernel's arguments as the C parameters the
// emitted signatures declare (codegen/kernels: a tensor is its pointer,
// then its element offset as an int), one 8-byte slot each: a pointer's
// address, or a 32-bit int or float in the low 4 bytes. The driver reads
// each parameter from its slot at launch.
func paramSlots(args []executor.Arg, address func(executor.Buffer) uint64) []uint64 {
	var slots []uint64
	for _, a := range args {
		switch a.Kind {
		case schedule.TensorArg:
			slots = append(slots, address(a.Buf), uint64(uint32(a.Off)))
		case schedule.IntArg:
			slots = append(slots, uint64(uint32(a.Int)))
		case schedule.FloatArg:
			slots = append(slots, uint64(math.Float32bits(a.F)))
		}
	}
	return slots
}

// Limits of a CUDA launch (every GPU since compute capability 3.0).
const (
	maxBlockThreads = 1024
	maxBlockZ       = 64
	maxGridX        = 1<<31 - 1
	maxGridYZ       = 65535
)

// dims turns a launch's work grid (Global items in groups of Local) into
// CUDA's grid of blocks and block of threads.
func dims(l *schedule.Launch) (grid, block [3]uint32, err error) {
	threads := 1
	for i := range 3 {
		g, b := l.Global[i], l.Local[i]
		if b < 1 || g < 1 || g%b != 0 {
			return grid, block, fmt.Errorf("launch of %s: %d items in groups of %d along axis %d", l.Node, g, b, i)
		}
		grid[i], block[i] = uint32(g/b), uint32(b)
		threads *= b
	}
	if threads > maxBlockThreads || block[2] > maxBlockZ {
		return grid, block, fmt.Errorf("launch of %s: a block of %v threads is past CUDA's limits (%d in all, %d along z)", l.Node, l.Local, maxBlockThreads, maxBlockZ)
	}
	if grid[0] > maxGridX || grid[1] > maxGridYZ || grid[2] > maxGridYZ {
		return grid, block, fmt.Errorf("launch of %s: a grid of %v blocks is past CUDA's limits (%d along x, %d along y and z)", l.Node, grid, maxGridX, maxGridYZ)
	}
	return grid, block, nil
}

// stager is host memory the device copies from asynchronously (pinned
// staging): a write may reuse it only once the device has read the last
// copy queued from it. The driver calls are functions, so that the order
// is tested without a driver.
type stager struct {
	size    int
	pending bool
	// wait blocks until the last queued copy has been read; fill writes
	// data into the staging memory; queue queues the copy of its first n
	// bytes and marks where it completes.
	wait  func() error
	fill  func(data []byte)
	queue func(n int) error
}

// put stages data and queues its copy without waiting for it: it waits
// only for the previous copy, whose bytes it is about to overwrite.
func (s *stager) put(data []byte) error {
	if len(data) > s.size {
		return fmt.Errorf("%d bytes do not fit %d bytes of staging", len(data), s.size)
	}
	if err := s.settle(); err != nil {
		return err
	}
	s.fill(data)
	if err := s.queue(len(data)); err != nil {
		return err
	}
	s.pending = true
	return nil
}

// settle waits for the last queued copy, if one is pending.
func (s *stager) settle() error {
	if !s.pending {
		return nil
	}
	s.pending = false
	return s.wait()
}
