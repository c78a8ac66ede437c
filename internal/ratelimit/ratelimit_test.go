package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestAllow(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(60, 3).WithClock(func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("burst request %d refused", i)
		}
	}
	if ok, wait := l.Allow("a"); ok || wait <= 0 || wait > time.Second {
		t.Fatalf("over burst: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another client shares the bucket")
	}
	now = now.Add(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("not refilled after a second at 60/min")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("refilled more than one token in a second")
	}
}

// TestBounded: a flood from many addresses keeps at most MaxClients buckets, and lets no
// new client in until buckets refill.
func TestBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(60, 2).WithClock(func() time.Time { return now })
	for i := 0; i < MaxClients+1000; i++ {
		l.Allow(strconv.Itoa(i))
	}
	if n := len(l.m); n > MaxClients {
		t.Fatalf("%d buckets", n)
	}
	if ok, _ := l.Allow("new"); ok {
		t.Fatal("a new client let in while the table is full of live buckets")
	}
	now = now.Add(3 * time.Second) // every bucket has refilled: forgotten, room again
	if ok, _ := l.Allow("new"); !ok || len(l.m) != 1 {
		t.Fatalf("not swept: %d", len(l.m))
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{"192.0.2.7": "192.0.2.7", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"::ffff:192.0.2.7": "192.0.2.7", "not-an-ip": "not-an-ip"} {
		if got := ClientKey(addr); got != want {
			t.Errorf("ClientKey(%s) = %s, want %s", addr, got, want)
		}
	}
}

func TestHandler(t *testing.T) {
	l := New(1, 1)
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }),
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) })
	codes := []int{}
	for i := 0; i < 2; i++ {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.1:5000"
		r.Header.Set("X-Forwarded-For", strconv.Itoa(i)) // ignored
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
		if w.Code == 429 && w.Header().Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[0] != 204 || codes[1] != 429 {
		t.Fatal(codes)
	}
}
