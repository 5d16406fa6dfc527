package runner

import (
	"math"
	"slices"
)

// mix32 is murmur3's 32-bit finalizer, as sample.c.in's mix32.
func mix32(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x85ebca6b
	x ^= x >> 13
	x *= 0xc2b2ae35
	x ^= x >> 16
	return x
}

// gumbelKey is the hash of a seed and a step that the noise of every token
// of that step derives from (argmax_gumbel_f32's key).
func gumbelKey(seed uint64, step int) uint32 {
	return mix32(mix32(mix32(uint32(seed>>32))^uint32(seed)) ^ uint32(step))
}

// GumbelNoise is the Gumbel(0, 1) noise that sampling adds to token id's
// scaled logit at a step: a function of (seed, step, id) only, so a run is
// reproducible and the device (sample.c.in's gumbel) computes the same
// value, but for the rounding of its float logarithms. u is 23 hash bits
// and a half, scaled into (0, 1) strictly and exactly.
func GumbelNoise(seed uint64, step, id int) float32 {
	return gumbel(gumbelKey(seed, step), id)
}

func gumbel(key uint32, id int) float32 {
	h := mix32(key ^ mix32(uint32(id)))
	u := (float32(h>>9) + 0.5) * (1.0 / 8388608)
	return float32(-math.Log(-math.Log(float64(u))))
}

// GumbelArgmax is the host's Gumbel-max sample of row: the argmax (the
// first on ties) of row / temperature + GumbelNoise, in float32 as the
// device computes it. Its id is distributed as softmax(row / temperature).
func GumbelArgmax(row []float32, temperature float32, seed uint64, step int) int32 {
	key := gumbelKey(seed, step)
	best, at := float32(0), int32(-1)
	for i, x := range row {
		y := x/temperature + gumbel(key, i)
		if at < 0 || y > best {
			best, at = y, int32(i)
		}
	}
	return at
}

// TopKRow is a host top-k of row, the oracle of the device's: the k
// largest values with their ids, largest first and the lower id first on
// ties (a stable sort), fewer when the row is shorter.
func TopKRow(row []float32, k int) ([]int32, []float32) {
	order := make([]int32, len(row))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		switch {
		case row[a] > row[b]:
			return -1
		case row[a] < row[b]:
			return 1
		}
		return 0
	})
	order = order[:min(k, len(order))]
	vals := make([]float32, len(order))
	for i, id := range order {
		vals[i] = row[id]
	}
	return order, vals
}
