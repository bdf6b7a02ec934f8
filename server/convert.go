package server

import (
	"errors"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/store"
)

// languageFromProto maps a validated Language; validation has already
// refused LANGUAGE_UNSPECIFIED and unknown values.
func languageFromProto(l helpv1.Language) store.Language {
	if l == helpv1.Language_LANGUAGE_EN {
		return store.LanguageEnglish
	}
	return store.LanguageSwedish
}

func languageToProto(l store.Language) helpv1.Language {
	if l == store.LanguageEnglish {
		return helpv1.Language_LANGUAGE_EN
	}
	return helpv1.Language_LANGUAGE_SV
}

func articleStateToProto(s store.ArticleState) helpv1.ArticleState {
	switch s {
	case store.ArticleDraft:
		return helpv1.ArticleState_ARTICLE_STATE_DRAFT
	case store.ArticlePublished:
		return helpv1.ArticleState_ARTICLE_STATE_PUBLISHED
	case store.ArticleRetired:
		return helpv1.ArticleState_ARTICLE_STATE_RETIRED
	case store.ArticleSuperseded:
		return helpv1.ArticleState_ARTICLE_STATE_SUPERSEDED
	}
	return helpv1.ArticleState_ARTICLE_STATE_UNSPECIFIED
}

func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamp(t)
}

// A Timestamp holds the years 1 to 9999; time.Time and PostgreSQL hold more.
var (
	minTimestamp = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// timestamp converts t for an answer, clamped to what a Timestamp holds: an
// invalid one fails the whole answer, and one bad row would break every list
// it is in. The database's time window keeps such rows out; this is the last
// line behind it.
func timestamp(t time.Time) *timestamppb.Timestamp {
	switch {
	case t.Before(minTimestamp):
		t = minTimestamp
	case t.After(maxTimestamp):
		t = maxTimestamp
	}
	return timestamppb.New(t)
}

func articleToProto(a store.Article) *helpv1.Article {
	p := &helpv1.Article{
		Slug:           a.Slug,
		Language:       languageToProto(a.Language),
		CategorySlug:   a.CategorySlug,
		Title:          a.Title,
		Summary:        a.Summary,
		BodyMarkdown:   a.BodyMarkdown,
		LastReviewedOn: a.LastReviewedOn.Format(time.DateOnly),
		Version:        int32(a.Version),
		State:          articleStateToProto(a.State),
		PublishedAt:    timestampOrNil(a.PublishedAt),
		UpdatedAt:      timestampOrNil(a.UpdatedAt),
	}
	for _, s := range a.Sources {
		p.Sources = append(p.Sources, &helpv1.SourceLink{Title: s.Title, Url: s.URL})
	}
	return p
}

func articlesToProto(as []store.Article) []*helpv1.Article {
	out := make([]*helpv1.Article, len(as))
	for i, a := range as {
		out[i] = articleToProto(a)
	}
	return out
}

// contentFromProto converts validated editor input.
func contentFromProto(c *helpv1.ArticleContent) (store.ArticleContent, error) {
	reviewed, err := time.Parse(time.DateOnly, c.LastReviewedOn)
	if err != nil {
		return store.ArticleContent{}, fail(connect.CodeInvalidArgument, "content.last_reviewed_on: %q is not a date (YYYY-MM-DD)", c.LastReviewedOn)
	}
	out := store.ArticleContent{
		CategorySlug:   c.CategorySlug,
		Title:          c.Title,
		Summary:        c.Summary,
		BodyMarkdown:   c.BodyMarkdown,
		LastReviewedOn: reviewed,
	}
	for _, s := range c.Sources {
		out.Sources = append(out.Sources, store.SourceLink{Title: s.Title, URL: s.Url})
	}
	return out, nil
}

var contactKinds = map[string]helpv1.ContactKind{
	"chat":  helpv1.ContactKind_CONTACT_KIND_CHAT,
	"email": helpv1.ContactKind_CONTACT_KIND_EMAIL,
	"phone": helpv1.ContactKind_CONTACT_KIND_PHONE,
	"web":   helpv1.ContactKind_CONTACT_KIND_WEB,
}

var contactPurposes = map[string]helpv1.ContactPurpose{
	"technical": helpv1.ContactPurpose_CONTACT_PURPOSE_TECHNICAL,
	"medical":   helpv1.ContactPurpose_CONTACT_PURPOSE_MEDICAL,
	"emergency": helpv1.ContactPurpose_CONTACT_PURPOSE_EMERGENCY,
}

func contactPointToProto(lang store.Language, c store.ContactPoint) *helpv1.ContactPoint {
	p := &helpv1.ContactPoint{
		Kind:                contactKinds[c.Kind],
		Purpose:             contactPurposes[c.Purpose],
		Address:             c.Address,
		FollowsSupportHours: c.FollowsSupportHours,
		Label:               c.LabelSV,
		Description:         c.DescriptionSV,
	}
	if lang == store.LanguageEnglish {
		p.Label, p.Description = c.LabelEN, c.DescriptionEN
	}
	return p
}

// notFoundAs gives a store.ErrNotFound a message that names what was missing.
func notFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return failWith(err, connect.CodeNotFound, format, args...)
	}
	return err
}
