package metal_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/codegen/metal"
	"github.com/irc-compiler/irc/ir"
)

var update = flag.Bool("update", false, "rewrite testdata/small.metal from the emitter")

// small is a fixed model whose library instantiates every kind of block:
// two float dtypes, i32, and casts.
func small(t *testing.T) *codegen.Lowered {
	t.Helper()
	m, err := ir.Parse("small", `irc v1
graph g(%x: bf16[4,8], %f: f32[4,8], %i: i32[4]) {
  %a = cast(%x) {dtype=f32} : f32[4,8]
  %b = add(%a, %f) : f32[4,8]
  %c = add(%i, %i) : i32[4]
  return %b, %c
}`)
	if err != nil {
		t.Fatal(err)
	}
	low, err := codegen.LowerGraphs(m, metal.Target, "g")
	if err != nil {
		t.Fatal(err)
	}
	return low
}

// The rendered library of a fixed schedule, byte for byte (go test
// -update rewrites it after a deliberate change).
func TestGolden(t *testing.T) {
	got := metal.Source(small(t))
	path := filepath.Join("testdata", "small.metal")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the library differs from %s (go test -update rewrites it)", path)
	}
}

// Equal schedules give byte-identical libraries.
func TestSourceIsDeterministic(t *testing.T) {
	if a, b := metal.Source(small(t)), metal.Source(small(t)); a != b {
		t.Error("two lowerings of one model give different libraries")
	}
}

// Every signature has Metal's form: buffers at slots 0.. and the scalars'
// struct after them, within Metal's 31 buffer slots, the thread indices
// last; every kernel body unpacks its scalars; and no kernel takes a
// scalar outside the struct.
func TestSignaturesHaveMetalsForm(t *testing.T) {
	src := metal.Source(small(t))
	slot := regexp.MustCompile(`\[\[buffer\((\d+)\)\]\]`)
	for _, k := range kernels.Table {
		line := "#define PARAMS_" + k.Name + " "
		i := strings.Index(src, line)
		sig := src[i+len(line) : i+strings.Index(src[i:], "\n")]
		params := strings.Split(sig, ", ")
		buffers := 0
		for _, p := range k.Params {
			if p.Kind == kernels.TensorParam {
				buffers++
			}
		}
		if len(params) != buffers+4 {
			t.Errorf("%s: %d parameters, want %d buffers, the struct and 3 indices: %s", k.Name, len(params), buffers, sig)
			continue
		}
		for j, p := range params[:buffers+1] {
			m := slot.FindStringSubmatch(p)
			if m == nil || m[1] != strconv.Itoa(j) {
				t.Errorf("%s: parameter %d is %q, want slot %d", k.Name, j, p, j)
			}
			if j < buffers && !strings.HasPrefix(p, "device ") {
				t.Errorf("%s: buffer %q is not a device pointer", k.Name, p)
			}
		}
		if buffers+1 > 31 {
			t.Errorf("%s binds %d buffer slots, past Metal's 31", k.Name, buffers+1)
		}
		if want := "constant " + kernels.ScalarStruct(k) + "& " + kernels.PackedName; !strings.HasPrefix(params[buffers], want) {
			t.Errorf("%s: the scalars are %q, want %s", k.Name, params[buffers], want)
		}
	}
	opens := regexp.MustCompile(`\(PARAMS\((\w+)\)\) \{ UNPACK\((\w+)\)`).FindAllStringSubmatch(src, -1)
	if n := len(regexp.MustCompile(`\(PARAMS\(\w+\)\) \{`).FindAllString(src, -1)); n != len(opens) {
		t.Errorf("%d kernels, %d of them unpack their scalars", n, len(opens))
	}
	for _, o := range opens {
		if o[1] != o[2] {
			t.Errorf("kernel with PARAMS(%s) unpacks %s", o[1], o[2])
		}
	}
}
