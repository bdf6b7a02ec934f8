package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sentinel errors of sessions.
var (
	// ErrTokenReused means a spent refresh token was presented again: the
	// token has leaked or the app misbehaves, so the session is revoked.
	ErrTokenReused = errors.New("refresh token reused")
	// ErrSessionEnded means the session was signed out, revoked or expired.
	ErrSessionEnded = errors.New("session ended")
	// ErrTokenUnverified is an ErrSessionEnded for a refresh token that is
	// not one of ours, or that another device presented: nothing shows the
	// caller holds the session, so its failure counts against the caller,
	// never against the session.
	ErrTokenUnverified = fmt.Errorf("%w: refresh token not verified", ErrSessionEnded)
	// ErrRateLimited means a rate limit was exceeded.
	ErrRateLimited = errors.New("rate limited")
)

// Person is a citizen or a child known to Nära.
type Person struct {
	ID        string
	PNRSealed []byte
	GivenName string
	Surname   string
	BirthDate time.Time
}

// PersonUpsert finds a person by the keyed hash of their personal identity
// number, creating them if new, and refreshes their name.
func (s *Store) PersonUpsert(ctx context.Context, pnrHash, pnrSealed []byte, given, surname string, birth time.Time) (Person, error) {
	var p Person
	err := s.pool.QueryRow(ctx, `
		INSERT INTO person (pnr_hash, pnr_sealed, given_name, surname, birth_date)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (pnr_hash) DO UPDATE SET
			given_name = CASE WHEN $3 = '' THEN person.given_name ELSE $3 END,
			surname = CASE WHEN $4 = '' THEN person.surname ELSE $4 END
		RETURNING id, pnr_sealed, given_name, surname, birth_date`,
		pnrHash, pnrSealed, given, surname, birth).Scan(&p.ID, &p.PNRSealed, &p.GivenName, &p.Surname, &p.BirthDate)
	return p, interpretError(err)
}

// PersonGet returns one person.
func (s *Store) PersonGet(ctx context.Context, id string) (Person, error) {
	var p Person
	err := s.pool.QueryRow(ctx, `SELECT id, pnr_sealed, given_name, surname, birth_date FROM person WHERE id = $1`, id).
		Scan(&p.ID, &p.PNRSealed, &p.GivenName, &p.Surname, &p.BirthDate)
	return p, interpretError(err)
}

// GuardianshipAdd records that guardian has custody of child.
func (s *Store) GuardianshipAdd(ctx context.Context, guardianID, childID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO guardianship (guardian_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		guardianID, childID)
	return interpretError(err)
}

// ChildrenUnder returns the guardian's children born after bornAfter (that
// is, younger than the age it stands for), oldest first.
func (s *Store) ChildrenUnder(ctx context.Context, guardianID string, bornAfter time.Time) ([]Person, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT p.id, p.pnr_sealed, p.given_name, p.surname, p.birth_date
		  FROM guardianship g JOIN person p ON p.id = g.child_id
		 WHERE g.guardian_id = $1 AND p.birth_date > $2
		 ORDER BY p.birth_date`, guardianID, bornAfter)
	if err != nil {
		return nil, interpretError(err)
	}
	ps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Person, error) {
		var p Person
		err := row.Scan(&p.ID, &p.PNRSealed, &p.GivenName, &p.Surname, &p.BirthDate)
		return p, err
	})
	return ps, interpretError(err)
}

// LoginOrder is an e-ID login in progress.
type LoginOrder struct {
	ID             string
	Provider       string
	Mode           string
	OrderRef       string
	AutoStartToken string
	QRStartToken   string
	QRStartSecret  string
	// SecretHash is the SHA-256 of the secret only the starting device
	// holds; nil for logins from before it existed, which no one can follow.
	SecretHash  []byte
	DeviceID    string
	DeviceName  string
	Platform    string
	ClientIP    netip.Addr
	Status      string
	HintCode    string
	StartedAt   time.Time
	CollectedAt time.Time // zero before the first collect
}

// LoginOrderCreate stores a new login.
func (s *Store) LoginOrderCreate(ctx context.Context, o LoginOrder) error {
	var ip *netip.Addr
	if o.ClientIP.IsValid() {
		ip = &o.ClientIP
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO login_order (id, provider, mode, order_ref, auto_start_token, qr_start_token, qr_start_secret,
			device_id, device_name, platform, client_ip, secret_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		o.ID, o.Provider, o.Mode, o.OrderRef, o.AutoStartToken, o.QRStartToken, o.QRStartSecret,
		o.DeviceID, o.DeviceName, o.Platform, ip, o.SecretHash)
	return interpretError(err)
}

// LoginOrderGet returns a login by its id.
func (s *Store) LoginOrderGet(ctx context.Context, id string) (LoginOrder, error) {
	var (
		o           LoginOrder
		ip          *netip.Addr
		collectedAt *time.Time
	)
	err := s.pool.QueryRow(ctx, `
		SELECT id, provider, mode, order_ref, auto_start_token, qr_start_token, qr_start_secret, device_id,
		       device_name, platform, client_ip, status, hint_code, started_at, collected_at, secret_hash
		  FROM login_order WHERE id = $1`, id).Scan(&o.ID, &o.Provider, &o.Mode, &o.OrderRef, &o.AutoStartToken,
		&o.QRStartToken, &o.QRStartSecret, &o.DeviceID, &o.DeviceName, &o.Platform, &ip, &o.Status, &o.HintCode,
		&o.StartedAt, &collectedAt, &o.SecretHash)
	if ip != nil {
		o.ClientIP = *ip
	}
	if collectedAt != nil {
		o.CollectedAt = *collectedAt
	}
	return o, interpretError(err)
}

// LoginOrderClaimCollect marks the login as being collected now, unless it
// was collected less than interval ago. It returns false when another
// request (on any replica) collected it recently: BankID wants one collect
// every two seconds per order, however many clients poll.
func (s *Store) LoginOrderClaimCollect(ctx context.Context, id string, interval time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE login_order SET collected_at = now()
		 WHERE id = $1 AND status = 'pending'
		   AND (collected_at IS NULL OR collected_at <= now() - $2::interval)`, id, interval)
	if err != nil {
		return false, interpretError(err)
	}
	return tag.RowsAffected() == 1, nil
}

