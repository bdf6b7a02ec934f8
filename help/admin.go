package help

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// helpAdminService lets editors keep the FAQ current. Every save is a new
// version; publishing and retiring refresh every replica's cache.
type helpAdminService struct {
	store *store.Store
	help  *helpService
}

func editor(ctx context.Context) string {
	p, _ := access.FromContext(ctx)
	return p.Subject
}

func (s *helpAdminService) CreateArticle(ctx context.Context, req *helpv1.CreateArticleRequest) (*helpv1.CreateArticleResponse, error) {
	c, err := contentFromProto(req.Content)
	if err != nil {
		return nil, err
	}
	a, err := s.store.HelpArticleCreate(ctx, req.Slug, languageFromProto(req.Language), c, editor(ctx))
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, rpc.FailWith(err, connect.CodeAlreadyExists, "an article %q already exists in that language; update it instead", req.Slug)
	case errors.Is(err, store.ErrReference):
		return nil, rpc.FailWith(err, connect.CodeInvalidArgument, "content.category_slug: there is no category %q", req.Content.CategorySlug)
	case err != nil:
		return nil, err
	}
	return &helpv1.CreateArticleResponse{Article: articleToProto(a)}, nil
}

func (s *helpAdminService) UpdateArticle(ctx context.Context, req *helpv1.UpdateArticleRequest) (*helpv1.UpdateArticleResponse, error) {
	c, err := contentFromProto(req.Content)
	if err != nil {
		return nil, err
	}
	a, err := s.store.HelpArticleUpdate(ctx, req.Slug, languageFromProto(req.Language), int(req.BaseVersion), c, editor(ctx))
	if err != nil {
		if errors.Is(err, store.ErrReference) {
			return nil, rpc.FailWith(err, connect.CodeInvalidArgument, "content.category_slug: there is no category %q", req.Content.CategorySlug)
		}
		return nil, rpc.NotFoundAs(err, "there is no article %q in that language", req.Slug)
	}
	return &helpv1.UpdateArticleResponse{Article: articleToProto(a)}, nil
}

func (s *helpAdminService) PublishArticle(ctx context.Context, req *helpv1.PublishArticleRequest) (*helpv1.PublishArticleResponse, error) {
	a, err := s.store.HelpArticlePublish(ctx, req.Slug, languageFromProto(req.Language), int(req.Version))
	if err != nil {
		return nil, rpc.NotFoundAs(err, "there is no version %d of article %q in that language", req.Version, req.Slug)
	}
	return &helpv1.PublishArticleResponse{Article: articleToProto(a)}, nil
}

func (s *helpAdminService) RetireArticle(ctx context.Context, req *helpv1.RetireArticleRequest) (*helpv1.RetireArticleResponse, error) {
	a, err := s.store.HelpArticleRetire(ctx, req.Slug, languageFromProto(req.Language))
	if err != nil {
		return nil, rpc.NotFoundAs(err, "there is no article %q in that language", req.Slug)
	}
	return &helpv1.RetireArticleResponse{Article: articleToProto(a)}, nil
}

func (s *helpAdminService) ListArticleVersions(ctx context.Context, req *helpv1.ListArticleVersionsRequest) (*helpv1.ListArticleVersionsResponse, error) {
	vs, err := s.store.HelpArticleVersions(ctx, req.Slug, languageFromProto(req.Language))
	if err != nil {
		return nil, rpc.NotFoundAs(err, "there is no article %q in that language", req.Slug)
	}
	return &helpv1.ListArticleVersionsResponse{Versions: articlesToProto(vs)}, nil
}

func (s *helpAdminService) ListAllArticles(ctx context.Context, req *helpv1.ListAllArticlesRequest) (*helpv1.ListAllArticlesResponse, error) {
	as, err := s.store.HelpArticleListAll(ctx, languageFromProto(req.Language))
	if err != nil {
		return nil, err
	}
	return &helpv1.ListAllArticlesResponse{Articles: articlesToProto(as)}, nil
}
