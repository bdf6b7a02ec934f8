package server_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	"github.com/nara-care/nara/internal/clocktest"
)

// TestSessionEndedElsewhere ends a session the way another replica would,
// straight in the database: requests with its token stop working at once,
// although this replica keeps sessions in memory.
func TestSessionEndedElsewhere(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ids, opts := e.citizens(t, 2)
	for i := range ids {
		c := authv1connect.NewSessionServiceClient(e.client, e.url, opts[i])
		for range 3 { // the first read fills the cache, the others use it
			if _, err := c.GetMe(ctx, &authv1.GetMeRequest{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := e.store.Pool().Exec(ctx, `UPDATE session SET revoked_at = now() WHERE person_id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	ended := authv1connect.NewSessionServiceClient(e.client, e.url, opts[0])
	clocktest.Eventually(t, 5*time.Second, "the revoked session to be refused", func() bool {
		_, err := ended.GetMe(ctx, &authv1.GetMeRequest{})
		return connect.CodeOf(err) == connect.CodeUnauthenticated
	})
	if _, err := authv1connect.NewSessionServiceClient(e.client, e.url, opts[1]).GetMe(ctx, &authv1.GetMeRequest{}); err != nil {
		t.Errorf("the other session got %v, want it untouched", err)
	}
}