// LoginOrderSetState records a pending or failed state from the provider.
func (s *Store) LoginOrderSetState(ctx context.Context, id, status, hint string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE login_order SET status = $2, hint_code = $3,
			finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
		 WHERE id = $1 AND status = 'pending'`, id, status, hint)
	return interpretError(err)
}

// SessionGrant is what a completed login creates.
type SessionGrant struct {
	Session          Session
	RefreshTokenHash []byte
}

// Session is one logged-in device.
type Session struct {
	ID                 string
	PersonID           string // citizens
	StaffHSAID         string // staff
	DeviceID           string
	DeviceName         string
	Platform           string
	Assignments        json.RawMessage
	SelectedAssignment string
	CreatedAt          time.Time
	LastUsedAt         time.Time
	ExpiresAt          time.Time
	RevokedAt          time.Time
}

const sessionColumns = `id, coalesce(person_id::text, ''), coalesce(staff_hsa_id, ''), device_id, device_name, platform,
	assignments, selected_assignment, created_at, last_used_at, expires_at, revoked_at`

func scanSession(row pgx.Row) (Session, error) {
	var (
		s         Session
		revokedAt *time.Time
	)
	err := row.Scan(&s.ID, &s.PersonID, &s.StaffHSAID, &s.DeviceID, &s.DeviceName, &s.Platform, &s.Assignments,
		&s.SelectedAssignment, &s.CreatedAt, &s.LastUsedAt, &s.ExpiresAt, &revokedAt)
	if revokedAt != nil {
		s.RevokedAt = *revokedAt
	}
	return s, err
}

func insertSession(ctx context.Context, tx pgx.Tx, s Session, refreshHash []byte) (Session, error) {
	var personID, staffID *string
	if s.PersonID != "" {
		personID = &s.PersonID
	}
	if s.StaffHSAID != "" {
		staffID = &s.StaffHSAID
	}
	assignments := s.Assignments
	if assignments == nil {
		assignments = json.RawMessage("[]")
	}
	created, err := scanSession(tx.QueryRow(ctx, `
		INSERT INTO session (person_id, staff_hsa_id, device_id, device_name, platform, assignments, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING `+sessionColumns,
		personID, staffID, s.DeviceID, s.DeviceName, s.Platform, assignments, s.ExpiresAt))
	if err != nil {
		return Session{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO refresh_token (token_hash, session_id) VALUES ($1, $2)`, refreshHash, created.ID); err != nil {
		return Session{}, err
	}
	return created, nil
}

