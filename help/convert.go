package help

import (
	"time"

	"connectrpc.com/connect"

	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/rpc"
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
		PublishedAt:    rpc.TimestampOrNil(a.PublishedAt),
		UpdatedAt:      rpc.TimestampOrNil(a.UpdatedAt),
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
		return store.ArticleContent{}, rpc.Fail(connect.CodeInvalidArgument, "content.last_reviewed_on: %q is not a date (YYYY-MM-DD)", c.LastReviewedOn)
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
