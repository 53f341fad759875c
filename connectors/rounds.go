package connectors

// Rounds splits items so that no round holds two items with the same key:
// round k holds the k-th item of every key, in the items' order. Applying
// the rounds one after another applies each key's items in order, which is
// what batch APIs that refuse a key named twice in one request need.
func Rounds[T any, K comparable](items []T, key func(T) K) [][]T {
	var out [][]T
	seen := map[K]int{}
	for _, it := range items {
		k := key(it)
		n := seen[k]
		seen[k] = n + 1
		if n == len(out) {
			out = append(out, nil)
		}
		out[n] = append(out[n], it)
	}
	return out
}