// LoginOrderComplete finishes a citizen login in one transaction: the
// person is created or updated, a session with its first refresh token is
// created, and the login is consumed so it can never yield a second session.
func (s *Store) LoginOrderComplete(ctx context.Context, loginID string, person Person, pnrHash []byte, sess Session, refreshHash []byte) (Person, Session, error) {
	var (
		p       Person
		created Session
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE login_order SET status = 'consumed', hint_code = '', finished_at = now()
			 WHERE id = $1 AND status = 'pending'`, loginID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return refuse("the login is no longer pending")
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO person (pnr_hash, pnr_sealed, given_name, surname, birth_date, last_login_at)
			VALUES ($1, $2, $3, $4, $5, now())
			ON CONFLICT (pnr_hash) DO UPDATE SET given_name = $3, surname = $4, last_login_at = now()
			RETURNING id, pnr_sealed, given_name, surname, birth_date`,
			pnrHash, person.PNRSealed, person.GivenName, person.Surname, person.BirthDate).
			Scan(&p.ID, &p.PNRSealed, &p.GivenName, &p.Surname, &p.BirthDate); err != nil {
			return err
		}
		sess.PersonID = p.ID
		created, err = insertSession(ctx, tx, sess, refreshHash)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE login_order SET session_id = $2 WHERE id = $1`, loginID, created.ID)
		return err
	})
	return p, created, interpretError(err)
}

// LoginOrderReplay answers a completed login once more, for the device that
// started it and lost the first answer: within window of the completion and
// only once, the login's session gets a new refresh token and every earlier
// one of it is spent, as RefreshSession would. No second session is created.
// It fails with ErrPrecondition when the login cannot be replayed.
func (s *Store) LoginOrderReplay(ctx context.Context, loginID string, window time.Duration, refreshHash []byte) (Person, Session, error) {
	var (
		p    Person
		sess Session
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		var sessionID string
		err := tx.QueryRow(ctx, `UPDATE login_order SET replayed_at = now()
			 WHERE id = $1 AND status = 'consumed' AND replayed_at IS NULL AND session_id IS NOT NULL
			   AND finished_at > now() - $2::interval
			RETURNING session_id`, loginID, window).Scan(&sessionID)
		if errors.Is(err, pgx.ErrNoRows) {
			return refuse("the login cannot be answered again")
		} else if err != nil {
			return err
		}
		sess, err = scanSession(tx.QueryRow(ctx, `SELECT `+sessionColumns+` FROM session WHERE id = $1 FOR UPDATE`, sessionID))
		if err != nil {
			return err
		}
		if !sess.RevokedAt.IsZero() || !sess.ExpiresAt.After(time.Now()) {
			return refuse("the login's session has ended")
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_token SET used_at = now() WHERE session_id = $1 AND used_at IS NULL`, sessionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_token (token_hash, session_id) VALUES ($1, $2)`, refreshHash, sessionID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id, pnr_sealed, given_name, surname, birth_date FROM person WHERE id = $1`, sess.PersonID).
			Scan(&p.ID, &p.PNRSealed, &p.GivenName, &p.Surname, &p.BirthDate)
	})
	return p, sess, interpretError(err)
}

// CitizenSessionCreate opens a session for a person who has already proved
// who they are, such as a guardian's session created by an administrator
// tool or a test.
func (s *Store) CitizenSessionCreate(ctx context.Context, personID string, sess Session, refreshHash []byte) (Session, error) {
	var created Session
	sess.PersonID = personID
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		created, err = insertSession(ctx, tx, sess, refreshHash)
		return err
	})
	return created, interpretError(err)
}

// StaffLogin is a staff login waiting for the identity provider's answer.
type StaffLogin struct {
	State, Nonce, Verifier         string
	DeviceID, DeviceName, Platform string
	CreatedAt                      time.Time
}

// StaffLoginCreate stores a started staff login and removes the ones
// started more than maxAge ago, which can no longer complete.
func (s *Store) StaffLoginCreate(ctx context.Context, l StaffLogin, maxAge time.Duration) error {
	return interpretError(s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM staff_login WHERE created_at <= now() - $1::interval`, maxAge); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO staff_login (state, nonce, verifier, device_id, device_name, platform) VALUES ($1, $2, $3, $4, $5, $6)`,
			l.State, l.Nonce, l.Verifier, l.DeviceID, l.DeviceName, l.Platform)
		return err
	}))
}

// StaffLoginTake removes and returns a started staff login, so each state
// can complete at most once.
func (s *Store) StaffLoginTake(ctx context.Context, state string, maxAge time.Duration) (StaffLogin, error) {
	var l StaffLogin
	err := s.pool.QueryRow(ctx, `
		DELETE FROM staff_login WHERE state = $1 AND created_at > now() - $2::interval
		RETURNING state, nonce, verifier, device_id, device_name, platform, created_at`, state, maxAge).
		Scan(&l.State, &l.Nonce, &l.Verifier, &l.DeviceID, &l.DeviceName, &l.Platform, &l.CreatedAt)
	return l, interpretError(err)
}

