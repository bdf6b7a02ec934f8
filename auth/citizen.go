package auth

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// BankID is the part of the BankID RP API the login flow uses; the
// production client is *bankid.Client.
type BankID interface {
	Auth(ctx context.Context, req bankid.AuthRequest) (*bankid.OrderResponse, error)
	Collect(ctx context.Context, orderRef string) (*bankid.CollectResponse, error)
	Cancel(ctx context.Context, orderRef string) error
}

// citizenAuthService logs citizens in with BankID.
type citizenAuthService struct {
	store    *store.Store
	logger   *slog.Logger
	bankID   BankID
	sessions *sessionIssuer
	limits   RateLimits
	now      func() time.Time
	// visibleText is shown in the BankID app with every order (UTF-8).
	visibleText []byte
}

// maxVisibleTextBytes is the longest visible text whose base64 form fits
// BankID's limit of 1 500 characters for an auth order.
const maxVisibleTextBytes = 1500 / 4 * 3

// loginReplayWindow is how long after completing a login its device may
// fetch the answer once more, when the first one was lost on the way.
const loginReplayWindow = 60 * time.Second

// hashLoginSecret is how a login's secret is kept: only its SHA-256. The
// secret is 192 random bits, so no salt or slow hash is needed.
func hashLoginSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// heldBy reports whether secret is the one handed to the device that
// started o. Logins from before secrets existed are held by no one.
func heldBy(o store.LoginOrder, secret string) bool {
	return len(o.SecretHash) == sha256.Size && subtle.ConstantTimeCompare(hashLoginSecret(secret), o.SecretHash) == 1
}

// loginOf returns the login that the caller started, and NotFound for
// another device's login, exactly as for one that does not exist.
func (s *citizenAuthService) loginOf(ctx context.Context, loginID, secret string) (store.LoginOrder, error) {
	o, err := s.store.LoginOrderGet(ctx, loginID)
	if errors.Is(err, store.ErrNotFound) {
		return o, rpc.FailWith(err, connect.CodeNotFound, "there is no such login; start a new one")
	} else if err != nil {
		return o, err
	}
	if !heldBy(o, secret) {
		return store.LoginOrder{}, rpc.Fail(connect.CodeNotFound, "there is no such login; start a new one")
	}
	return o, nil
}

// collectEvery is how often one login is collected from BankID, whatever
// the number of clients watching it; BankID asks for every two seconds.
const collectEvery = bankid.CollectInterval - 100*time.Millisecond

func (s *citizenAuthService) StartLogin(ctx context.Context, req *authv1.StartLoginRequest) (*authv1.StartLoginResponse, error) {
	if req.Provider == authv1.Provider_PROVIDER_FREJA {
		return nil, rpc.Fail(connect.CodeUnimplemented, "Freja eID Plus is not offered yet; log in with BankID")
	}
	ip := rpc.ClientIP(ctx)
	if err := s.store.RateLimitTake(ctx, "login-start:ip:"+ip.String(), time.Minute, s.limits.LoginStartsPerIPPerMinute); err != nil {
		return nil, rateLimited(err, "too many login attempts from your network; wait a minute and try again")
	}
	authReq := bankid.AuthRequest{EndUserIP: ip.String(), UserVisibleData: s.visibleText, UserVisibleDataFormat: "simpleMarkdownV1"}
	sameDevice := req.Mode == authv1.StartMode_START_MODE_SAME_DEVICE
	if sameDevice && req.ReturnUrl != "" {
		authReq.ReturnURL = req.ReturnUrl
	}
	order, err := s.bankID.Auth(ctx, authReq)
	if err != nil {
		return nil, s.bankIDError(ctx, "auth", err, req.Language)
	}
	secret := token.Random(24)
	o := store.LoginOrder{
		ID:             token.Random(24),
		Provider:       "bankid",
		Mode:           "other_device",
		OrderRef:       order.OrderRef,
		AutoStartToken: order.AutoStartToken,
		QRStartToken:   order.QRStartToken,
		QRStartSecret:  order.QRStartSecret,
		SecretHash:     hashLoginSecret(secret),
		DeviceID:       req.Device.Id,
		DeviceName:     req.Device.Name,
		Platform:       cmp.Or(rpc.PlatformName(req.Device.Platform), "web"),
		ClientIP:       ip,
		Status:         "pending",
		StartedAt:      s.now(),
	}
	if sameDevice {
		o.Mode = "same_device"
	}
	if err := s.store.LoginOrderCreate(ctx, o); err != nil {
		return nil, err
	}
	progress := s.describe(o, req.Language)
	res := &authv1.StartLoginResponse{
		LoginId:             o.ID,
		LoginSecret:         secret,
		PollIntervalSeconds: int32(bankid.CollectInterval / time.Second),
		Progress:            progress,
		QrData:              progress.QrData,
	}
	if sameDevice {
		res.AutoStartToken = order.AutoStartToken
	}
	return res, nil
}

