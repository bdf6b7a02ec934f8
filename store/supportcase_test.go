package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestSupportCaseThread opens a case once however often it is retried,
// appends events in order from their cursor, and tells watchers of each
// change in the change's transaction.
func TestSupportCaseThread(t *testing.T) {
	t.Parallel()
	var changes []store.Change
	st := store.New(storetest.NewPool(t), store.Options{Committed: func(cs []store.Change, _ uint64) { changes = append(changes, cs...) }})
	ctx := context.Background()
	p, err := st.PersonUpsert(ctx, []byte("hash-support"), []byte("sealed"), "Anna", "Provsson", time.Date(1985, 7, 9, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	c := store.SupportCase{PersonID: p.ID, OpenKey: "open-key-0000001", OwnerScope: "person:" + p.ID, Category: "technical",
		Subject: "BankID", FirstAnswerDue: time.Now().Add(time.Hour)}
	first := store.SupportEvent{Kind: "message", Party: "citizen", Body: "BankID startar inte"}
	opened, replay, err := st.SupportCaseOpen(ctx, c, first)
	if err != nil || replay {
		t.Fatalf("SupportCaseOpen got %v, replay %v", err, replay)
	}
	again, replay, err := st.SupportCaseOpen(ctx, c, first)
	if err != nil || !replay || again.ID != opened.ID {
		t.Fatalf("retried SupportCaseOpen got %v (%s, replay %v), want the first case %s", err, again.ID, replay, opened.ID)
	}
	if opened.CitizenGivenName != "Anna" || opened.LastSeq != 1 || opened.State != "new" {
		t.Errorf("opened case got %+v", opened)
	}
	changes = nil
	updated, events, err := st.SupportCaseUpdate(ctx, opened.ID, func(_ *store.Tx, c *store.SupportCase) ([]store.SupportEvent, error) {
		c.State, c.AssigneeHSAID, c.AssigneeName = "open", "SE-LENA", "Lena"
		return []store.SupportEvent{
			{Kind: "state", Party: "support", State: "open", Line: "first", AssigneeName: "Lena"},
			{Kind: "message", Party: "support", AuthorName: "Lena", Body: "Hej!", IdempotencyKey: "reply-key-000001"},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.LastSeq != 3 || events[1].Seq != 3 || updated.State != "open" {
		t.Errorf("updated got seq %d (events %+v), state %s", updated.LastSeq, events, updated.State)
	}
	if len(changes) != 2 || changes[0] != (store.Change{Topic: store.TopicSupportCase, Key: opened.ID}) ||
		changes[1] != (store.Change{Topic: store.TopicSupportQueue, Key: "first"}) {
		t.Errorf("changes got %v", changes)
	}
	after, err := st.SupportEventList(ctx, opened.ID, 1, 10)
	if err != nil || len(after) != 2 || after[0].Seq != 2 || after[1].Body != "Hej!" || after[0].AssigneeName != "Lena" {
		t.Fatalf("events after 1 got %+v, %v", after, err)
	}
	// A failed change writes nothing and tells no one.
	changes = nil
	boom := errors.New("boom")
	if _, _, err := st.SupportCaseUpdate(ctx, opened.ID, func(*store.Tx, *store.SupportCase) ([]store.SupportEvent, error) {
		return nil, boom
	}); !errors.Is(err, boom) || len(changes) != 0 {
		t.Errorf("failed update got %v, changes %v", err, changes)
	}
	if _, _, err := st.SupportCaseUpdate(ctx, "00000000-0000-0000-0000-000000000000", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing case got %v, want ErrNotFound", err)
	}
}

// TestSupportAnswerVersions keeps every version, refuses an edit of an
// outdated one and finds answers by Swedish word stems and prefixes.
func TestSupportAnswerVersions(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	a, err := st.SupportAnswerSave(ctx, store.SupportAnswer{Category: "technical", Title: "BankID fungerar inte",
		Body: "Hej {förnamn}! Starta om BankID-appen.", AuthorHSAID: "SE-PER", AuthorName: "Per"}, 0)
	if err != nil || a.Version != 1 {
		t.Fatalf("save got %+v, %v", a, err)
	}
	a.Body = "Hej {förnamn}! Uppdatera BankID-appen."
	b, err := st.SupportAnswerSave(ctx, a, 1)
	if err != nil || b.Version != 2 {
		t.Fatalf("second save got %+v, %v", b, err)
	}
	if _, err := st.SupportAnswerSave(ctx, a, 1); !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("save from version 1 again got %v, want ErrPrecondition", err)
	}
	old, err := st.SupportAnswerGet(ctx, a.ID, 1)
	if err != nil || old.Body != "Hej {förnamn}! Starta om BankID-appen." {
		t.Errorf("version 1 got %+v, %v", old, err)
	}
	for _, q := range []string{"bankid", "fungerade", "uppdater"} {
		hits, err := st.SupportAnswerSearch(ctx, q, "", 10)
		if err != nil || len(hits) != 1 || hits[0].Version != 2 {
			t.Errorf("SupportAnswerSearch(%q) got %+v, %v, want the current version", q, hits, err)
		}
	}
	if hits, err := st.SupportAnswerSearch(ctx, "vaccination", "", 10); err != nil || len(hits) != 0 {
		t.Errorf("SupportAnswerSearch(vaccination) got %+v, %v, want nothing", hits, err)
	}
}

// TestServiceNoticeNamesAMalformedDeviation: a deviation id that is no UUID
// is a reference to nothing, never a database failure.
func TestServiceNoticeNamesAMalformedDeviation(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, err := st.ServiceNoticePublish(context.Background(), store.ServiceNotice{
		Title: "0", DeviationID: "000000000000000000000000000000000000", PublishedBy: "SE2321000016-S002",
	})
	if !errors.Is(err, store.ErrReference) {
		t.Errorf("ServiceNoticePublish with a malformed deviation id got %v, want ErrReference", err)
	}
}
