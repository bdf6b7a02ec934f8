package fcm

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// The Admin SDK retries a 503 and any transport error by itself, up to four times over several
// seconds (longer when FCM sends Retry-After), sleeping inside the caller's send; its retry
// policy cannot be configured (firebase-admin-go issue 476). A sender that sleeps holds a send
// slot that healthy tokens could use, so the Sender's HTTP client stops those retries and hands
// the answer to the caller, whose queue retries with back-off instead. The SDK gives up at once
// when a 503's Retry-After exceeds its two-minute cap, so noRetry gives every 503 a longer one,
// keeping the server's own value in headerRetryAfter, and turns a transport error into a 503 of
// FCM's shape marked with headerTransport.
const (
	headerNoRetry    = "X-Nara-No-Sdk-Retry"
	headerRetryAfter = "X-Nara-Retry-After"
	headerTransport  = "X-Nara-Transport-Error"
	// sdkGivesUp is a Retry-After beyond the SDK's cap: a day.
	sdkGivesUp = "86400"
)

// noRetry is the RoundTripper under the SDK that keeps it from retrying.
type noRetry struct{ next http.RoundTripper }

func (t noRetry) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		if r.Context().Err() != nil {
			return nil, err // the SDK stops at once on a done context
		}
		body, _ := json.Marshal(map[string]any{"error": map[string]any{
			"code": http.StatusServiceUnavailable, "status": "UNAVAILABLE", "message": err.Error(),
		}})
		return &http.Response{
			Status: "503 Service Unavailable", StatusCode: http.StatusServiceUnavailable,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{
				"Content-Type": {"application/json"}, "Retry-After": {sdkGivesUp},
				headerNoRetry: {"1"}, headerTransport: {"1"},
			},
			Body: io.NopCloser(strings.NewReader(string(body))), ContentLength: int64(len(body)), Request: r,
		}, nil
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		if v := resp.Header.Get("Retry-After"); v != "" {
			resp.Header.Set(headerRetryAfter, v)
		}
		resp.Header.Set("Retry-After", sdkGivesUp)
		resp.Header.Set(headerNoRetry, "1")
	}
	return resp, nil
}

// serverRetryAfter is the Retry-After the server sent with header, undoing noRetry's change.
func serverRetryAfter(header http.Header) string {
	if header.Get(headerNoRetry) != "" {
		return header.Get(headerRetryAfter)
	}
	return header.Get("Retry-After")
}
