package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	appv1 "github.com/nara-care/nara/gen/nara/app/v1"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
)

// gzipBomb is a gzip stream of at most size bytes that inflates to about a
// thousand times as much: members of compressed zeros, one after another.
func gzipBomb(t testing.TB, size int) (bomb []byte, inflated int64) {
	t.Helper()
	const member = 4 << 20
	var one bytes.Buffer
	zw, err := gzip.NewWriterLevel(&one, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(make([]byte, member)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for b.Len()+one.Len() <= size {
		b.Write(one.Bytes())
		inflated += member
	}
	return b.Bytes(), inflated
}

// countingInflater counts the bytes an inflater hands out.
type countingInflater struct {
	*inflater
	n *atomic.Int64
}

func (c countingInflater) Read(p []byte) (int, error) {
	n, err := c.inflater.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestGzipBombStopsAtTheLimit sends a 1 MB body that inflates to about
// 1 GiB, over Connect, gRPC and gRPC-Web, and counts what the server
// inflated: no more than the limit, answered with ResourceExhausted.
func TestGzipBombStopsAtTheLimit(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	var inflated atomic.Int64
	mux := http.NewServeMux()
	mux.Handle(appv1connect.NewAppServiceHandler(&appService{cfg: Config{Version: "test"}},
		connect.WithReadMaxBytes(limit),
		boundedGzipWith(func() connect.Decompressor { return countingInflater{newInflater(limit), &inflated} })))
	ts := httptest.NewUnstartedServer(mux)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)

	bomb, size := gzipBomb(t, limit-16)
	if size < 900<<20 {
		t.Fatalf("the bomb inflates to %d bytes, want about 1 GiB", size)
	}
	envelope := func(b []byte) []byte {
		out := make([]byte, 5, 5+len(b))
		out[0] = 1 // compressed
		binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
		return append(out, b...)
	}
	path := ts.URL + appv1connect.AppServiceGetConfigProcedure
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		// exhausted tells whether the answer says ResourceExhausted.
		exhausted func(res *http.Response, body string) bool
	}{
		{"connect", http.Header{"Content-Type": {"application/proto"}, "Content-Encoding": {"gzip"}}, bomb,
			func(res *http.Response, body string) bool {
				return res.StatusCode == http.StatusTooManyRequests && strings.Contains(body, "resource_exhausted")
			}},
		{"grpc", http.Header{"Content-Type": {"application/grpc"}, "Grpc-Encoding": {"gzip"}, "Te": {"trailers"}}, envelope(bomb),
			func(res *http.Response, _ string) bool { return res.Trailer.Get("Grpc-Status") == "8" }},
		{"grpc-web", http.Header{"Content-Type": {"application/grpc-web"}, "Grpc-Encoding": {"gzip"}}, envelope(bomb),
			func(res *http.Response, body string) bool {
				return res.Header.Get("Grpc-Status") == "8" || strings.Contains(body, "grpc-status: 8")
			}},
	}
	for _, tt := range tests {
		inflated.Store(0)
		req, err := http.NewRequest(http.MethodPost, path, bytes.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = tt.header
		start := time.Now()
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		res.Body.Close()
		took := time.Since(start)
		if !tt.exhausted(res, body.String()) {
			t.Errorf("%s: the bomb got %s %q, trailer %v; want ResourceExhausted", tt.name, res.Status, body.String(), res.Trailer)
		}
		if n := inflated.Load(); n > limit {
			t.Errorf("%s: the server inflated %d bytes, want at most the limit, %d", tt.name, n, limit)
		}
		if took > time.Second {
			t.Errorf("%s: the bomb took %v to refuse, want well under a second", tt.name, took)
		}
	}

	// Compressed requests within the limit still work, up to exactly it.
	client := appv1connect.NewAppServiceClient(ts.Client(), ts.URL, connect.WithSendGzip())
	res, err := client.GetConfig(context.Background(), &appv1.GetConfigRequest{AppVersion: "4.2.0"})
	if err != nil || res.ServerVersion != "test" {
		t.Errorf("a small compressed request got %v, %v", res, err)
	}
	exact := newInflater(5)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write([]byte("12345"))
	_ = zw.Close()
	if err := exact.Reset(&out); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(exact); err != nil || got.String() != "12345" {
		t.Errorf("a message of exactly the limit inflated to %q, %v", got.String(), err)
	}
}
