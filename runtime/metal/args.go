// Package metal is the Metal executor.Device of a generated runner, on
// Apple GPUs: a small cgo + Objective-C layer (metal_darwin.m) under
// device logic written in Go. Only macOS builds the device; elsewhere
// OpenDevice reports that Metal needs a Mac. This file, with the binding
// convention, builds everywhere: the C++ test shim (internal/metalshim)
// binds its arguments through it too, so the Linux tests check what a Mac
// binds.
package metal

import (
	"encoding/binary"
	"math"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Bind lays out a kernel's arguments as codegen/metal's signatures
// declare them: each tensor's buffer at buffer slots 0, 1, ... in
// parameter order, then one struct of every scalar at the next slot,
// little-endian 4-byte fields in parameter order (a tensor's element
// offset, an int, a float), matching kernels.Packer's struct.
func Bind(args []executor.Arg) (bufs []executor.Buffer, scalars []byte) {
	for _, a := range args {
		switch a.Kind {
		case schedule.TensorArg:
			bufs = append(bufs, a.Buf)
			scalars = binary.LittleEndian.AppendUint32(scalars, uint32(a.Off))
		case schedule.IntArg:
			scalars = binary.LittleEndian.AppendUint32(scalars, uint32(a.Int))
		case schedule.FloatArg:
			scalars = binary.LittleEndian.AppendUint32(scalars, math.Float32bits(a.F))
		}
	}
	return bufs, scalars
}

// Grid turns a launch's work grid (Global items in groups of Local) into
// Metal's threadgroups and threads per threadgroup, within Metal's limit
// of 1024 threads per group.
func Grid(l *schedule.Launch) (groups, threads [3]uint32, err error) {
	total := 1
	for i := range 3 {
		g, b := l.Global[i], l.Local[i]
		if b < 1 || g < 1 || g%b != 0 {
			return groups, threads, errorf("launch of %s: %d items in groups of %d along axis %d", l.Node, g, b, i)
		}
		groups[i], threads[i] = uint32(g/b), uint32(b)
		total *= b
	}
	if total > MaxThreads {
		return groups, threads, errorf("launch of %s: a threadgroup of %v threads is past Metal's %d", l.Node, l.Local, MaxThreads)
	}
	return groups, threads, nil
}

// MaxThreads is the most threads a Metal threadgroup holds.
const MaxThreads = 1024