// describe tells the state of o as the app shows it, with a fresh QR code.
func (s *citizenAuthService) describe(o store.LoginOrder, lang authv1.Language) *authv1.LoginProgress {
	status := bankid.Status(o.Status)
	if o.Status == "pending" && o.HintCode == "" {
		// Not collected yet: BankID's first answer is always this.
		o.HintCode = string(bankid.HintOutstandingTransaction)
	}
	p := &authv1.LoginProgress{HintCode: o.HintCode}
	switch o.Status {
	case "pending":
		p.State = authv1.LoginState_LOGIN_STATE_PENDING
		if o.Mode == "other_device" {
			p.QrData = bankid.QRCode(o.QRStartToken, o.QRStartSecret, s.now().Sub(o.StartedAt))
		}
	case "failed":
		p.State = authv1.LoginState_LOGIN_STATE_FAILED
	default:
		p.State = authv1.LoginState_LOGIN_STATE_COMPLETE
		status = bankid.StatusComplete
	}
	m := bankid.UserMessage(status, bankid.HintCode(o.HintCode), o.Mode == "other_device")
	p.MessageId = string(m.Key)
	p.Message = inLanguage(m, lang)
	return p
}

// progress collects the login from BankID if it is due and returns its
// state; on completion it creates the session.
func (s *citizenAuthService) progress(ctx context.Context, loginID, secret string, lang authv1.Language) (*authv1.LoginProgress, error) {
	o, err := s.loginOf(ctx, loginID, secret)
	if err != nil {
		return nil, err
	}
	if o.Status == "consumed" {
		return s.replay(ctx, o, lang)
	}
	if o.Status != "pending" {
		return s.describe(o, lang), nil
	}
	claimed, err := s.store.LoginOrderClaimCollect(ctx, o.ID, collectEvery)
	if err != nil || !claimed {
		return s.describe(o, lang), err
	}
	res, err := s.bankID.Collect(ctx, o.OrderRef)
	if err != nil {
		switch {
		case errors.Is(err, bankid.ErrInvalidParameters):
			// BankID no longer knows the order: it expired on their side.
			s.logBankIDFailure(ctx, "collect", err)
			return s.fail(ctx, o, string(bankid.HintExpiredTransaction), lang)
		case errors.Is(err, bankid.ErrUnreadableFinalAnswer):
			// The order is over at BankID; collecting it again would only
			// repeat the answer, so the login fails here for good.
			s.logger.WarnContext(ctx, "bankid: final answer cannot be read; the login fails",
				slog.String("login_id", o.ID), slog.String("error", err.Error()))
			return s.fail(ctx, o, "", lang)
		}
		return nil, s.bankIDError(ctx, "collect", err, lang)
	}
	switch res.Status {
	case bankid.StatusComplete:
		if res.CompletionData == nil || res.CompletionData.User.PersonalNumber.IsZero() {
			s.logger.WarnContext(ctx, "bankid: complete order without completion data; the login fails", slog.String("login_id", o.ID))
			return s.fail(ctx, o, "", lang)
		}
		return s.complete(ctx, o, res.CompletionData, lang)
	case bankid.StatusFailed:
		o.Status = "failed"
		s.logger.WarnContext(ctx, "bankid: order failed", slog.String("login_id", o.ID), slog.String("hint_code", string(res.HintCode)))
	}
	o.HintCode = string(res.HintCode)
	if err := s.store.LoginOrderSetState(ctx, o.ID, o.Status, o.HintCode); err != nil {
		return nil, err
	}
	return s.describe(o, lang), nil
}