// StaffLoginPeek returns a started staff login without using it up.
func (s *Store) StaffLoginPeek(ctx context.Context, state string) (StaffLogin, error) {
	var l StaffLogin
	err := s.pool.QueryRow(ctx, `
		SELECT state, nonce, verifier, device_id, device_name, platform, created_at FROM staff_login WHERE state = $1`, state).
		Scan(&l.State, &l.Nonce, &l.Verifier, &l.DeviceID, &l.DeviceName, &l.Platform, &l.CreatedAt)
	return l, interpretError(err)
}

// StaffSessionCreate records the staff member as their identity provider
// describes them and opens a session for them.
func (s *Store) StaffSessionCreate(ctx context.Context, hsaID, name string, roles []string, sess Session, refreshHash []byte) (Session, error) {
	var created Session
	if roles == nil {
		roles = []string{}
	}
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO staff (hsa_id, name, roles) VALUES ($1, $2, $3)
			ON CONFLICT (hsa_id) DO UPDATE SET name = $2, roles = $3, last_login_at = now()`, hsaID, name, roles); err != nil {
			return err
		}
		sess.StaffHSAID = hsaID
		var err error
		created, err = insertSession(ctx, tx, sess, refreshHash)
		return err
	})
	return created, interpretError(err)
}

// StaffGet returns a staff member's name and roles.
func (s *Store) StaffGet(ctx context.Context, hsaID string) (name string, roles []string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT name, roles FROM staff WHERE hsa_id = $1`, hsaID).Scan(&name, &roles)
	return name, roles, interpretError(err)
}

// SessionGet returns a session whether or not it has ended.
func (s *Store) SessionGet(ctx context.Context, id string) (Session, error) {
	sess, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM session WHERE id = $1`, id))
	return sess, interpretError(err)
}

// SessionActive reports whether a session may still be used.
func (s *Store) SessionActive(ctx context.Context, id string) (bool, error) {
	var active bool
	err := s.pool.QueryRow(ctx, `SELECT revoked_at IS NULL AND expires_at > now() FROM session WHERE id = $1`, id).Scan(&active)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return active, interpretError(err)
}

// SessionRefresh spends a refresh token and stores its successor. A token
// spent before revokes the session and fails with ErrTokenReused; a token of
// an ended session fails with ErrSessionEnded, an unknown one or one of
// another device with ErrTokenUnverified. A session refreshed more often
// than perSession allows (zero: no limit) fails with ErrRateLimited and
// keeps its token.
func (s *Store) SessionRefresh(ctx context.Context, oldHash, newHash []byte, deviceID string, perSession Limit) (Session, error) {
	var (
		sess      Session
		reusedErr error
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		var (
			sessionID string
			usedAt    *time.Time
		)
		if err := tx.QueryRow(ctx, `SELECT session_id, used_at FROM refresh_token WHERE token_hash = $1 FOR UPDATE`, oldHash).
			Scan(&sessionID, &usedAt); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrTokenUnverified
			}
			return err
		}
		var err error
		sess, err = scanSession(tx.QueryRow(ctx, `SELECT `+sessionColumns+` FROM session WHERE id = $1 FOR UPDATE`, sessionID))
		if err != nil {
			return err
		}
		if !sess.RevokedAt.IsZero() || !sess.ExpiresAt.After(time.Now()) {
			return ErrSessionEnded
		}
		if usedAt != nil {
			// Commit the revocation, then report the reuse.
			if _, err := tx.Exec(ctx, `UPDATE session SET revoked_at = now(), revoked_reason = 'refresh token reused' WHERE id = $1`, sessionID); err != nil {
				return err
			}
			reusedErr = ErrTokenReused
			return nil
		}
		if sess.DeviceID != deviceID {
			return ErrTokenUnverified
		}
		// The token is the session's own: only now does the refresh count
		// against the session, before the token is spent, so a refused
		// refresh leaves the token usable later.
		if perSession.N > 0 {
			if err := rateLimitTake(ctx, tx, "refresh:session:"+sessionID, perSession); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_token SET used_at = now() WHERE token_hash = $1`, oldHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_token (token_hash, session_id) VALUES ($1, $2)`, newHash, sessionID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE session SET last_used_at = now() WHERE id = $1`, sessionID)
		return err
	})
	if err != nil {
		return Session{}, interpretError(err)
	}
	if reusedErr != nil {
		return Session{}, reusedErr
	}
	return sess, nil
}

