package help

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"google.golang.org/protobuf/types/known/timestamppb"

	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/store"
)

// notices are support's service notices in force, as the FAQ shows them.
// They are read on every FAQ answer, so the replica keeps them and drops
// them at each publication or withdrawal anywhere (store.TopicServiceNotice
// on the change feed); while the feed is not live nothing is kept.
type notices struct {
	store *store.Store

	mu   sync.Mutex
	live bool
	// gen counts drops, so that a read that raced one is not kept.
	gen  uint64
	kept *noticeList
}

type noticeList struct {
	list []*helpv1.ServiceNotice
	// tag names the set in force ("" for none), for content versions.
	tag string
}

// Follow turns keeping on or off; what was kept is dropped either way.
func (n *notices) Follow(live bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.live, n.kept = live, nil
	n.gen++
}

// Changed drops what was kept: a notice was published or withdrawn.
func (n *notices) Changed(string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.kept = nil
	n.gen++
}

// get returns the notices in force, newest first.
func (n *notices) get(ctx context.Context) (*noticeList, error) {
	n.mu.Lock()
	kept, gen := n.kept, n.gen
	n.mu.Unlock()
	if kept != nil {
		return kept, nil
	}
	ns, err := n.store.ServiceNoticeListActive(ctx)
	if err != nil {
		return nil, err
	}
	out := &noticeList{}
	h := sha256.New()
	for _, s := range ns {
		out.list = append(out.list, &helpv1.ServiceNotice{Id: s.ID, Title: s.Title, Body: s.Body, PublishTime: timestamppb.New(s.PublishedAt)})
		h.Write([]byte(s.ID))
	}
	if len(ns) > 0 {
		out.tag = hex.EncodeToString(h.Sum(nil))[:12]
	}
	n.mu.Lock()
	if n.live && n.gen == gen {
		n.kept = out
	}
	n.mu.Unlock()
	return out, nil
}
