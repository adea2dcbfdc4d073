// Command benchload is the load generator of scripts/bench-proxy.sh, so
// that the benchmark needs no tool beyond Go:
//
//	benchload load -c 32 -d 5s URL        requests per second, with keep-alive
//	benchload upload -n BYTES URL          POST BYTES made on the fly (with a
//	                                       Content-Length), MiB/s
//	benchload download URL                 GET and discard the body, MiB/s
//
// With $TOKEN set, every request carries "Authorization: Bearer $TOKEN".
// It prints one line of figures: "rps 1234 p50_ms 1.2 p99_ms 3.4 errors 0"
// or "bytes N seconds S mibps M".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchload load|upload|download [flags] URL")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	conc := fs.Int("c", 32, "load: concurrent clients")
	dur := fs.Duration("d", 5*time.Second, "load: how long")
	size := fs.Int64("n", 1<<30, "upload: bytes to send")
	fs.Parse(os.Args[2:])
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "benchload: want one URL")
		os.Exit(2)
	}
	url := fs.Arg(0)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, DisableCompression: true}}
	var err error
	switch os.Args[1] {
	case "load":
		err = load(client, url, *conc, *dur)
	case "upload":
		err = transfer(client, http.MethodPost, url, *size)
	case "download":
		err = transfer(client, http.MethodGet, url, -1)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

func newRequest(ctx context.Context, method, url string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if tok := os.Getenv("TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, nil
}

// load runs conc clients sending GETs for dur and prints the rate and the
// latency percentiles of the successful ones.
func load(client *http.Client, url string, conc int, dur time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				req, err := newRequest(context.Background(), http.MethodGet, url, nil)
				if err != nil {
					bad++
					break
				}
				resp, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			failures += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(latencies) == 0 {
		return errors.New("no request succeeded")
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))]) / float64(time.Millisecond)
	}
	fmt.Printf("rps %.0f p50_ms %.2f p99_ms %.2f errors %d\n", float64(len(latencies))/elapsed.Seconds(), pct(0.5), pct(0.99), failures)
	return nil
}

// pattern is what uploads are made of.
type pattern struct{ left int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.left))
	for i := range n {
		b[i] = byte('a' + i%26)
	}
	p.left -= int64(n)
	return n, nil
}

// transfer sends one request, an upload of size bytes (size >= 0) or a
// download, and prints the bytes moved and the rate.
func transfer(client *http.Client, method, url string, size int64) error {
	var body io.Reader
	if size >= 0 {
		body = &pattern{left: size}
	}
	req, err := newRequest(context.Background(), method, url, body)
	if err != nil {
		return err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	moved := n
	if size >= 0 {
		moved = size
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("bytes %d seconds %.3f mibps %.0f\n", moved, secs, float64(moved)/(1<<20)/secs)
	return nil
}
