package help

import (
	"time"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// Config sets how help content is served.
type Config struct {
	// SearchCacheSize is how many search answers are kept per replica; a
	// negative size keeps none. Default 10 000.
	SearchCacheSize int
}

// Deps are what help content needs. All are required but Now.
type Deps struct {
	Store *store.Store
	// Hub delivers every replica's publications, so the answers this one
	// keeps are dropped the moment the content changes anywhere.
	Hub *changefeed.Hub
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Content is the help content: the public FAQ and support status
// (HelpService) and its editing (HelpAdminService). It is a rpc.Domain.
type Content struct {
	public *helpService
	admin  *helpAdminService
}

// New returns the help content, following the hub's help changes.
func New(cfg Config, d Deps) (*Content, error) {
	if cfg.SearchCacheSize == 0 {
		cfg.SearchCacheSize = 10_000
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	// Support hours are kept in Swedish local time; the binary embeds the
	// time zone database.
	zone, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return nil, err
	}
	h := newHelpService(d.Store, cfg.SearchCacheSize, zone, d.Now)
	d.Hub.Follow(store.TopicHelp, h)
	d.Hub.Follow(store.TopicServiceNotice, h.notices)
	return &Content{public: h, admin: &helpAdminService{store: d.Store, help: h}}, nil
}

// Mount serves both services: reading is public, before login; editing is
// for support's second line and administrators.
func (c *Content) Mount(m *rpc.Mount) error {
	opts := m.Options()
	path, h := helpv1connect.NewHelpServiceHandler(c.public, opts)
	m.Service(helpv1connect.HelpServiceName, path, h)
	m.Public(
		helpv1connect.HelpServiceListCategoriesProcedure,
		helpv1connect.HelpServiceListArticlesProcedure,
		helpv1connect.HelpServiceGetArticleProcedure,
		helpv1connect.HelpServiceSearchArticlesProcedure,
		helpv1connect.HelpServiceGetSupportStatusProcedure,
	)
	path, h = helpv1connect.NewHelpAdminServiceHandler(c.admin, opts)
	m.Service(helpv1connect.HelpAdminServiceName, path, h)
	m.Roles([]access.Role{access.RoleSupportSecondLine, access.RoleRegionAdmin, access.RoleUnitAdmin},
		helpv1connect.HelpAdminServiceCreateArticleProcedure,
		helpv1connect.HelpAdminServiceUpdateArticleProcedure,
		helpv1connect.HelpAdminServicePublishArticleProcedure,
		helpv1connect.HelpAdminServiceRetireArticleProcedure,
		helpv1connect.HelpAdminServiceListArticleVersionsProcedure,
		helpv1connect.HelpAdminServiceListAllArticlesProcedure,
	)
	return nil
}
