// Command nara runs the Nära backend.
//
//	nara serve     run the API server (and, without DATABASE_URL, its own PostgreSQL)
//	nara migrate   bring the database schema up to date and exit
//	nara version   print the build version
//
// Every setting is an environment variable; a flag of the same name in kebab
// case overrides it (NARA_ADDR → --addr). Behind a load balancer, set
// NARA_TRUSTED_PROXIES to its CIDRs so that BankID and the rate limits see
// the citizen's address, not the balancer's; NARA_BANKID_VISIBLE_TEXT names
// the service in the BankID app (default "Logga in i Nära").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // support hours are kept in Europe/Stockholm on any host

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/nara-care/nara/appointment"
	"github.com/nara-care/nara/attachment"
	"github.com/nara-care/nara/auth"
	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/demo"
	"github.com/nara-care/nara/help"
	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/bankid/bankidsim"
	"github.com/nara-care/nara/identity/oidc"
	"github.com/nara-care/nara/identity/oidcdev"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/secret"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/jobs"
	"github.com/nara-care/nara/mail"
	"github.com/nara-care/nara/mail/mailfake"
	"github.com/nara-care/nara/patient"
	"github.com/nara-care/nara/pgcluster"
	"github.com/nara-care/nara/push/device"
	"github.com/nara-care/nara/push/fcm"
	"github.com/nara-care/nara/push/fcmfake"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/server"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/support"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "nara:", err)
		os.Exit(1)
	}
}

