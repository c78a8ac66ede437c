package oid4vci

import (
	"fmt"
	"testing"
	"time"

	"lianzheng/internal/ratelimit"
)

// TestNonceStoreBounded: a flood from many clients never holds more than the cap; when the
// store is full of live nonces new ones are refused (not evicted), and expired ones make room
// again; each nonce is single use (the client table's bound is internal/ratelimit's TestBounded).
func TestNonceStoreBounded(t *testing.T) {
	var s nonceStore
	now := time.Unix(1_700_000_000, 0)
	const max, ttl = 100, time.Minute
	var first string
	full := 0
	for i := range 5 * maxClients {
		n, why := s.issue(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now, ttl, max, 5, 1)
		switch why {
		case nonceOK:
			if first == "" {
				first = n
			}
		case nonceFull:
			full++
		}
		if s.size() > max {
			t.Fatalf("after %d requests: %d nonces", i+1, s.size())
		}
	}
	if full == 0 {
		t.Fatal("the store never refused")
	}
	if !s.consume(first, now) || s.consume(first, now) {
		t.Fatal("a nonce is not single use")
	}
	// a new client is refused while the client table is full, and served once buckets
	// refilled; the consumed nonce made room
	if _, why := s.issue("192.0.2.1", now, ttl, max, 5, 1); why != nonceLimited {
		t.Fatal(why)
	}
	if _, why := s.issue("192.0.2.1", now.Add(2*time.Second), ttl, max, 5, 1); why != nonceOK {
		t.Fatal(why)
	}
	// expired nonces make room; an expired nonce is not accepted
	var old string
	for n, exp := range s.live {
		if exp.Equal(now.Add(ttl)) {
			old = n
			break
		}
	}
	later := now.Add(ttl)
	if old == "" || s.consume(old, later) {
		t.Fatal("an expired nonce accepted")
	}
	for i := range max - 1 {
		if _, why := s.issue(fmt.Sprintf("192.0.2.%d", i+2), later, ttl, max, 5, 1); why != nonceOK || s.size() > max {
			t.Fatal(i, why, s.size())
		}
	}
}

// TestNonceRatePerClient: a client gets its burst, then nonces at the refill rate; another
// client is not affected; an IPv6 /64 is one client.
func TestNonceRatePerClient(t *testing.T) {
	var s nonceStore
	now := time.Unix(1_700_000_000, 0)
	for i := range 10 {
		if _, why := s.issue("198.51.100.7", now, time.Minute, 1000, 10, 2); why != nonceOK {
			t.Fatal(i, why)
		}
	}
	if _, why := s.issue("198.51.100.7", now, time.Minute, 1000, 10, 2); why != nonceLimited {
		t.Fatal(why)
	}
	if _, why := s.issue("198.51.100.8", now, time.Minute, 1000, 10, 2); why != nonceOK {
		t.Fatal(why)
	}
	if _, why := s.issue("198.51.100.7", now.Add(time.Second/2), time.Minute, 1000, 10, 2); why != nonceOK {
		t.Fatal("not refilled:", why)
	}
	for addr, want := range map[string]string{"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "2001:db8:1:2::ffff": "2001:db8:1:2::/64",
		"203.0.113.9": "203.0.113.9", "::ffff:203.0.113.9": "203.0.113.9", "not-an-ip": "not-an-ip"} {
		if got := ratelimit.ClientKey(addr); got != want {
			t.Errorf("ClientKey(%s) = %s, want %s", addr, got, want)
		}
	}
}
