package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/identity/bankid"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/token"
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
}

// collectEvery is how often one login is collected from BankID, whatever
// the number of clients watching it; BankID asks for every two seconds.
const collectEvery = bankid.CollectInterval - 100*time.Millisecond

func (s *citizenAuthService) StartLogin(ctx context.Context, req *authv1.StartLoginRequest) (*authv1.StartLoginResponse, error) {
	if req.Provider == authv1.Provider_PROVIDER_FREJA {
		return nil, fail(connect.CodeUnimplemented, "Freja eID Plus is not offered yet; log in with BankID")
	}
	ip := clientIP(ctx)
	if err := s.store.RateLimitTake(ctx, "login-start:ip:"+ip.String(), time.Minute, s.limits.LoginStartsPerIPPerMinute); err != nil {
		return nil, rateLimited(err, "too many login attempts from your network; wait a minute and try again")
	}
	authReq := bankid.AuthRequest{EndUserIP: ip.String()}
	sameDevice := req.Mode == authv1.StartMode_START_MODE_SAME_DEVICE
	if sameDevice && req.ReturnUrl != "" {
		authReq.ReturnURL = req.ReturnUrl
	}
	order, err := s.bankID.Auth(ctx, authReq)
	if err != nil {
		return nil, bankIDError(ctx, err)
	}
	o := store.LoginOrder{
		ID:             token.Random(24),
		Provider:       "bankid",
		Mode:           "other_device",
		OrderRef:       order.OrderRef,
		AutoStartToken: order.AutoStartToken,
		QRStartToken:   order.QRStartToken,
		QRStartSecret:  order.QRStartSecret,
		DeviceID:       req.Device.Id,
		DeviceName:     req.Device.Name,
		Platform:       cmp.Or(platformName(req.Device.Platform), "web"),
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
	p.Message = m.SV
	if lang == authv1.Language_LANGUAGE_EN {
		p.Message = m.EN
	}
	return p
}

// progress collects the login from BankID if it is due and returns its
// state; on completion it creates the session.
func (s *citizenAuthService) progress(ctx context.Context, loginID string, lang authv1.Language) (*authv1.LoginProgress, error) {
	o, err := s.store.LoginOrderGet(ctx, loginID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, failWith(err, connect.CodeNotFound, "there is no such login; start a new one")
	} else if err != nil {
		return nil, err
	}
	if o.Status == "consumed" {
		return nil, fail(connect.CodeFailedPrecondition, "this login has already completed; start a new one to log in again")
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
		if errors.Is(err, bankid.ErrInvalidParameters) {
			// BankID no longer knows the order: it expired on their side.
			o.Status, o.HintCode = "failed", string(bankid.HintExpiredTransaction)
			return s.describe(o, lang), s.store.LoginOrderSetState(ctx, o.ID, o.Status, o.HintCode)
		}
		return nil, bankIDError(ctx, err)
	}
	switch res.Status {
	case bankid.StatusComplete:
		return s.complete(ctx, o, res.CompletionData, lang)
	case bankid.StatusFailed:
		o.Status = "failed"
	}
	o.HintCode = string(res.HintCode)
	if err := s.store.LoginOrderSetState(ctx, o.ID, o.Status, o.HintCode); err != nil {
		return nil, err
	}
	return s.describe(o, lang), nil
}

func (s *citizenAuthService) complete(ctx context.Context, o store.LoginOrder, cd *bankid.CompletionData, lang authv1.Language) (*authv1.LoginProgress, error) {
	if cd == nil || cd.User.PersonalNumber.IsZero() {
		return nil, errors.New("bankid: complete order without completion data")
	}
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
		return nil, failWith(err, connect.CodeFailedPrecondition, "this login has already completed; start a new one to log in again")
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
	p, err := s.progress(ctx, req.LoginId, req.Language)
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
		p, err := s.progress(ctx, req.LoginId, req.Language)
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
				return fail(connect.CodeDeadlineExceeded, "the login took too long; start a new one")
			}
			return nil
		case <-tick.C:
		}
	}
}

func (s *citizenAuthService) CancelLogin(ctx context.Context, req *authv1.CancelLoginRequest) (*authv1.CancelLoginResponse, error) {
	o, err := s.store.LoginOrderGet(ctx, req.LoginId)
	if errors.Is(err, store.ErrNotFound) {
		return nil, failWith(err, connect.CodeNotFound, "there is no such login")
	} else if err != nil {
		return nil, err
	}
	if o.Status != "pending" {
		return &authv1.CancelLoginResponse{}, nil
	}
	if err := s.bankID.Cancel(ctx, o.OrderRef); err != nil && !errors.Is(err, bankid.ErrInvalidParameters) {
		return nil, bankIDError(ctx, err)
	}
	if err := s.store.LoginOrderSetState(ctx, o.ID, "failed", string(bankid.HintCancelled)); err != nil {
		return nil, err
	}
	return &authv1.CancelLoginResponse{}, nil
}

// bankIDError turns a BankID failure into what the app can show. Only the
// caller's own cancellation or deadline stays one; BankID taking longer
// than the client's timeout is BankID being unavailable.
func bankIDError(ctx context.Context, err error) error {
	var be *bankid.Error
	if errors.As(err, &be) {
		m := bankid.UserMessageForError(err)
		switch {
		case errors.Is(err, bankid.ErrAlreadyInProgress):
			return failWith(err, connect.CodeFailedPrecondition, "%s", m.EN)
		case be.Retryable():
			return failWith(err, connect.CodeUnavailable, "%s", m.EN)
		}
	}
	if ctx.Err() != nil {
		return err
	}
	return failWith(err, connect.CodeUnavailable, "BankID cannot be reached right now; try again in a moment")
}

func rateLimited(err error, msg string) error {
	if errors.Is(err, store.ErrRateLimited) {
		return failWith(err, connect.CodeResourceExhausted, "%s", msg)
	}
	return err
}

// clientIP is the address of the caller as this server sees it.
func clientIP(ctx context.Context) netip.Addr {
	if info, ok := connect.CallInfoForHandlerContext(ctx); ok {
		if ip, ok := hostIP(info.Peer().Addr); ok {
			return ip
		}
	}
	return netip.IPv4Unspecified()
}

// hostIP is the IP of a "host:port" address (IPv4 as such, not mapped into
// IPv6); ok is false when it is not one.
func hostIP(hostport string) (ip netip.Addr, ok bool) {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// maskedNumber shows a personal identity number as "20150315-****".
func maskedNumber(p *pnr.Protector, sealed []byte) string {
	n, err := p.Open(sealed, nil)
	if err != nil {
		return ""
	}
	return n.Redacted()
}