// settings are the values every command reads.
type settings struct {
	addr        string
	dataDir     string
	databaseURL string
	demo        bool
	logLevel    string
	searchCache int
	listCache   int
	secretKey   string

	loginStartsPerIPPerMinute, loginsPerPersonPerHour int

	bankIDURL, bankIDCA, bankIDCert, bankIDKey string
	bankIDSimAddr                              string

	oidcIssuer, oidcClientID, oidcClientSecret, oidcRedirectURL string
	oidcDevAddr                                                 string

	fcmCredentials, fcmEndpoint, fcmFakeAddr string

	// smtpURL is the relay support's replies go through; empty starts the
	// local mail stand-in. smtpAddr is where inbound support mail is taken.
	smtpURL, smtpAddr, mailFakeAddr string
	// supportMailDomain is the domain of support's addresses.
	supportMailDomain string
	mailWebhookSecret string
	// attachmentS3URL is the bucket support's attachments go to; empty
	// keeps them in PostgreSQL.
	attachmentS3URL string

	corsOrigins string
	// trustedProxies are CIDRs whose forwarding headers name the client.
	trustedProxies string
	// bankIDVisibleText is what the BankID app shows with each order.
	bankIDVisibleText string
	publicURL         string
	// metricsAddr is where /metrics listens, apart from the API; empty: off.
	metricsAddr string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// splitList reads a comma-separated setting, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func parseSettings(cmd string, args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("nara "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.addr, "addr", env("NARA_ADDR", "127.0.0.1:8080"), "listen address (NARA_ADDR)")
	fs.StringVar(&s.dataDir, "data-dir", env("NARA_DATA_DIR", ".nara"), "folder for the embedded PostgreSQL and other local state (NARA_DATA_DIR)")
	fs.StringVar(&s.databaseURL, "database-url", env("DATABASE_URL", ""), "an existing PostgreSQL; empty starts an embedded cluster in the data folder (DATABASE_URL)")
	fs.BoolVar(&s.demo, "demo", env("NARA_DEMO", "") == "true", "load demo data: a region's care units and the FAQ in Swedish and English (NARA_DEMO=true)")
	fs.StringVar(&s.logLevel, "log-level", env("NARA_LOG_LEVEL", "info"), "debug, info, warn or error (NARA_LOG_LEVEL)")
	fs.IntVar(&s.searchCache, "search-cache-size", envInt("NARA_SEARCH_CACHE_SIZE", 10_000), "FAQ search results cached per replica; -1 disables (NARA_SEARCH_CACHE_SIZE)")
	fs.IntVar(&s.listCache, "list-cache-size", envInt("NARA_LIST_CACHE_SIZE", 100_000), "citizens' appointment lists cached per replica; -1 disables (NARA_LIST_CACHE_SIZE)")
	fs.IntVar(&s.loginStartsPerIPPerMinute, "login-starts-per-ip-per-minute", envInt("NARA_LOGIN_STARTS_PER_IP_PER_MINUTE", 0), "e-ID login starts allowed per client address and minute; 0 takes the default, 30 (NARA_LOGIN_STARTS_PER_IP_PER_MINUTE)")
	fs.IntVar(&s.loginsPerPersonPerHour, "logins-per-person-per-hour", envInt("NARA_LOGINS_PER_PERSON_PER_HOUR", 0), "completed logins allowed per person and hour; 0 takes the default, 20 (NARA_LOGINS_PER_PERSON_PER_HOUR)")
	fs.StringVar(&s.secretKey, "secret-key", env("NARA_SECRET_KEY", ""), "base64 secret (≥ 32 bytes) for access tokens and personal-number protection; empty uses DATA_DIR/secret.key (NARA_SECRET_KEY)")
	fs.StringVar(&s.bankIDURL, "bankid-url", env("BANKID_URL", ""), "BankID RP API v6.0 base URL ending in /rp/v6.0; empty starts the local simulator (BANKID_URL)")
	fs.StringVar(&s.bankIDCA, "bankid-ca-file", env("BANKID_CA_FILE", ""), "CA certificate (PEM) of the BankID server (BANKID_CA_FILE)")
	fs.StringVar(&s.bankIDCert, "bankid-client-cert", env("BANKID_CLIENT_CERT", ""), "RP client certificate (PEM) (BANKID_CLIENT_CERT)")
	fs.StringVar(&s.bankIDKey, "bankid-client-key", env("BANKID_CLIENT_KEY", ""), "RP client key (PEM) (BANKID_CLIENT_KEY)")
	fs.StringVar(&s.bankIDSimAddr, "bankid-sim-addr", env("NARA_BANKID_SIM_ADDR", "127.0.0.1:8081"), "where the local BankID simulator's user page listens (NARA_BANKID_SIM_ADDR)")
	fs.StringVar(&s.oidcIssuer, "oidc-issuer", env("OIDC_ISSUER", ""), "the staff identity provider's issuer URL; empty starts the local OIDC provider (OIDC_ISSUER)")
	fs.StringVar(&s.oidcClientID, "oidc-client-id", env("OIDC_CLIENT_ID", "nara"), "this server's client id at the identity provider (OIDC_CLIENT_ID)")
	fs.StringVar(&s.oidcClientSecret, "oidc-client-secret", env("OIDC_CLIENT_SECRET", ""), "this server's client secret at the identity provider (OIDC_CLIENT_SECRET)")
	fs.StringVar(&s.oidcRedirectURL, "oidc-redirect-url", env("OIDC_REDIRECT_URL", ""), "where the identity provider sends the browser back; default the server's own /auth/staff/callback page at the public URL (OIDC_REDIRECT_URL)")
	fs.StringVar(&s.oidcDevAddr, "oidc-dev-addr", env("NARA_OIDC_DEV_ADDR", "127.0.0.1:8082"), "where the local OIDC provider listens (NARA_OIDC_DEV_ADDR)")
	fs.StringVar(&s.publicURL, "public-url", env("NARA_PUBLIC_URL", ""), "the server's URL as apps, browsers and calendars reach it, for the calendar feed links and the staff login page; default http:// and the listen address (NARA_PUBLIC_URL)")
	fs.StringVar(&s.metricsAddr, "metrics-addr", env("NARA_METRICS_ADDR", "127.0.0.1:9464"), "where Prometheus metrics are served at /metrics, apart from the public API; default loopback only, on the port of Prometheus exporters (9090 is Prometheus's own); empty turns them off (NARA_METRICS_ADDR)")
	fs.StringVar(&s.corsOrigins, "cors-origins", env("NARA_CORS_ORIGINS", ""), "comma-separated web origins browsers may call the API from, or * (NARA_CORS_ORIGINS)")
	fs.StringVar(&s.trustedProxies, "trusted-proxies", env("NARA_TRUSTED_PROXIES", ""), "comma-separated CIDRs of the load balancers whose X-Forwarded-For or Forwarded header names the client's address; empty: the client is the TCP peer (NARA_TRUSTED_PROXIES)")
	fs.StringVar(&s.bankIDVisibleText, "bankid-visible-text", env("NARA_BANKID_VISIBLE_TEXT", ""), "what the BankID app shows with every login (simpleMarkdownV1, at most 1 125 bytes), e.g. the region's name; default \"Logga in i Nära\" (NARA_BANKID_VISIBLE_TEXT)")
	fs.StringVar(&s.fcmCredentials, "fcm-credentials-file", env("FCM_CREDENTIALS_FILE", ""), "Firebase service-account JSON; empty starts the local FCM stand-in (FCM_CREDENTIALS_FILE)")
	fs.StringVar(&s.fcmEndpoint, "fcm-endpoint", env("FCM_ENDPOINT", ""), "FCM HTTP v1 base URL up to /v1; default Google's (FCM_ENDPOINT)")
	fs.StringVar(&s.fcmFakeAddr, "fcm-fake-addr", env("NARA_FCM_FAKE_ADDR", "127.0.0.1:8083"), "where the local FCM stand-in listens (NARA_FCM_FAKE_ADDR)")
	fs.StringVar(&s.smtpURL, "smtp-url", env("SMTP_URL", ""), "the relay support's e-mail replies go through, smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; empty starts the local mail stand-in (SMTP_URL)")
	fs.StringVar(&s.smtpAddr, "smtp-addr", env("NARA_SMTP_ADDR", ""), "where the inbound SMTP server takes mail to the support domain; empty: off, or "+localInboundAddr+" when the local mail stand-in runs (NARA_SMTP_ADDR)")
	fs.StringVar(&s.mailFakeAddr, "mail-fake-addr", env("NARA_MAIL_FAKE_ADDR", "127.0.0.1:8084"), "where the local mail stand-in's page listens (NARA_MAIL_FAKE_ADDR)")
	fs.StringVar(&s.attachmentS3URL, "attachment-s3-url", env("NARA_ATTACHMENT_S3_URL", ""), "the S3-compatible bucket support's attachments are kept in, https://KEY:SECRET@host/bucket/prefix?region=…; empty keeps them in PostgreSQL (NARA_ATTACHMENT_S3_URL)")
	fs.StringVar(&s.mailWebhookSecret, "mail-webhook-secret", env("NARA_MAIL_WEBHOOK_SECRET", ""), "the shared secret with which the region's mail system may POST inbound mail to /mail/inbound instead of SMTP; empty: that endpoint is off (NARA_MAIL_WEBHOOK_SECRET)")
	fs.StringVar(&s.supportMailDomain, "support-mail-domain", env("NARA_SUPPORT_MAIL_DOMAIN", "support.nara.localhost"), "the domain of support's e-mail: replies come from support@ it, and inbound mail is taken for it only (NARA_SUPPORT_MAIL_DOMAIN)")
	err := fs.Parse(args)
	if err == nil && s.publicURL == "" {
		s.publicURL = "http://" + s.addr
	}
	if err == nil && s.oidcRedirectURL == "" {
		s.oidcRedirectURL = strings.TrimRight(s.publicURL, "/") + "/auth/staff/callback"
	}
	return s, err
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: nara serve|migrate|version [flags]")
	}
	cmd := args[0]
	if cmd == "version" {
		_, err := fmt.Fprintln(stdout, version)
		return err
	}
	if cmd != "serve" && cmd != "migrate" {
		return fmt.Errorf("unknown command %q; use serve, migrate or version", cmd)
	}
	s, err := parseSettings(cmd, args[1:], stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.logLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	pool, closeDB, err := openDatabase(ctx, s, logger)
	if err != nil {
		return err
	}
	defer closeDB()

	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	logger.Info("database schema is up to date")
	if cmd == "migrate" {
		return nil
	}
	// One reader of the change feed per replica: the store tells it of
	// this replica's commits, and it reads every replica's from the feed.
	hub := changefeed.New(changefeed.Config{}, logger.With(slog.String("component", "changefeed")))
	st := store.New(pool, store.Options{Committed: hub.Committed})
	keys, err := secret.Load(s.secretKey, s.dataDir, logger)
	if err != nil {
		return err
	}
	protector, err := pnr.NewProtector(pnr.Key{ID: keys.PNRKeyID, Secret: keys.PNR})
	if err != nil {
		return err
	}
	if s.demo {
		if err := demo.Seed(ctx, st, protector); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		logger.Info("demo data loaded")
	}
	var local []server.Link // the stand-ins' pages, for the landing page
	bank, closeBank, err := openBankID(s, logger, &local)
	if err != nil {
		return err
	}
	defer closeBank()
	idp, closeStaff, err := openStaffProvider(ctx, s, logger, &local)
	if err != nil {
		return err
	}
	defer closeStaff()
	sender, closePush, err := openPush(ctx, s, logger, &local)
	if err != nil {
		return err
	}
	defer closePush()
	mailSender, inboundAddr, closeMail, err := openMail(s, logger, &local)
	if err != nil {
		return err
	}
	defer closeMail()
	// The push queue: bookings enqueue their reminders into it in their own
	// transactions; serve starts its workers.
	// One River client per replica; each part adds its jobs to the
	// registry before it is built.
	registry := jobs.NewRegistry()
	registry.Queue(support.MailQueue, 2)
	if err := jobs.Worker(registry, support.NewMailWorker(support.MailDeps{
		Logger: logger.With(slog.String("component", "support-mail")), Store: st, Sender: mailSender})); err != nil {
		return err
	}
	notices, err := notify.New(notify.Config{}, notify.Deps{Logger: logger, Store: st, Sender: sender, Jobs: registry})
	if err != nil {
		return err
	}
	if err := hub.AddJobs(registry, st); err != nil {
		return err
	}
	queue, err := jobs.NewClient(pool, logger, jobs.Config{}, registry)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(notices) // nara_push_* metrics

	// The parts of the product in their own packages, one line each.
	helpContent, err := help.New(help.Config{SearchCacheSize: s.searchCache}, help.Deps{Store: st, Hub: hub})
	if err != nil {
		return err
	}
	appointments, err := appointment.New(appointment.Config{ListCacheSize: s.listCache, PublicURL: s.publicURL},
		appointment.Deps{Logger: logger, Store: st, Hub: hub, Notify: notices, Registry: reg})
	if err != nil {
		return err
	}
	logins, err := auth.New(auth.Config{
		Limits:    auth.RateLimits{LoginStartsPerIPPerMinute: s.loginStartsPerIPPerMinute, LoginsPerPersonPerHour: s.loginsPerPersonPerHour},
		PublicURL: s.publicURL, BankIDVisibleText: s.bankIDVisibleText,
	}, auth.Deps{Logger: logger, Store: st, Hub: hub, BankID: bank, StaffProvider: idp, Protector: protector, TokenKey: keys.Token})
	if err != nil {
		return err
	}
	var blobs attachment.Blobs = st.AttachmentBlobs()
	if s.attachmentS3URL != "" {
		cfg, err := attachment.ParseS3URL(s.attachmentS3URL)
		if err != nil {
			return err
		}
		if blobs, err = attachment.NewS3(cfg); err != nil {
			return err
		}
	}
	supportDesk := support.New(support.Config{MailDomain: s.supportMailDomain, PublicURL: s.publicURL, MailWebhookSecret: s.mailWebhookSecret},
		support.Deps{Logger: logger, Store: st, Hub: hub, Notify: notices, Jobs: queue, Blobs: blobs})
	if inboundAddr != "" {
		stopInbound, err := serveInboundMail(ctx, s, inboundAddr, logger, supportDesk.DeliverMail)
		if err != nil {
			return err
		}
		defer stopInbound()
	}
	return serve(ctx, s, logger, local, server.Deps{
		Logger: logger, Store: st, Authenticator: logins, Registry: reg,
		Domains: []rpc.Domain{
			logins,
			helpContent,
			appointments,
			patient.New(patient.Deps{Store: st, Protector: protector}),
			device.New(device.Deps{Store: st}),
			supportDesk,
		},
	}, hub, reg, queue, notices)
}

