package backend

import (
	"fmt"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Every registered backend renders every kernel's signature from the one
// table, and its program defines the target's sizes and every named
// constant with the table's values: nothing of the calling convention is
// left for a backend to write by hand.
func TestEveryBackendRendersTheTable(t *testing.T) {
	m, err := ir.Parse("all", `irc v1
graph g(%x: bf16[4,8], %h: f16[4,8], %f: f32[4,8], %i: i32[4]) {
  %a = cast(%x) {dtype=f32} : f32[4,8]
  %b = cast(%h) {dtype=bf16} : bf16[4,8]
  %c = add(%i, %i) : i32[4]
  return %a, %b, %c
}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		b := MustLookup(name)
		t.Run(name, func(t *testing.T) {
			low, err := codegen.LowerGraphs(m, b.Target, "g")
			if err != nil {
				t.Fatal(err)
			}
			src := b.Emit(low)
			for _, c := range append(b.Target.Sizes(), kernels.Consts()...) {
				if want := fmt.Sprintf("#define %s %d\n", c.Name, c.Value); !strings.Contains(src, want) {
					t.Errorf("program lacks %q", want)
				}
			}
			for _, k := range kernels.Table {
				line := "#define PARAMS_" + k.Name + " "
				i := strings.Index(src, line)
				if i < 0 {
					t.Errorf("program has no signature for %s", k.Name)
					continue
				}
				sig := src[i+len(line) : i+strings.Index(src[i:], "\n")]
				// A packing style (Metal) passes the scalars in a struct.
				if j := strings.Index(src, "struct "+kernels.ScalarStruct(k)+" {"); j >= 0 {
					sig += " " + src[j:j+strings.Index(src[j:], "\n")]
				}
				for _, p := range k.Params {
					names := []string{p.Name}
					if p.Kind == kernels.TensorParam {
						names = []string{p.Name + "_base", p.Name + "_off"}
					}
					for _, n := range names {
						if !strings.Contains(sig, " "+n) {
							t.Errorf("%s's signature lacks %s: %s", k.Name, n, sig)
						}
					}
				}
			}
			for _, inst := range []string{kernels.Cast.Instance(schedule.BF16, schedule.F32), kernels.Cast.Instance(schedule.F16, schedule.BF16)} {
				if !strings.Contains(src, "#define CAST_NAME "+inst+"\n") {
					t.Errorf("program does not instantiate %s", inst)
				}
			}
		})
	}
}

// The registry's entries are complete, and names are unique.
func TestRegistryEntriesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, b := range registry {
		if b.Name == "" || b.Doc == "" || b.Emit == nil || b.KernelFile == "" || b.Runtime == "" || b.Open == "" || b.Install == "" || b.Target.WorkGroup == 0 {
			t.Errorf("incomplete entry %+v", b)
		}
		if seen[b.Name] {
			t.Errorf("backend %s registered twice", b.Name)
		}
		seen[b.Name] = true
	}
	if _, ok := Lookup("nosuch"); ok {
		t.Error("Lookup found a backend that is not registered")
	}
}