// SessionSelectAssignment records the care assignment a staff session acts within.
func (s *Store) SessionSelectAssignment(ctx context.Context, sessionID, assignmentID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE session SET selected_assignment = $2 WHERE id = $1`, sessionID, assignmentID)
	return interpretError(err)
}

// SessionListActive returns the active sessions of a person or staff member.
func (s *Store) SessionListActive(ctx context.Context, personID, staffHSAID string) ([]Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM session
		 WHERE (person_id::text = $1 OR staff_hsa_id = $2) AND revoked_at IS NULL AND expires_at > now()
		 ORDER BY last_used_at DESC`, personID, staffHSAID)
	if err != nil {
		return nil, interpretError(err)
	}
	ss, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Session, error) { return scanSession(row) })
	return ss, interpretError(err)
}

// SessionRevoke ends one session of its owner. It fails with ErrNotFound
// if the session is not the owner's.
func (s *Store) SessionRevoke(ctx context.Context, sessionID, personID, staffHSAID, reason string) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE session SET revoked_at = coalesce(revoked_at, now()), revoked_reason = $4
		 WHERE id::text = $1 AND (person_id::text = $2 OR staff_hsa_id = $3)`, sessionID, personID, staffHSAID, reason)
	if err != nil {
		return interpretError(err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SessionRevokeAll ends every active session of an owner.
func (s *Store) SessionRevokeAll(ctx context.Context, personID, staffHSAID, reason string) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE session SET revoked_at = now(), revoked_reason = $3
		 WHERE (person_id::text = $1 OR staff_hsa_id = $2) AND revoked_at IS NULL`, personID, staffHSAID, reason)
	return int(tag.RowsAffected()), interpretError(err)
}

// RateLimitTake counts one event against key in the current fixed window
// and fails with ErrRateLimited when the window already holds limit events.
func (s *Store) RateLimitTake(ctx context.Context, key string, window time.Duration, limit int) error {
	return interpretError(rateLimitTake(ctx, s.pool, key, Limit{N: limit, Window: window}))
}

// Limit allows N events in each fixed window of Window.
type Limit struct {
	N      int
	Window time.Duration
}

func rateLimitTake(ctx context.Context, q rowQuerier, key string, l Limit) error {
	var count int
	err := q.QueryRow(ctx, `
		INSERT INTO rate_limit (key, window_start, count)
		VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit.count + 1
		RETURNING count`, key, l.Window.Seconds()).Scan(&count)
	if err != nil {
		return err
	}
	if count > l.N {
		return ErrRateLimited
	}
	return nil
}

// AccessLogEntry is one staff access to a patient's data.
type AccessLogEntry struct {
	ID            int64
	At            time.Time
	StaffHSAID    string
	StaffName     string
	AssignmentID  string
	CareUnitHSAID string
	CareUnitName  string
	PatientID     string
	Action        string
	Procedure     string
	ClientIP      netip.Addr
}

// AccessLogAppend records an access. Call it in the transaction that reads
// or writes the data (AccessLogAppendTx) where there is one.
func (s *Store) AccessLogAppend(ctx context.Context, e AccessLogEntry) error {
	return interpretError(accessLogAppend(ctx, s.pool, e))
}

func accessLogAppend(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, e AccessLogEntry) error {
	var ip *netip.Addr
	if e.ClientIP.IsValid() {
		ip = &e.ClientIP
	}
	var id int64
	return db.QueryRow(ctx, `
		INSERT INTO access_log (staff_hsa_id, staff_name, assignment_id, care_unit_hsa_id, care_unit_name,
			patient_id, action, procedure, client_ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		e.StaffHSAID, e.StaffName, e.AssignmentID, e.CareUnitHSAID, e.CareUnitName, e.PatientID, e.Action, e.Procedure, ip).Scan(&id)
}

// AccessLogList returns a patient's access log, newest first, starting
// below beforeID (0 for the newest).
func (s *Store) AccessLogList(ctx context.Context, patientID string, beforeID int64, limit int) ([]AccessLogEntry, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, at, staff_hsa_id, staff_name, assignment_id, care_unit_hsa_id, care_unit_name, patient_id, action, procedure
		  FROM access_log
		 WHERE patient_id = $1 AND ($2 = 0 OR id < $2)
		 ORDER BY id DESC LIMIT $3`, patientID, beforeID, limit)
	if err != nil {
		return nil, interpretError(err)
	}
	es, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AccessLogEntry, error) {
		var e AccessLogEntry
		err := row.Scan(&e.ID, &e.At, &e.StaffHSAID, &e.StaffName, &e.AssignmentID, &e.CareUnitHSAID, &e.CareUnitName,
			&e.PatientID, &e.Action, &e.Procedure)
		return e, err
	})
	return es, interpretError(err)
}
