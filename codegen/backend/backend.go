// Package backend is the registry of GPU backends: everything the command
// line, the runner generator and the tests need to know about one, in one
// entry. Adding a backend is one entry here, an emitter with its prelude
// (codegen/<name>), an executor.Device (runtime/<name>) and one line
// enabling the shared conformance harness (internal/backendtest).
package backend

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/cuda"
	"github.com/irc-compiler/irc/codegen/metal"
	"github.com/irc-compiler/irc/codegen/opencl"
)

// Backend describes one GPU backend.
type Backend struct {
	// Name is the --target / --backend value and the device name the
	// partition pass places nodes on.
	Name string
	// Doc is a one-line description for help texts.
	Doc string
	// Target is what the lowering specialises for this backend.
	Target codegen.Target
	// Emit returns the kernel program of a lowered model, written to
	// KernelFile in the runner's folder and embedded in the binary.
	Emit       func(*codegen.Lowered) string
	KernelFile string
	// Compile turns an emitted program into what Device.Build loads, in
	// process, as Generate does for a runner (the conformance harness
	// uses it); nil where Build takes the program as it is.
	Compile func(program string) (string, error)
	// Runtime is the runtime package (relative to the module root) whose
	// Opener, named Open, the runner hands to the executor.
	Runtime, Open string
	// Copy are further folders of the module the runner needs copied
	// besides the shared runtime and Runtime (all their non-test files).
	Copy []string
	// Requires are the modules Runtime imports, with the versions of
	// irc's own go.mod.
	Requires []string
	// BuildTags are passed to go build.
	BuildTags []string
	// Generate, where a program must be compiled before go build (CUDA's
	// nvcc), gives for a kernel file and the target architectures the file
	// it makes, which the runner embeds, and the command, run by go
	// generate in the runner folder.
	Generate func(kernelFile string, arch []string) (out string, command []string)
	// Arch are the architectures Generate compiles for by default;
	// ParseArch reads the --cuda-arch list ForArch picks others with.
	Arch      []string
	ParseArch func(list string) ([]string, error)
	// Install says what a machine needs to build the runner.
	Install string
}

// registry holds every backend, by name.
var registry = []*Backend{
	{
		Name: "opencl", Doc: "OpenCL 1.2 devices (PoCL on a CPU)", Target: codegen.Portable,
		Emit: opencl.Source, KernelFile: opencl.FileName,
		Runtime: "runtime/opencl", Open: "OpenDevice",
		Install: "cgo, a C compiler and the OpenCL headers and ICD loader: Debian's gcc ocl-icd-opencl-dev",
	},
	{
		Name: "cuda", Doc: "NVIDIA GPUs (sm_80, sm_90 machine code and sm_90 PTX), with CUDA graphs and tensor-core prefill", Target: cuda.Target,
		Emit: cuda.Source, KernelFile: cuda.FileName,
		Compile: func(src string) (string, error) { return cuda.Compile(src, cuda.DefaultArches) },
		Runtime: "runtime/cuda", Open: "OpenDevice",
		Requires:  []string{"gorgonia.org/cu", "github.com/pkg/errors", "github.com/google/uuid"},
		BuildTags: []string{"cuda"},
		Generate: func(src string, arch []string) (string, []string) {
			return cuda.Fatbin(src), cuda.NvccCommand(src, cuda.Fatbin(src), arch)
		},
		Arch: cuda.DefaultArches, ParseArch: cuda.ParseArches,
		Install: "cgo, a C compiler, the CUDA toolkit's nvcc and the driver API headers and library: " +
			"Debian's gcc nvidia-cuda-toolkit nvidia-cuda-dev (contrib non-free); the built runner needs only the NVIDIA driver",
	},
	{
		Name: "metal", Doc: "Apple GPUs through Metal (macOS; its MSL verified on Linux through a C++ shim)", Target: metal.Target,
		Emit: metal.Source, KernelFile: metal.FileName,
		Runtime: "runtime/metal", Open: "OpenDevice",
		Install: "macOS with the Xcode command line tools (cgo, clang and the Metal framework); the library compiles when the runner loads",
	},
}

// Embedded is the file a runner of b embeds for kernel file src: what
// Generate makes of it, or src itself.
func (b *Backend) Embedded(src string) string {
	if b.Generate == nil {
		return src
	}
	out, _ := b.Generate(src, b.Arch)
	return out
}

// ForArch is b compiling ahead for the architectures in list (compute
// capabilities, comma-separated: "80,86,90"; the last one also as PTX).
func (b *Backend) ForArch(list string) (*Backend, error) {
	if b.ParseArch == nil {
		return nil, fmt.Errorf("--cuda-arch %s: the %s backend compiles its kernels when a runner loads them, for the device it finds", list, b.Name)
	}
	arch, err := b.ParseArch(list)
	if err != nil {
		return nil, err
	}
	c := *b
	c.Arch = arch
	return &c, nil
}

// Lookup finds a backend by name.
func Lookup(name string) (*Backend, bool) {
	i := slices.IndexFunc(registry, func(b *Backend) bool { return b.Name == name })
	if i < 0 {
		return nil, false
	}
	return registry[i], true
}

// Names lists the backends in registry order.
func Names() []string {
	out := make([]string, len(registry))
	for i, b := range registry {
		out[i] = b.Name
	}
	return out
}

// List is the names joined for help and error texts: "a, b".
func List() string { return strings.Join(Names(), ", ") }

// MustLookup finds a backend the caller knows is registered.
func MustLookup(name string) *Backend {
	b, ok := Lookup(name)
	if !ok {
		panic("backend " + name + " is not registered")
	}
	return b
}