// fail records that o ended without a session, with BankID's hint code.
func (s *citizenAuthService) fail(ctx context.Context, o store.LoginOrder, hint string, lang authv1.Language) (*authv1.LoginProgress, error) {
	o.Status, o.HintCode = "failed", hint
	if err := s.store.LoginOrderSetState(ctx, o.ID, o.Status, o.HintCode); err != nil {
		return nil, err
	}
	return s.describe(o, lang), nil
}

// replay answers a completed login again for its own device (the caller
// proved it holds the secret), once and shortly after completion. The
// session is the one the first answer carried, with a new refresh token
// that spends the first one: no second session is created, and if the first
// answer did arrive after all, using its refresh token later revokes the
// session as any reused refresh token does.
func (s *citizenAuthService) replay(ctx context.Context, o store.LoginOrder, lang authv1.Language) (*authv1.LoginProgress, error) {
	refresh, refreshHash := token.NewRefresh()
	person, sess, err := s.store.LoginOrderReplay(ctx, o.ID, loginReplayWindow, refreshHash)
	if errors.Is(err, store.ErrPrecondition) {
		return nil, rpc.FailWith(err, connect.CodeFailedPrecondition, "this login has already completed; start a new one to log in again")
	} else if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "citizen login answered again", slog.String("person_id", person.ID), slog.String("session_id", sess.ID))
	session, err := s.sessions.citizenSession(ctx, person, sess, refresh)
	if err != nil {
		return nil, err
	}
	o.Status = "complete"
	p := s.describe(o, lang)
	p.Session = session
	return p, nil
}

func (s *citizenAuthService) complete(ctx context.Context, o store.LoginOrder, cd *bankid.CompletionData, lang authv1.Language) (*authv1.LoginProgress, error) {
	n := cd.User.PersonalNumber
	hash := s.sessions.protector.Lookup(n)
	if err := s.store.RateLimitTake(ctx, fmt.Sprintf("login:pnr:%x", hash), time.Hour, s.limits.LoginsPerPersonPerHour); err != nil {
		if serr := s.store.LoginOrderSetState(ctx, o.ID, "failed", "rateLimited"); serr != nil {
			return nil, serr
		}
		return nil, rateLimited(err, "too many logins for this person in the last hour; try again later")
	}
	sealed, err := s.sessions.protector.Seal(n, nil)
	if err != nil {
		return nil, err
	}
	refresh, refreshHash := token.NewRefresh()
	person, sess, err := s.store.LoginOrderComplete(ctx, o.ID,
		store.Person{PNRSealed: sealed, GivenName: cd.User.GivenName, Surname: cd.User.Surname, BirthDate: n.BirthDate()},
		hash,
		store.Session{DeviceID: o.DeviceID, DeviceName: o.DeviceName, Platform: o.Platform, ExpiresAt: s.now().Add(s.sessions.citizenSessionTTL)},
		refreshHash)
	if errors.Is(err, store.ErrPrecondition) {
		return nil, rpc.FailWith(err, connect.CodeFailedPrecondition, "this login has already completed; start a new one to log in again")
	} else if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "citizen logged in", slog.String("person_id", person.ID), slog.String("session_id", sess.ID))
	session, err := s.sessions.citizenSession(ctx, person, sess, refresh)
	if err != nil {
		return nil, err
	}
	o.Status = "complete"
	p := s.describe(o, lang)
	p.Session = session
	return p, nil
}

func (s *citizenAuthService) PollLogin(ctx context.Context, req *authv1.PollLoginRequest) (*authv1.PollLoginResponse, error) {
	p, err := s.progress(ctx, req.LoginId, req.LoginSecret, req.Language)
	if err != nil {
		return nil, err
	}
	return &authv1.PollLoginResponse{Progress: p}, nil
}

// watchLimit bounds a WatchLogin stream to the longest a BankID order lives.
const watchLimit = bankid.OrderTimeout + 15*time.Second

