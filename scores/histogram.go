package scores

import (
	"maps"
	"slices"
)

// histogram counts how many times each rating occurred. Whole-number scales
// up to maxDenseWidth points use an array indexed by rating − scale minimum;
// other scales use a map. Summing a histogram in rating order makes every
// result independent of the order observations arrived in, down to the last
// bit of floating point.
type histogram struct {
	dense  []int
	sparse map[float64]int
}

// add counts n ratings of v; scaleMin is the scale minimum.
func (h *histogram) add(v float64, n int, scaleMin float64) {
	if h.dense != nil {
		h.dense[int(v-scaleMin)] += n
		return
	}
	if h.sparse == nil {
		h.sparse = make(map[float64]int)
	}
	h.sparse[v+0] += n // +0 folds −0 into 0
}

// clone returns an independent copy of h.
func (h histogram) clone() histogram {
	return histogram{dense: slices.Clone(h.dense), sparse: maps.Clone(h.sparse)}
}

// each calls fn for every rating with a non-zero count, lowest first.
func (h histogram) each(scaleMin float64, fn func(v float64, n int)) {
	if h.dense != nil {
		for i, n := range h.dense {
			if n != 0 {
				fn(scaleMin+float64(i), n)
			}
		}
		return
	}
	for _, v := range slices.Sorted(maps.Keys(h.sparse)) {
		fn(v, h.sparse[v])
	}
}
