package mail

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// Webhook request headers. The region's mail system sends the raw message
// as the body and may name the envelope recipients, which it knows and the
// headers may not.
const (
	WebhookSecretHeader = "X-Nara-Mail-Secret" //nolint:gosec // A header name, not a credential.
	WebhookFromHeader   = "X-Nara-Mail-From"
	WebhookToHeader     = "X-Nara-Mail-To" // Comma-separated.
)

// WebhookHandler accepts a raw RFC 5322 message POSTed by the region's mail
// system with the shared secret in WebhookSecretHeader, and hands it to
// deliver like the SMTP server does. It answers 204 when delivered, 401 for
// a wrong secret, 413 over DefaultMaxMessageBytes, 422 for a permanent
// refusal and 503 (retry) otherwise. An empty secret refuses everything,
// so a missing setting never opens the endpoint.
func WebhookHandler(secret string, deliver DeliverFunc, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	want := sha256.Sum256([]byte(secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := sha256.Sum256([]byte(r.Header.Get(WebhookSecretHeader)))
		if secret == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			log.Warn("mail: webhook refused a wrong secret", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxMessageBytes))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.Info("mail: webhook refused a message over the limit", "limit", DefaultMaxMessageBytes)
			http.Error(w, "message too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		env := Envelope{From: r.Header.Get(WebhookFromHeader), RemoteAddr: r.RemoteAddr}
		for _, to := range strings.Split(r.Header.Get(WebhookToHeader), ",") {
			if to = strings.TrimSpace(to); to != "" {
				env.To = append(env.To, to)
			}
		}
		if err := deliver(r.Context(), env, raw); err != nil {
			if IsPermanent(err) {
				log.Info("mail: webhook refused message", "err", err)
				http.Error(w, "message refused", http.StatusUnprocessableEntity)
				return
			}
			log.Warn("mail: webhook delivery failed, sender will retry", "err", err)
			http.Error(w, "temporary failure", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
