package backendtest

import (
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/passes"
)

// Compile runs b's default pipeline over m (in place) and lowers it for
// b's target, as irc compile --target b does: what tests of the schedule,
// the roofline and the generated sources start from.
func Compile(tb testing.TB, m *ir.Model, b *backend.Backend) *codegen.Lowered {
	tb.Helper()
	pipe, err := passes.DefaultPipeline(b.Name)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := passes.Run(m, &passes.Options{Pipeline: pipe, Target: b.Name}); err != nil {
		tb.Fatal(err)
	}
	low, err := codegen.Lower(m, b.Target)
	if err != nil {
		tb.Fatal(err)
	}
	return low
}