// localInboundAddr is where inbound mail is taken when the local mail
// stand-in runs and NARA_SMTP_ADDR is unset, so a newcomer can mail in.
const localInboundAddr = "127.0.0.1:2525"

// openMail returns the sender of support's replies through SMTP_URL or,
// without it, through a local mail stand-in it starts, whose page lists
// what went out; and where inbound mail is taken: NARA_SMTP_ADDR, or
// localInboundAddr beside the stand-in.
func openMail(s settings, logger *slog.Logger, local *[]server.Link) (*mail.Sender, string, func(), error) {
	relay, inbound := s.smtpURL, s.smtpAddr
	closeFake := func() {}
	if relay == "" {
		fake, err := mailfake.Start(mailfake.Config{HTTPAddr: s.mailFakeAddr, Logger: logger.With(slog.String("component", "mail-stand-in"))})
		if err != nil {
			return nil, "", nil, fmt.Errorf("local mail stand-in: %w", err)
		}
		closeFake = func() { _ = fake.Close() }
		relay = fake.SMTPURL()
		if inbound == "" {
			inbound = localInboundAddr
		}
		logger.Info("local mail stand-in started; support's sent mail is listed on its page",
			slog.String("page", fake.URL()), slog.String("inbound_smtp", inbound))
		*local = append(*local, server.Link{Name: "Mail stand-in", URL: fake.URL(),
			About: "the e-mail support sent, newest first; mail to support@" + s.supportMailDomain + " goes in over SMTP at " + inbound})
	}
	sender, err := mail.NewSender(relay, "Nära support <support@"+s.supportMailDomain+">",
		mail.SenderConfig{Logger: logger.With(slog.String("component", "support-mail"))})
	if err != nil {
		closeFake()
		return nil, "", nil, err
	}
	return sender, inbound, closeFake, nil
}

