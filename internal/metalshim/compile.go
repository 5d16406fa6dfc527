//go:build cgo && linux

package metalshim

/*
#include <dlfcn.h>
#include <stdlib.h>
*/
import "C"

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/irc-compiler/irc/codegen/metal"
)

//go:embed shim/metal_stdlib shim/shim.h shim/driver.cpp
var shimFiles embed.FS

// CompilerEnv names the C++ compiler to use (g++ or clang++); by default
// the first of c++, g++ and clang++ on the PATH.
const CompilerEnv = "IRC_METAL_SHIM_CXX"

// Flags are the compiler's flags: C++20 (constinit), optimised enough that
// the fibers run the harness in reasonable time, and as errors what would
// make the shim's result differ from Metal's: a double in float
// arithmetic (an unsuffixed literal is a double in C++, a float in MSL),
// a narrowing float conversion, a missing return. Unused helpers and
// variables are expected (a library instantiates what its schedule needs).
var Flags = []string{"-std=c++20", "-O1", "-fPIC", "-shared", "-fvisibility=hidden", "-fno-strict-aliasing",
	"-D" + metal.ShimDefine, "-Wall", "-Wextra", "-Werror=double-promotion", "-Werror=float-conversion",
	"-Werror=return-type", "-Werror=narrowing", "-Werror=uninitialized",
	"-Wno-unused-function", "-Wno-unused-variable", "-Wno-unused-parameter", "-Wno-unused-but-set-variable",
	"-Wno-unknown-pragmas", "-Wno-sign-compare", "-Wno-missing-field-initializers"}

func compiler() (string, error) {
	if c := os.Getenv(CompilerEnv); c != "" {
		return exec.LookPath(c)
	}
	for _, c := range []string{"c++", "g++", "clang++"} {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("metal shim: no C++ compiler (c++, g++ or clang++; or set %s)", CompilerEnv)
}

// library is a loaded compiled library: its entry points.
type library struct {
	find, launch unsafe.Pointer
}

var (
	mu      sync.Mutex
	dir     string
	loaded  = map[string]*library{}
	counter int
)

// load compiles source with the shim (once per distinct source and
// compiler in a process: the harness lowers many models to the same
// library) and loads it.
func load(source string) (*library, error) {
	cxx, err := compiler()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(cxx + "\x00" + source))
	key := hex.EncodeToString(sum[:16])
	mu.Lock()
	defer mu.Unlock()
	if lib := loaded[key]; lib != nil {
		return lib, nil
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "irc-metalshim-"); err != nil {
			return nil, err
		}
		for _, name := range []string{"metal_stdlib", "shim.h", "driver.cpp"} {
			data, _ := shimFiles.ReadFile("shim/" + name)
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return nil, err
			}
		}
	}
	src := filepath.Join(dir, key+".metal")
	so := filepath.Join(dir, key+".so")
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		return nil, err
	}
	if err := Compile(cxx, src, so); err != nil {
		return nil, err
	}
	cso := C.CString(so)
	defer C.free(unsafe.Pointer(cso))
	h := C.dlopen(cso, C.RTLD_NOW|C.RTLD_LOCAL)
	if h == nil {
		return nil, fmt.Errorf("metal shim: dlopen %s: %s", so, C.GoString(C.dlerror()))
	}
	lib := &library{}
	for _, s := range []struct {
		name string
		p    *unsafe.Pointer
	}{{"irc_shim_find", &lib.find}, {"irc_shim_launch", &lib.launch}} {
		cs := C.CString(s.name)
		*s.p = C.dlsym(h, cs)
		C.free(unsafe.Pointer(cs))
		if *s.p == nil {
			return nil, fmt.Errorf("metal shim: %s lacks %s", so, s.name)
		}
	}
	loaded[key] = lib
	return lib, nil
}

// Compile compiles the Metal source file src with the shim into the
// shared library out, with compiler cxx.
func Compile(cxx, src, out string) error {
	shimDir := dir
	args := append(append([]string{}, Flags...), "-I", shimDir, "-o", out, "-x", "c++", src, filepath.Join(shimDir, "driver.cpp"))
	cmd := exec.Command(cxx, args...)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("metal shim: %s %s: %v\n%s", filepath.Base(cxx), strings.Join(args, " "), err, msg)
	}
	return nil
}

// Check compiles source with the shim (and loads it), as a device's Build
// does: for tests that only need to know that a library compiles.
func Check(source string) error {
	_, err := load(source)
	return err
}
