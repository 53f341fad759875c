package survey

import (
	"regexp"
	"testing"
	"testing/quick"
)

// TestDeliveryKeyIsStableAndDistinct checks the properties connectors rely
// on when they use DeliveryKey as an idempotency key: the same inputs give
// the same key (every attempt, every restart, every replica), different
// inputs give different keys, even inputs built to collide on a naive
// separator, and every key is 32 lowercase hex characters (safe in a
// header, a URL and a note).
func TestDeliveryKeyIsStableAndDistinct(t *testing.T) {
	t.Parallel()
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	stable := func(sync, source, key string, version uint8) bool {
		a := DeliveryKey(sync, source, key, int(version))
		return a == DeliveryKey(sync, source, key, int(version)) && hex32.MatchString(a)
	}
	if err := quick.Check(stable, nil); err != nil {
		t.Error(err)
	}
	distinct := func(s1, so1, k1 string, v1 uint8, s2, so2, k2 string, v2 uint8) bool {
		same := s1 == s2 && so1 == so2 && k1 == k2 && v1 == v2
		return same == (DeliveryKey(s1, so1, k1, int(v1)) == DeliveryKey(s2, so2, k2, int(v2)))
	}
	if err := quick.Check(distinct, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
	// Inputs that a key built by joining with a separator would confuse.
	collisions := [][2][4]any{
		{{"a|b", "c", "d", 1}, {"a", "b|c", "d", 1}},
		{{"s", "src", "k|1", 1}, {"s", "src", "k", 11}},
		{{"1:s", "x", "k", 1}, {"s", "1:x", "k", 1}},
		{{"", "ab", "", 1}, {"a", "b", "", 1}},
		{{"s", "src", "k", 1}, {"s", "src", "k", 2}},
	}
	for _, c := range collisions {
		a := DeliveryKey(c[0][0].(string), c[0][1].(string), c[0][2].(string), c[0][3].(int))
		b := DeliveryKey(c[1][0].(string), c[1][1].(string), c[1][2].(string), c[1][3].(int))
		if a == b {
			t.Errorf("%v and %v share the key %s", c[0], c[1], a)
		}
	}
	// A known value: the key must never change between releases, or a
	// delivery retried after an upgrade would get a new idempotency key.
	if got, want := DeliveryKey("responses-to-sheet", "samples", "resp-1001", 1), "83192ad08b97b1df45611dccf56890ec"; got != want {
		t.Errorf("DeliveryKey changed: %s, was %s", got, want)
	}
}