// serveInboundMail takes mail for the support domain over SMTP on addr
// until the returned func shuts it down.
func serveInboundMail(ctx context.Context, s settings, addr string, logger *slog.Logger, deliver mail.DeliverFunc) (func(), error) {
	log := logger.With(slog.String("component", "mail-inbound"))
	inbound, err := mail.NewServer(mail.ServerConfig{Domain: s.supportMailDomain, Logger: log}, deliver)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: inbound mail: %w", err)
	}
	go func() {
		if err := inbound.Serve(l); err != nil {
			log.Error("inbound mail stopped", slog.String("error", err.Error()))
		}
	}()
	log.Info("taking support mail over SMTP", slog.String("addr", addr), slog.String("domain", s.supportMailDomain))
	return func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = inbound.Shutdown(stopCtx)
	}, nil
}

// openPush returns the FCM sender for FCM_CREDENTIALS_FILE or, without it,
// the same sender pointed at a local FCM stand-in it starts: the real
// Firebase client, authenticating with a service account the stand-in made.
func openPush(ctx context.Context, s settings, logger *slog.Logger, local *[]server.Link) (*fcm.Sender, func(), error) {
	cfg := fcm.Config{CredentialsFile: s.fcmCredentials, Endpoint: s.fcmEndpoint}
	if strings.HasPrefix(s.publicURL, "https://") {
		// Browser notifications open their link under the public URL; FCM
		// takes only https there, so without one they carry it relative.
		cfg.WebBaseURL = s.publicURL
	}
	closeFake := func() {}
	if cfg.CredentialsFile == "" {
		fake, err := fcmfake.Start(fcmfake.Config{Addr: s.fcmFakeAddr})
		if err != nil {
			return nil, nil, fmt.Errorf("local FCM stand-in: %w", err)
		}
		closeFake = func() { _ = fake.Close() }
		if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
			closeFake()
			return nil, nil, err
		}
		cfg.CredentialsFile = filepath.Join(s.dataDir, "fcm-local-service-account.json")
		if err := fake.WriteServiceAccount(cfg.CredentialsFile); err != nil {
			closeFake()
			return nil, nil, err
		}
		cfg.Endpoint = fake.Endpoint()
		logger.Info("local FCM stand-in started; sent notices are listed on its page",
			slog.String("page", fake.BaseURL()+"/fake/messages"))
		*local = append(*local, server.Link{Name: "FCM stand-in", URL: fake.BaseURL() + "/fake/messages",
			About: "the push notices the server sent, newest first"})
	}
	sender, err := fcm.New(ctx, cfg)
	if err != nil {
		closeFake()
		return nil, nil, fmt.Errorf("FCM: %w", err)
	}
	return sender, closeFake, nil
}

