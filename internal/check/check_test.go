package check

import (
	"bytes"
	"testing"

	"github.com/irc-compiler/irc/internal/testmodel"
)

// A correct backend diverges nowhere on any tiny preset, and every node
// with a launch is traced in both graphs.
func TestPresetsDoNotDiverge(t *testing.T) {
	for _, p := range testmodel.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			s := compile(t, p.Name, nil)
			rep := s.check(t, nil)
			var buf bytes.Buffer
			rep.WriteText(&buf, true)
			if rep.First >= 0 {
				t.Fatalf("a correct backend diverged:\n%s", buf.String())
			}
			g, at := growthOf(rep)
			t.Logf("largest growth %.2f at %+v", g, at)
		})
	}
}

func growthOf(rep *Report) (float64, Row) {
	var worst float64
	var at Row
	for _, r := range rep.Rows {
		if r.InputErr > 0 && r.Err/r.InputErr > worst && r.Err > 1e-3 {
			worst, at = r.Err/r.InputErr, r
		}
	}
	return worst, at
}
