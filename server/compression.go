package server

import (
	"compress/gzip"
	"fmt"
	"io"

	"connectrpc.com/connect"
)

// boundedGzip accepts gzip-compressed requests, but inflates a message only
// up to the request limit. Connect's own gzip decompressor stops at the
// limit too, but then inflates the rest of an oversized message to report
// its size: a 1 MB body can make the server inflate 1 GiB before it says
// no. This one fails as soon as the limit is passed, for Connect unary
// bodies, streaming envelopes and gRPC messages alike.
func boundedGzip(limit int64) connect.HandlerOption {
	return boundedGzipWith(func() connect.Decompressor { return newInflater(limit) })
}

// boundedGzipWith registers newDecompressor as the gzip decompressor, with
// the standard library's compressor.
func boundedGzipWith(newDecompressor func() connect.Decompressor) connect.HandlerOption {
	return connect.WithCompression("gzip", newDecompressor,
		func() connect.Compressor { return gzip.NewWriter(io.Discard) })
}

// inflater is a gzip reader that yields at most limit bytes of one message.
type inflater struct {
	gz    gzip.Reader
	limit int64
	left  int64
}

func newInflater(limit int64) *inflater {
	return &inflater{limit: limit, left: limit}
}

func (d *inflater) Read(p []byte) (int, error) {
	if d.left <= 0 {
		// At the limit a message must end here. If it does not, this error
		// also ends Connect's attempt to measure the rest.
		var b [1]byte
		n, err := io.ReadFull(&d.gz, b[:])
		if n == 0 {
			return 0, err // io.EOF: the message ends at the limit
		}
		return 0, connect.NewError(connect.CodeResourceExhausted,
			fmt.Errorf("the request inflates to more than %d bytes; send less", d.limit))
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.gz.Read(p)
	d.left -= int64(n)
	return n, err
}

func (d *inflater) Close() error { return d.gz.Close() }

// Reset prepares d for the next message, with the whole limit again.
func (d *inflater) Reset(r io.Reader) error {
	d.left = d.limit
	return d.gz.Reset(r)
}