// openStaffProvider returns the OIDC client for OIDC_ISSUER or, without it, a
// client of the local OIDC provider it starts with the test staff.
func openStaffProvider(ctx context.Context, s settings, logger *slog.Logger, local *[]server.Link) (*oidc.Client, func(), error) {
	cfg := oidc.Config{
		Issuer: s.oidcIssuer, ClientID: s.oidcClientID, ClientSecret: s.oidcClientSecret, RedirectURL: s.oidcRedirectURL,
	}
	closeDev := func() {}
	if cfg.Issuer == "" {
		cfg.ClientSecret = token.Random(24)
		dev, err := oidcdev.Start(oidcdev.Config{
			Clients: []oidcdev.Client{{ID: cfg.ClientID, Secret: cfg.ClientSecret, RedirectURIs: []string{cfg.RedirectURL}}},
			Users:   oidcdev.TestUsers(),
			Logger:  logger.With(slog.String("component", "oidc-dev")),
		}, s.oidcDevAddr)
		if err != nil {
			return nil, nil, fmt.Errorf("local OIDC provider: %w", err)
		}
		closeDev = func() { _ = dev.Close() }
		cfg.Issuer = dev.Issuer()
		logger.Info("local OIDC provider started with test staff", slog.String("issuer", cfg.Issuer))
		*local = append(*local, server.Link{Name: "Staff identity provider (OIDC)", URL: cfg.Issuer + "/.well-known/openid-configuration",
			About: "clinicians log in here with a test account; ClinicianAuthService.StartLogin gives the login address"})
	}
	client, err := oidc.New(ctx, cfg)
	if err != nil {
		closeDev()
		return nil, nil, fmt.Errorf("staff identity provider: %w", err)
	}
	return client, closeDev, nil
}

