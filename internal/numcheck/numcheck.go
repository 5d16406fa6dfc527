// Package numcheck holds the error measures the numerical tests share:
// relative L2 error between two results, and whether two greedy runs agree
// wherever the reference's choice was clear.
package numcheck

import (
	"fmt"
	"math"
	"slices"
)

// RelL2 is ||got - want|| / ||want||, accumulated in float64.
func RelL2[G, W float32 | float64](got []G, want []W) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

// Margin is the gap between the two largest values: how clear an argmax is.
func Margin(xs []float32) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return float64(s[len(s)-1] - s[len(s)-2])
}

// GreedyMismatch compares generated ids with the reference's. Where they
// first differ, the reference's choice must have been a near tie: its
// logits row for that step (row(i)) has a top-2 margin of at most
// minMargin. After the first difference the runs feed back different
// tokens, so nothing later is compared.
func GreedyMismatch(got, want []int64, row func(i int) []float32, minMargin float64) error {
	for i := range want {
		if i < len(got) && got[i] == want[i] {
			continue
		}
		if i >= len(got) {
			return fmt.Errorf("%d ids, want %d", len(got), len(want))
		}
		if m := Margin(row(i)); m > minMargin {
			return fmt.Errorf("id %d: %d, reference %d with a top-2 margin of %.3g: %v vs %v", i, got[i], want[i], m, got, want)
		}
		return nil
	}
	return nil
}

// ComparedRows is how many of rows logits rows (prompt rows, then one per
// generated id fed back) two greedy runs of the same prompt share inputs
// for: all of them, or up to the row that chose the first id the runs
// disagree on (GreedyMismatch judges that choice); later rows follow
// different tokens.
func ComparedRows(rows, prompt int, got, want []int64) int {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return min(rows, prompt+i)
		}
	}
	return rows
}
