package budget

import (
	"math"
	"strings"
	"testing"
)

func TestElementsChecksOverflow(t *testing.T) {
	for _, tc := range []struct {
		dims []int64
		want int64
		ok   bool
	}{
		{nil, 1, true},
		{[]int64{3, 4, 5}, 60, true},
		{[]int64{0, math.MaxInt64}, 0, true},
		{[]int64{1 << 32, 1 << 32, 1 << 32}, 0, false},
		{[]int64{math.MaxInt64, 2}, 0, false},
		{[]int64{1 << 31, 1 << 32}, 0, false},
		{[]int64{4, -1}, 0, false},
		{[]int64{math.MaxInt64}, math.MaxInt64, true},
	} {
		got, ok := Elements(tc.dims...)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Elements(%v) = %d, %v; want %d, %v", tc.dims, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCheckNamesTheRequest(t *testing.T) {
	if Available() <= 0 {
		t.Fatalf("available %d", Available())
	}
	if err := Check("a tiny table", 1024); err != nil {
		t.Fatal(err)
	}
	err := Check("weight @huge", math.MaxInt64)
	if err == nil || !strings.Contains(err.Error(), "weight @huge needs") {
		t.Fatalf("got %v", err)
	}
}