// openBankID returns the BankID client for BANKID_URL or, without it, a
// client of the local simulator it starts.
func openBankID(s settings, logger *slog.Logger, local *[]server.Link) (*bankid.Client, func(), error) {
	var cfg bankid.Config
	closeSim := func() {}
	if s.bankIDURL != "" {
		var err error
		cfg, err = bankid.LoadConfig(s.bankIDURL, s.bankIDCA, s.bankIDCert, s.bankIDKey)
		if err != nil {
			return nil, nil, fmt.Errorf("BankID settings: %w", err)
		}
	} else {
		sim, err := bankidsim.New(bankidsim.Config{Logger: logger.With(slog.String("component", "bankid-simulator"))})
		if err != nil {
			return nil, nil, err
		}
		srv, err := bankidsim.Start(sim, bankidsim.ServerConfig{ControlAddr: s.bankIDSimAddr})
		if err != nil {
			return nil, nil, fmt.Errorf("BankID simulator: %w", err)
		}
		closeSim = func() { _ = srv.Close() }
		if cfg, err = srv.ClientConfig(); err != nil {
			closeSim()
			return nil, nil, err
		}
		logger.Info("BankID simulator started; act as the user on its page",
			slog.String("page", srv.ControlURL()), slog.String("api", srv.URL()))
		*local = append(*local, server.Link{Name: "BankID simulator", URL: srv.ControlURL(),
			About: "scan the QR code or open a login as a test person, and approve it"})
	}
	client, err := bankid.New(cfg)
	if err != nil {
		closeSim()
		return nil, nil, err
	}
	return client, func() { client.Close(); closeSim() }, nil
}

// openTracing exports OpenTelemetry traces over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set, configured by
// the standard OTEL_* variables; otherwise tracing stays off.
func openTracing(ctx context.Context, logger *slog.Logger) (trace.TracerProvider, func(), error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, func() {}, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
	logger.Info("exporting traces over OTLP/HTTP")
	return tp, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(shutdownCtx)
	}, nil
}

