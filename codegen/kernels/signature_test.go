package kernels

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/schedule"
)

var templates = map[string]string{"common.c.in": common, "sample.c.in": sample, "typed.c.in": typed, "linear.c.in": linear, "attention.c.in": attention, "cast.c.in": cast}

// Every kernel the templates define is in the table, under the name the
// table gives it, with the table's parameter list; and every table entry
// has a template.
func TestTemplatesDefineTheTable(t *testing.T) {
	head := regexp.MustCompile(`(?m)^KERNEL void (\w+(?:\(\w+\))?)\((.*)\) \{$`)
	found := map[string]bool{}
	for file, src := range templates {
		for _, m := range head.FindAllStringSubmatch(src, -1) {
			name, params := m[1], m[2]
			want := regexp.MustCompile(`^PARAMS\((\w+)\)$`).FindStringSubmatch(params)
			if want == nil {
				t.Errorf("%s: kernel %s writes its parameters (%s) instead of PARAMS(kernel)", file, name, params)
				continue
			}
			k := lookup(want[1])
			if k == nil {
				t.Errorf("%s: kernel %s takes PARAMS(%s), which the table does not have", file, name, want[1])
				continue
			}
			spelled := map[Instantiation]string{FloatTypes: "TYPED(" + k.Name + ")", AllTypes: "TYPED(" + k.Name + ")", WeightPairs: "TYPED(" + k.Name + ")", Casts: "CAST_NAME", Once: k.Name}[k.Inst]
			if name != spelled {
				t.Errorf("%s: kernel %s has the parameters of %s, want it named %s", file, name, k.Name, spelled)
			}
			found[k.Name] = true
		}
	}
	for _, k := range Table {
		if !found[k.Name] && k.Backend == "" {
			t.Errorf("kernel %s is in the table but no template defines it", k.Name)
		}
		if found[k.Name] && k.Backend != "" {
			t.Errorf("kernel %s belongs to the %s backend, but a shared template defines it", k.Name, k.Backend)
		}
	}
}

func lookup(name string) *Kernel {
	i := slices.IndexFunc(Table, func(k *Kernel) bool { return k.Name == name })
	if i < 0 {
		return nil
	}
	return Table[i]
}

// No number the Go side passes is written in a template: op codes, flags,
// bounds and sizes exist only as names there, defined by the generated
// header; and every named constant is used by some template.
func TestTemplatesNameTheirConstants(t *testing.T) {
	numeric := regexp.MustCompile(`(?m)^\s*#define\s+(\w+)\s+-?[0-9]`)
	all := strings.Join([]string{common, sample, typedTemplates, cast}, "\n")
	for file, src := range templates {
		for _, m := range numeric.FindAllStringSubmatch(src, -1) {
			t.Errorf("%s defines %s as a number: it belongs in the table (signature.go)", file, m[1])
		}
	}
	for _, c := range append(Consts(), Const{Name: "WG"}, Const{Name: "TS"}) {
		if !regexp.MustCompile(`\b` + c.Name + `\b`).MatchString(all) {
			t.Errorf("constant %s is used by no template", c.Name)
		}
	}
	seen := map[string]bool{}
	for _, c := range Consts() {
		if seen[c.Name] {
			t.Errorf("constant %s is defined twice", c.Name)
		}
		seen[c.Name] = true
	}
}

// The op codes of each table are distinct, so no two IR ops share a code.
func TestOpCodesAreDistinct(t *testing.T) {
	for _, table := range [][]Const{UnaryOps, BinaryOps, {BoundNone, BoundColumns, BoundReduction}} {
		seen := map[int64]string{}
		for _, c := range table {
			if prev, dup := seen[c.Value]; dup {
				t.Errorf("%s and %s are both %d", prev, c.Name, c.Value)
			}
			seen[c.Value] = c.Name
		}
	}
}

// Bind orders arguments as the table does and refuses what does not fit.
func TestBindChecksNamesAndKinds(t *testing.T) {
	args := Args{"x": schedule.T(1, 2), "w": schedule.T(3, 0), "out": schedule.T(4, 8), "dim": schedule.I(67), "eps": schedule.F(1e-6), "has_weight": schedule.I(1)}
	got, err := RMSNorm.Bind(args)
	if err != nil {
		t.Fatal(err)
	}
	if got[RMSNorm.Index("out")].Buf != 4 || got[RMSNorm.Index("dim")].Int != 67 || got[RMSNorm.Index("eps")].F != 1e-6 {
		t.Fatalf("bound %+v", got)
	}
	for _, tc := range []struct {
		edit func(Args)
		want string
	}{
		{func(a Args) { delete(a, "eps") }, "no argument for parameter eps"},
		{func(a Args) { a["bogus"] = schedule.I(1) }, "has no parameters bogus"},
		{func(a Args) { a["dim"] = schedule.F(1) }, "parameter dim takes a int, got a float"},
		{func(a Args) { a["x"] = schedule.I(0) }, "parameter x takes a tensor, got a int"},
	} {
		a := Args{}
		for k, v := range args {
			a[k] = v
		}
		tc.edit(a)
		if _, err := RMSNorm.Bind(a); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// cStyle spells parameters the way a test can count them.
type cStyle struct{ index string }

func (s cStyle) Param(ctype, name string, buffer bool, slot int) string {
	if buffer {
		return fmt.Sprintf("/*%d*/ %s* %s", slot, ctype, name)
	}
	return fmt.Sprintf("/*%d*/ %s %s", slot, ctype, name)
}
func (s cStyle) IndexParams() string { return s.index }

// A signature has two C parameters per tensor (pointer, offset) and one
// per scalar, numbered in order, then the style's index parameters.
func TestSignatureRendersEveryParameter(t *testing.T) {
	for _, k := range Table {
		sig := k.Signature(cStyle{index: "uint3 lid"})
		want := 0
		for _, p := range k.Params {
			want++
			if p.Kind == TensorParam {
				want++
			}
		}
		parts := strings.Split(sig, ", ")
		if len(parts) != want+1 || parts[want] != "uint3 lid" {
			t.Errorf("%s: %d parts, want %d and the index parameters: %s", k.Name, len(parts), want+1, sig)
			continue
		}
		for i, p := range parts[:want] {
			if !strings.HasPrefix(p, fmt.Sprintf("/*%d*/ ", i)) {
				t.Errorf("%s: parameter %d is %q", k.Name, i, p)
			}
		}
	}
}

// A backend-only kernel has a portable twin with its calling convention
// and launch shape, so a target can always fall back to it.
func TestBackendKernelsHaveTwins(t *testing.T) {
	for _, k := range Table {
		if k.Backend == "" {
			continue
		}
		if k.Twin == nil || k.Twin.Backend != "" || k.Twin.Grid != k.Grid || !slices.Equal(k.Twin.Params, k.Params) {
			t.Errorf("%s (%s only) has no portable twin of the same parameters and grid", k.Name, k.Backend)
		}
	}
}
