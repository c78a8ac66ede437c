package gateway

import (
	"crypto/ed25519"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/statuslist"
	"lianzheng/internal/benchfloor"
	"lianzheng/ledger"
)

// benchToken is a realistic status list token: 131,072 2-bit entries, 1 % of them set.
func benchToken(b *testing.B) []byte {
	l, err := statuslist.New(ledger.StatusListSize, 2)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < ledger.StatusListSize/100; i++ {
		l.Set(r.IntN(ledger.StatusListSize), uint8(1+r.IntN(2)))
	}
	c, err := l.IETFTokenClaims(statuslist.IETFTokenConfig{Subject: "https://gw.example/lz/status/m/0/token", TTL: 5 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	p, _ := jws.Marshal(c)
	_, k, _ := ed25519.GenerateKey(nil)
	tok, err := jws.Sign(map[string]any{"typ": statuslist.IETFTokenType, "kid": "did:lz:m#key-1"}, p, jws.NewEd25519Signer(k))
	if err != nil {
		b.Fatal(err)
	}
	return []byte(tok)
}

// load sends n GETs of url from 8 keep-alive clients and returns the time taken.
func load(b *testing.B, c *http.Client, url string, n int) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				r, err := c.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
				if r.StatusCode != 200 {
					b.Errorf("%s: %d", url, r.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkStatusListToken: requests for a status list token from the gateway (rate limit,
// path lookup, ETag and caching headers) against net/http serving the same bytes from
// memory with no logic at all, both over loopback with 8 keep-alive clients, in the same run.
// x-floor is the gateway's time per request over the floor's: goal ≤ 2 (≥ 0.5× the
// requests/s of bare net/http).
func BenchmarkStatusListToken(b *testing.B) {
	tok := benchToken(b)
	s := fuzzServer(b)
	st := s.cur.Load()
	st.files["/status/m/0/token"] = newResource(tok, TypeStatusListJWT, 300)
	gw := httptest.NewServer(s.Handler())
	defer gw.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", TypeStatusListJWT)
		w.Write(tok)
	}))
	defer plain.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	load(b, c, plain.URL, 500) // warm both
	load(b, c, gw.URL+"/status/m/0/token", 500)
	const floorN = 4000
	floor := load(b, c, plain.URL, floorN)
	b.ResetTimer()
	took := load(b, c, gw.URL+"/status/m/0/token", b.N)
	b.StopTimer()
	floor2 := load(b, c, plain.URL, floorN) // again after: the floor is the mean of before and after
	floorNs := float64((floor + floor2).Nanoseconds()) / float64(2*floorN)
	benchfloor.Report(b, floorNs)
	b.ReportMetric(float64(b.N)/took.Seconds(), "req/s")
	b.ReportMetric(1e9/floorNs, "floor-req/s")
	b.ReportMetric(float64(len(tok)), "token-bytes")
}