// openDatabase connects to DATABASE_URL or, without it, starts the embedded
// cluster. The returned func closes the pool and stops the cluster.
func openDatabase(ctx context.Context, s settings, logger *slog.Logger) (*pgxpool.Pool, func(), error) {
	url := s.databaseURL
	cleanup := func() {}
	if url == "" {
		cluster, err := pgcluster.Start(ctx, pgcluster.Config{
			DataDir: filepath.Join(s.dataDir, "postgres"),
			Logger:  logger.With(slog.String("component", "postgres")),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		cleanup = func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := cluster.Stop(stopCtx); err != nil {
				logger.Error("stopping embedded PostgreSQL", slog.String("error", err.Error()))
			}
		}
		if err := cluster.CreateDatabase(ctx, "nara"); err != nil {
			cleanup()
			return nil, nil, err
		}
		url = cluster.URL("nara")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		cleanup()
		return nil, nil, errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	// Size the pool for the cores, not the clients: more connections than
	// the database can run at once only queue inside PostgreSQL.
	if cfg.MaxConns == 4 { // pgxpool's default when pool_max_conns is not set
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		cleanup()
		return nil, nil, fmt.Errorf("database does not answer: %w", err)
	}
	return pool, func() { pool.Close(); cleanup() }, nil
}

func serve(ctx context.Context, s settings, logger *slog.Logger, local []server.Link, deps server.Deps, hub *changefeed.Hub,
	reg *prometheus.Registry, queue *river.Client[pgx.Tx], notices *notify.Service) error {
	tracer, stopTracing, err := openTracing(ctx, logger)
	if err != nil {
		return err
	}
	defer stopTracing()
	deps.Tracer = tracer
	trusted, err := server.ParseTrustedProxies(s.trustedProxies)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Version:     version,
		CORSOrigins: splitList(s.corsOrigins), LocalPages: local, TrustedProxies: trusted,
	}, deps)
	if err != nil {
		return err
	}
	background := make(chan error, 2)
	go func() { background <- srv.Run(ctx) }()
	go func() { background <- hub.Run(ctx, deps.Store) }()
	if err := notices.Start(ctx); err != nil {
		return fmt.Errorf("push queue: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := notices.Stop(stopCtx); err != nil {
			logger.Warn("stopping the push queue", slog.String("error", err.Error()))
		}
	}()
	if err := queue.Start(ctx); err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := queue.Stop(stopCtx); err != nil {
			cancelCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			logger.Warn("stopping the job queue", slog.String("error", errors.Join(err, queue.StopAndCancel(cancelCtx)).Error()))
		}
	}()

	// Both listeners are bound before either serves, so an address in use
	// fails the start before any request is taken.
	var listenConfig net.ListenConfig
	apiListener, err := listenConfig.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var metricsListener net.Listener
	if s.metricsAddr != "" {
		if metricsListener, err = listenConfig.Listen(ctx, "tcp", s.metricsAddr); err != nil {
			_ = apiListener.Close()
			return fmt.Errorf("listen: metrics: %w", err)
		}
	}
	httpServer := server.NewHTTPServer(s.addr, srv.Handler())
	httpServer.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	listenErr := make(chan error, 2)
	go func() {
		logger.Info("serving", slog.String("addr", s.addr), slog.String("version", version))
		listenErr <- httpServer.Serve(apiListener)
	}()
	// Metrics have a listener of their own, never the public API's.
	var metricsServer *http.Server
	if metricsListener != nil {
		metricsServer = server.NewHTTPServer(s.metricsAddr, server.MetricsHandler(reg))
		metricsServer.ErrorLog = httpServer.ErrorLog
		go func() {
			logger.Info("serving metrics", slog.String("addr", s.metricsAddr))
			if err := metricsServer.Serve(metricsListener); !errors.Is(err, http.ErrServerClosed) {
				listenErr <- fmt.Errorf("metrics: %w", err)
			}
		}()
	}
	select {
	case err := <-listenErr:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if metricsServer != nil {
		_ = metricsServer.Close() // scrapes are short; nothing to drain
	}
	if err := httpServer.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	for range 2 {
		if err := <-background; err != nil {
			logger.Warn("background work stopped with an error", slog.String("error", err.Error()))
		}
	}
	return nil
}