func (s *citizenAuthService) WatchLogin(ctx context.Context, req *authv1.WatchLoginRequest, stream *connect.ServerStream[authv1.WatchLoginResponse]) error {
	ctx, cancel := context.WithTimeout(ctx, watchLimit)
	defer cancel()
	tick := time.NewTicker(bankid.QRRefreshInterval)
	defer tick.Stop()
	var last *authv1.LoginProgress
	for {
		p, err := s.progress(ctx, req.LoginId, req.LoginSecret, req.Language)
		if err != nil {
			return err
		}
		if last == nil || p.QrData != last.QrData || p.HintCode != last.HintCode || p.State != last.State {
			if err := stream.Send(&authv1.WatchLoginResponse{Progress: p}); err != nil {
				return err
			}
			last = p
		}
		if p.State != authv1.LoginState_LOGIN_STATE_PENDING {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return rpc.Fail(connect.CodeDeadlineExceeded, "the login took too long; start a new one")
			}
			return nil
		case <-tick.C:
		}
	}
}

func (s *citizenAuthService) CancelLogin(ctx context.Context, req *authv1.CancelLoginRequest) (*authv1.CancelLoginResponse, error) {
	o, err := s.loginOf(ctx, req.LoginId, req.LoginSecret)
	if err != nil {
		return nil, err
	}
	if o.Status != "pending" {
		return &authv1.CancelLoginResponse{}, nil
	}
	if err := s.bankID.Cancel(ctx, o.OrderRef); err != nil && !errors.Is(err, bankid.ErrInvalidParameters) {
		return nil, s.bankIDError(ctx, "cancel", err, req.Language)
	}
	if err := s.store.LoginOrderSetState(ctx, o.ID, "failed", string(bankid.HintCancelled)); err != nil {
		return nil, err
	}
	return &authv1.CancelLoginResponse{}, nil
}

// bankIDError turns a failed BankID call into what the app can show: the
// message BankID recommends (RFA4, RFA5, RFA22), in the app's language. The
// failure is logged with BankID's error code. Only the caller's own
// cancellation or deadline stays one; BankID taking longer than the
// client's timeout is BankID being unavailable.
func (s *citizenAuthService) bankIDError(ctx context.Context, call string, err error, lang authv1.Language) error {
	if ctx.Err() != nil {
		return err
	}
	s.logBankIDFailure(ctx, call, err)
	var be *bankid.Error
	if !errors.As(err, &be) {
		// BankID did not answer: a failure on BankID's side for the user.
		m, _ := bankid.Lookup(bankid.RFA5)
		return rpc.FailWith(err, connect.CodeUnavailable, "%s", inLanguage(m, lang))
	}
	m := bankid.UserMessageForError(err)
	if errors.Is(err, bankid.ErrAlreadyInProgress) {
		return rpc.FailWith(err, connect.CodeFailedPrecondition, "%s", inLanguage(m, lang))
	}
	return rpc.FailWith(err, connect.CodeUnavailable, "%s", inLanguage(m, lang))
}

// logBankIDFailure logs a failed BankID call at warn level with BankID's
// error code, never its free-text details or the user's number.
func (s *citizenAuthService) logBankIDFailure(ctx context.Context, call string, err error) {
	attrs := []any{slog.String("call", call)}
	var be *bankid.Error
	if errors.As(err, &be) {
		attrs = append(attrs, slog.String("error_code", string(be.ErrorCode)), slog.Int("http_status", be.HTTPStatus))
	} else {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	s.logger.WarnContext(ctx, "bankid: call failed", attrs...)
}

// inLanguage picks the message's text in lang; Swedish unless English is asked for.
func inLanguage(m bankid.Message, lang authv1.Language) string {
	if lang == authv1.Language_LANGUAGE_EN {
		return m.EN
	}
	return m.SV
}

func rateLimited(err error, msg string) error {
	if errors.Is(err, store.ErrRateLimited) {
		return rpc.FailWith(err, connect.CodeResourceExhausted, "%s", msg)
	}
	return err
}

// maskedNumber shows a personal identity number as "20150315-****".
func maskedNumber(p *pnr.Protector, sealed []byte) string {
	n, err := p.Open(sealed, nil)
	if err != nil {
		return ""
	}
	return n.Redacted()
}
