package numcheck

import (
	"math"
	"strings"
	"testing"
)

func TestRelL2(t *testing.T) {
	if e := RelL2([]float32{3, 4}, []float64{3, 4}); e != 0 {
		t.Fatalf("equal: %g", e)
	}
	if e := RelL2([]float32{0, 0}, []float32{3, 4}); math.Abs(e-1) > 1e-12 {
		t.Fatalf("zero vs [3 4]: %g, want 1", e)
	}
}

func TestGreedyMismatch(t *testing.T) {
	clear, tie := []float32{0, 5, 1}, []float32{0, 5, 4.99}
	rows := func(r []float32) func(int) []float32 { return func(int) []float32 { return r } }
	if err := GreedyMismatch([]int64{1, 2}, []int64{1, 2}, rows(clear), 0.05); err != nil {
		t.Fatal(err)
	}
	// A difference at a near tie ends the comparison, even if later ids differ.
	if err := GreedyMismatch([]int64{1, 7, 9}, []int64{1, 2, 3}, rows(tie), 0.05); err != nil {
		t.Fatal(err)
	}
	if err := GreedyMismatch([]int64{1, 7}, []int64{1, 2}, rows(clear), 0.05); err == nil || !strings.Contains(err.Error(), "id 1") {
		t.Fatalf("a clear disagreement passed: %v", err)
	}
	if err := GreedyMismatch([]int64{1}, []int64{1, 2}, rows(clear), 0.05); err == nil {
		t.Fatal("missing ids passed")
	}
}

// Rows are compared up to the one that chose the first differing id.
func TestComparedRows(t *testing.T) {
	for _, c := range []struct {
		got, want []int64
		rows      int
	}{
		{[]int64{1, 2, 3}, []int64{1, 2, 3}, 7},
		{[]int64{1, 9, 3}, []int64{1, 2, 3}, 6},
		{[]int64{9, 2}, []int64{1, 2}, 5},
		{[]int64{1}, []int64{1, 2}, 7},
	} {
		if got := ComparedRows(7, 5, c.got, c.want); got != c.rows {
			t.Errorf("ComparedRows(7, 5, %v, %v) = %d, want %d", c.got, c.want, got, c.rows)
		}
	}
}
