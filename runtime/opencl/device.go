package opencl

import (
	"fmt"
	"time"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// device is the executor.Device of one OpenCL device: a context, its
// program, the kernel objects made from it, and the staging memory of each
// buffer written asynchronously.
type device struct {
	ctx     *Context
	prog    *Program
	kernels []*Kernel
	staging map[*Buffer]*Staging
}

// OpenDevice opens OpenCL device index (as listed by Devices) for the
// executor.
func OpenDevice(index int) (executor.Device, error) {
	ctx, err := Open(index)
	if err != nil {
		return nil, err
	}
	return &device{ctx: ctx, staging: map[*Buffer]*Staging{}}, nil
}

func (d *device) Name() string { return d.ctx.Device.String() }

func (d *device) Kind() schedule.DeviceKind {
	if d.ctx.Device.CPU {
		return schedule.CPU
	}
	return schedule.GPU
}

func (d *device) Build(source string) (err error) {
	d.prog, err = d.ctx.Build(source, "")
	return err
}

func (d *device) Alloc(bytes int64, what string) (executor.Buffer, error) {
	return d.ctx.Alloc(bytes, what)
}

func (d *device) Free(b executor.Buffer) {
	if st := d.staging[b.(*Buffer)]; st != nil {
		st.Free()
		delete(d.staging, b.(*Buffer))
	}
	d.ctx.Free(b.(*Buffer))
}

func (d *device) Write(b executor.Buffer, off int64, data []byte) error {
	return d.ctx.Write(b.(*Buffer), off, data)
}

func (d *device) WriteAsync(b executor.Buffer, data []byte) error {
	buf := b.(*Buffer)
	st := d.staging[buf]
	if st == nil {
		st = NewStaging(int(buf.Size))
		d.staging[buf] = st
	}
	return d.ctx.WriteAsync(buf, st, data)
}

func (d *device) Read(b executor.Buffer, off int64, data []byte) error {
	return d.ctx.Read(b.(*Buffer), off, data)
}

func (d *device) Zero(b executor.Buffer) error { return d.ctx.Zero(b.(*Buffer)) }

// Kernel makes a kernel object with its arguments set once: OpenCL keeps
// them between launches, so a launch is one enqueue.
func (d *device) Kernel(name string, args []executor.Arg) (executor.Kernel, error) {
	k, err := d.prog.Kernel(name)
	if err != nil {
		return nil, err
	}
	at := 0
	for _, a := range args {
		switch a.Kind {
		case schedule.TensorArg:
			if err = k.SetBuffer(at, a.Buf.(*Buffer)); err == nil {
				at++
				err = k.SetInt(at, a.Off)
			}
		case schedule.IntArg:
			err = k.SetInt(at, a.Int)
		case schedule.FloatArg:
			err = k.SetFloat(at, a.F)
		}
		if err != nil {
			k.Release()
			return nil, err
		}
		at++
	}
	d.kernels = append(d.kernels, k)
	return k, nil
}

// static refuses a launch that asks for dynamic local memory, which the
// OpenCL kernels do not take (their local memory is sized statically).
func static(k executor.Kernel, l *schedule.Launch) error {
	if l.Shared != 0 {
		return fmt.Errorf("launch of %s asks for %d bytes of dynamic local memory: the OpenCL backend sizes local memory statically", k.(*Kernel).name, l.Shared)
	}
	return nil
}

func (d *device) Launch(k executor.Kernel, l *schedule.Launch) error {
	if err := static(k, l); err != nil {
		return err
	}
	return d.ctx.Launch(k.(*Kernel), l.Global, l.Local)
}

func (d *device) LaunchTimed(k executor.Kernel, l *schedule.Launch) (time.Duration, error) {
	if err := static(k, l); err != nil {
		return 0, err
	}
	return d.ctx.LaunchTimed(k.(*Kernel), l.Global, l.Local)
}

func (d *device) CopyTimed(dst, src executor.Buffer, bytes int64) (time.Duration, error) {
	return d.ctx.CopyTimed(dst.(*Buffer), src.(*Buffer), bytes)
}

func (d *device) MaxAlloc() int64    { return d.ctx.Device.MaxAlloc }
func (d *device) Unallocated() int64 { return d.ctx.Unallocated() }
func (d *device) Finish() error      { return d.ctx.Finish() }

func (d *device) Close() {
	d.ctx.Finish()
	for _, st := range d.staging {
		st.Free()
	}
	for _, k := range d.kernels {
		k.Release()
	}
	if d.prog != nil {
		d.prog.Release()
	}
	d.ctx.Close()
}
