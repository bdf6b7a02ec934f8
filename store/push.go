package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// PushDevice is one app installation that receives a person's pushes.
type PushDevice struct {
	ID             int64
	PersonID       string
	InstallationID string
	Token          string
	// Platform is "ios", "android" or "web".
	Platform   string
	AppVersion string
	Locale     string
	TimeZone   string
	// SessionID is the session the device was registered under; "" for
	// none. PushDeviceRegister takes it as the caller's session.
	SessionID string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const pushDeviceColumns = `id, person_id, installation_id, token, platform, app_version, locale, time_zone, coalesce(session_id::text, ''), created_at, updated_at`

func scanPushDevice(row pgx.CollectableRow) (PushDevice, error) {
	var d PushDevice
	err := row.Scan(&d.ID, &d.PersonID, &d.InstallationID, &d.Token, &d.Platform, &d.AppVersion, &d.Locale, &d.TimeZone, &d.SessionID, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// PushDeviceRegister registers or refreshes d.InstallationID for d.PersonID,
// under d.SessionID, the caller's session. An installation id names a device
// only among its person's registrations, so naming another person's takes
// nothing from them. A token another person holds moves to d.PersonID only
// with proof that the caller holds the device: their session was started on
// that installation (its device id is d.InstallationID, under which the token
// is registered) after the registration was last refreshed, or the holder
// has signed out of the session they registered it under (an expired session
// is not enough: that needs no act of theirs). Without proof it fails with
// ErrPrecondition and changes nothing. Apps should therefore use their login
// device id as the installation id.
func (s *Store) PushDeviceRegister(ctx context.Context, d PushDevice) (PushDevice, error) {
	var out PushDevice
	err := s.inTx(ctx, func(tx *Tx) error {
		var (
			held  int64
			proof bool
		)
		err := tx.QueryRow(ctx, `
			SELECT d.id,
			       coalesce(d.installation_id = $3 AND me.device_id = $3 AND me.created_at > d.updated_at, false)
			       OR coalesce(owner.revoked_at IS NOT NULL, false)
			  FROM push_device d
			  LEFT JOIN session me ON me.id = $4 AND me.person_id = $2
			  LEFT JOIN session owner ON owner.id = d.session_id
			 WHERE d.token = $1 AND d.person_id <> $2
			   FOR UPDATE OF d`, d.Token, d.PersonID, d.InstallationID, nullUUID(d.SessionID)).Scan(&held, &proof)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case !proof:
			return refuse("this push token is registered to another account; sign in again on this device to receive its notices here")
		default:
			if _, err := tx.Exec(ctx, `DELETE FROM push_device WHERE id = $1`, held); err != nil {
				return err
			}
		}
		// The caller's own registration of the token under another
		// installation id (a reinstall) gives way to this one.
		if _, err := tx.Exec(ctx, `DELETE FROM push_device WHERE token = $1 AND person_id = $2 AND installation_id <> $3`,
			d.Token, d.PersonID, d.InstallationID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			INSERT INTO push_device (person_id, installation_id, token, platform, app_version, locale, time_zone, session_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (person_id, installation_id) DO UPDATE SET
				token = $3, platform = $4, app_version = $5, locale = $6, time_zone = $7, session_id = $8,
				updated_at = now()
			RETURNING `+pushDeviceColumns,
			d.PersonID, d.InstallationID, d.Token, d.Platform, d.AppVersion, d.Locale, d.TimeZone, nullUUID(d.SessionID))
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, scanPushDevice)
		return err
	})
	return out, interpretError(err)
}

// nullUUID is nil for "", so that an empty id is stored and compared as NULL.
func nullUUID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// PushDeviceUnregister removes personID's registration of installationID.
// It is idempotent: an unknown installation is not an error.
func (s *Store) PushDeviceUnregister(ctx context.Context, personID, installationID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM push_device WHERE person_id = $1 AND installation_id = $2`, personID, installationID)
	return interpretError(err)
}

// PushDeviceList returns personID's devices, most recently updated first.
func (s *Store) PushDeviceList(ctx context.Context, personID string) ([]PushDevice, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pushDeviceColumns+` FROM push_device WHERE person_id = $1 ORDER BY updated_at DESC, id DESC`, personID)
	if err != nil {
		return nil, interpretError(err)
	}
	ds, err := pgx.CollectRows(rows, scanPushDevice)
	return ds, interpretError(err)
}

// PushDeviceRemove removes one of personID's devices, or returns ErrNotFound.
func (s *Store) PushDeviceRemove(ctx context.Context, personID string, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_device WHERE person_id = $1 AND id = $2`, personID, id)
	if err != nil {
		return interpretError(err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// PushDeviceForget deletes a device whose token FCM says is gone, unless the
// installation has registered a new token meanwhile.
func (s *Store) PushDeviceForget(ctx context.Context, id int64, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM push_device WHERE id = $1 AND token = $2`, id, token)
	return interpretError(err)
}

// PushPreference is what a person wants pushed, and when.
type PushPreference struct {
	PersonID  string
	Reminders bool
	Messages  bool
	Offers    bool
	// QuietStart and QuietEnd are minutes after local midnight; -1 for none.
	QuietStart, QuietEnd int
	// Language is "sv" or "en".
	Language string
	// TimeZone is an IANA zone name, or "" for the device's.
	TimeZone string
}

// DefaultPushPreference is what a person who never chose gets: everything,
// in Swedish, at any hour.
func DefaultPushPreference(personID string) PushPreference {
	return PushPreference{PersonID: personID, Reminders: true, Messages: true, Offers: true, QuietStart: -1, QuietEnd: -1, Language: "sv"}
}

const pushPreferenceSelect = `
	SELECT pr.reminders, pr.messages, pr.offers, coalesce(pr.quiet_start, -1), coalesce(pr.quiet_end, -1), pr.language, pr.time_zone
	  FROM push_preference pr WHERE pr.person_id = $1`

// PushPreferenceGet returns personID's preferences, or the defaults.
func (s *Store) PushPreferenceGet(ctx context.Context, personID string) (PushPreference, error) {
	p := DefaultPushPreference(personID)
	err := s.pool.QueryRow(ctx, pushPreferenceSelect, personID).
		Scan(&p.Reminders, &p.Messages, &p.Offers, &p.QuietStart, &p.QuietEnd, &p.Language, &p.TimeZone)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	return p, interpretError(err)
}

// PushPreferencePut replaces p.PersonID's preferences.
func (s *Store) PushPreferencePut(ctx context.Context, p PushPreference) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO push_preference (person_id, reminders, messages, offers, quiet_start, quiet_end, language, time_zone)
		VALUES ($1, $2, $3, $4, nullif($5, -1), nullif($6, -1), $7, $8)
		ON CONFLICT (person_id) DO UPDATE SET
			reminders = $2, messages = $3, offers = $4, quiet_start = nullif($5, -1), quiet_end = nullif($6, -1),
			language = $7, time_zone = $8, updated_at = now()`,
		p.PersonID, p.Reminders, p.Messages, p.Offers, p.QuietStart, p.QuietEnd, p.Language, p.TimeZone)
	return interpretError(err)
}

// PushNotice is one notice to one person: an inbox entry and the reason for a
// push. Params hold what its text is rendered from; never health information.
type PushNotice struct {
	ID       int64
	PersonID string
	// Kind is "reminder", "delay", "call_in", "message" or "offer".
	Kind      string
	ReasonID  string
	Params    json.RawMessage
	Link      string
	RefID     string
	DueAt     time.Time
	ExpiresAt time.Time // zero: never
	// State is "pending", "sent", "skipped", "cancelled", "expired" or
	// "failed".
	State string
	// Claims counts how often a sender has claimed the notice.
	Claims    int
	CreatedAt time.Time
	ReadAt    time.Time // zero: unread
}

// PushNoticesInsertTx stores notices in tx, the caller's transaction, and
// returns their ids in order, so that their push jobs commit with them.
func PushNoticesInsertTx(ctx context.Context, tx *Tx, ns []PushNotice) ([]int64, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	var (
		persons, kinds, reasons, links, refs []string
		params                               []string
		dues                                 []time.Time
		expires                              []*time.Time
	)
	for _, n := range ns {
		persons = append(persons, n.PersonID)
		kinds = append(kinds, n.Kind)
		reasons = append(reasons, n.ReasonID)
		p := string(n.Params)
		if p == "" {
			p = "{}"
		}
		params = append(params, p)
		links = append(links, n.Link)
		refs = append(refs, n.RefID)
		dues = append(dues, n.DueAt)
		if n.ExpiresAt.IsZero() {
			expires = append(expires, nil)
		} else {
			e := n.ExpiresAt
			expires = append(expires, &e)
		}
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO push_notice (person_id, kind, reason_id, params, link, ref_id, due_at, next_at, expires_at)
		SELECT p, k, r, pa, l, f, d, d, e FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
		    WITH ORDINALITY AS t(p, k, r, pa, l, f, d, e, ord)
		ORDER BY ord
		RETURNING id`, persons, kinds, reasons, params, links, refs, dues, expires)
	if err != nil {
		return nil, interpretError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, interpretError(err)
}

// PushNoticesCancelTx cancels the pending notices of kind for reasonID (all
// kinds when kind is empty) in tx and returns how many there were. Their jobs
// find them cancelled and send nothing.
func PushNoticesCancelTx(ctx context.Context, tx *Tx, reasonID, kind string) (int64, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE push_notice SET state = 'cancelled'
		 WHERE reason_id = $1 AND state = 'pending' AND ($2 = '' OR kind = $2)`, reasonID, kind)
	if err != nil {
		return 0, interpretError(err)
	}
	return tag.RowsAffected(), nil
}

// PushRemindersExpectTx records in tx that reasonID's visit is now expected to
// start at expected: its pending reminders say so (param "expected") and stay
// worth sending until then.
func PushRemindersExpectTx(ctx context.Context, tx *Tx, reasonID string, expected time.Time) error {
	_, err := tx.Exec(ctx, `
		UPDATE push_notice SET params = params || jsonb_build_object('expected', $2::text),
		       expires_at = greatest(expires_at, $3)
		 WHERE reason_id = $1 AND kind = 'reminder' AND state = 'pending'`,
		reasonID, expected.UTC().Format(time.RFC3339Nano), expected)
	return interpretError(err)
}

// PushInboxList returns personID's notices that are due by now and not
// cancelled, newest first, with ids below before (0: from the newest).
func (s *Store) PushInboxList(ctx context.Context, personID string, before int64, limit int, unreadOnly bool, now time.Time) ([]PushNotice, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, person_id, kind, reason_id, params, link, ref_id, due_at, expires_at, state, created_at, read_at
		  FROM push_notice
		 WHERE person_id = $1 AND id < $2 AND due_at <= $3 AND state <> 'cancelled' AND (NOT $4 OR read_at IS NULL)
		 ORDER BY id DESC
		 LIMIT $5`, personID, before, now, unreadOnly, limit)
	if err != nil {
		return nil, interpretError(err)
	}
	ns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PushNotice, error) {
		var (
			n               PushNotice
			expires, readAt *time.Time
		)
		err := row.Scan(&n.ID, &n.PersonID, &n.Kind, &n.ReasonID, &n.Params, &n.Link, &n.RefID, &n.DueAt, &expires, &n.State, &n.CreatedAt, &readAt)
		if expires != nil {
			n.ExpiresAt = *expires
		}
		if readAt != nil {
			n.ReadAt = *readAt
		}
		return n, err
	})
	return ns, interpretError(err)
}

// PushInboxUnread counts personID's unread notices due by now.
func (s *Store) PushInboxUnread(ctx context.Context, personID string, now time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FROM push_notice
		 WHERE person_id = $1 AND due_at <= $2 AND state <> 'cancelled' AND read_at IS NULL`, personID, now).Scan(&n)
	return n, interpretError(err)
}

// PushInboxMarkRead marks personID's notices ids (every due one when all)
// read at now. Ids of other people's notices are ignored.
func (s *Store) PushInboxMarkRead(ctx context.Context, personID string, ids []int64, all bool, now time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE push_notice SET read_at = $4
		 WHERE person_id = $1 AND read_at IS NULL AND due_at <= $4 AND ($3 OR id = ANY($2))`, personID, ids, all, now)
	return interpretError(err)
}

// FormatID and ParseID turn the bigint ids of devices and notices into the
// API's strings and back.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }

// ParseID parses an id from FormatID; anything else is ErrNotFound.
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrNotFound
	}
	return id, nil
}
