package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// PushTarget is one claimed notice with what sending it needs: the person's
// preferences and the devices that have not had it yet.
type PushTarget struct {
	Notice     PushNotice
	Preference PushPreference
	// DeviceTimeZone is the most recently updated device's zone, "" if none.
	DeviceTimeZone string
	// Devices are those with no delivery of this notice recorded yet: the
	// (notice, device) idempotency key.
	Devices []PushDevice
	// Delivered counts the devices FCM has already accepted the notice for,
	// on earlier claims.
	Delivered int
}

// PushNoticesClaim claims up to limit pending notices whose next_at has come
// by now, oldest first, among ids (any notice when ids is nil), and leases
// them until now+lease: no other claim takes them before then, and if the
// claimant dies they are claimed again after it. Rows another claimant holds
// locked are skipped, not waited for. It returns the claimed notices with the
// preferences of their people and their undelivered devices, in one round
// trip.
func (s *Store) PushNoticesClaim(ctx context.Context, ids []int64, limit int, now time.Time, lease time.Duration) ([]PushTarget, error) {
	// Without ids the statement has no id filter at all, so that its reused
	// plan walks push_notice_next_idx rather than planning for the array.
	only := "AND id = ANY($2)"
	if ids == nil {
		only = "AND $2::bigint[] IS NULL"
	}
	rows, err := s.pool.Query(ctx, `
		WITH c AS (
			SELECT id FROM push_notice
			 WHERE state = 'pending' AND next_at <= $1 `+only+`
			 ORDER BY next_at, id
			 LIMIT $3
			 FOR UPDATE SKIP LOCKED
		), n AS (
			UPDATE push_notice p SET next_at = $1 + $4::interval, claims = p.claims + 1
			  FROM c WHERE p.id = c.id
			RETURNING p.id, p.person_id, p.kind, p.reason_id, p.params, p.link, p.ref_id, p.due_at, p.expires_at,
			          p.state, p.created_at, p.claims
		)
		SELECT n.*,
		       coalesce(pr.reminders, true), coalesce(pr.messages, true), coalesce(pr.offers, true),
		       coalesce(pr.quiet_start, -1), coalesce(pr.quiet_end, -1), coalesce(pr.language, 'sv'), coalesce(pr.time_zone, ''),
		       coalesce(dev.devices, '[]'::jsonb),
		       (SELECT count(*) FROM push_delivery x WHERE x.notice_id = n.id AND x.status = 'delivered')
		  FROM n
		  LEFT JOIN push_preference pr ON pr.person_id = n.person_id
		  LEFT JOIN LATERAL (
		        SELECT jsonb_agg(jsonb_build_object('id', d.id, 'token', d.token, 'platform', d.platform,
		                                            'tz', d.time_zone, 'locale', d.locale) ORDER BY d.updated_at DESC) AS devices
		          FROM push_device d
		         WHERE d.person_id = n.person_id
		           AND NOT EXISTS (SELECT 1 FROM push_delivery x WHERE x.notice_id = n.id AND x.device_id = d.id)
		  ) dev ON true
		 ORDER BY n.id`, now, ids, limit, lease)
	if err != nil {
		return nil, interpretError(err)
	}
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PushTarget, error) {
		var (
			t       PushTarget
			expires *time.Time
			devs    []byte
		)
		n := &t.Notice
		p := &t.Preference
		err := row.Scan(&n.ID, &n.PersonID, &n.Kind, &n.ReasonID, &n.Params, &n.Link, &n.RefID, &n.DueAt, &expires, &n.State, &n.CreatedAt, &n.Claims,
			&p.Reminders, &p.Messages, &p.Offers, &p.QuietStart, &p.QuietEnd, &p.Language, &p.TimeZone, &devs, &t.Delivered)
		if err != nil {
			return t, err
		}
		p.PersonID = n.PersonID
		if expires != nil {
			n.ExpiresAt = *expires
		}
		var ds []struct {
			ID       int64  `json:"id"`
			Token    string `json:"token"`
			Platform string `json:"platform"`
			TZ       string `json:"tz"`
			Locale   string `json:"locale"`
		}
		if err := json.Unmarshal(devs, &ds); err != nil {
			return t, err
		}
		for i, d := range ds {
			if i == 0 {
				t.DeviceTimeZone = d.TZ
			}
			t.Devices = append(t.Devices, PushDevice{ID: d.ID, PersonID: n.PersonID, Token: d.Token, Platform: d.Platform, TimeZone: d.TZ, Locale: d.Locale})
		}
		return t, nil
	})
	return ts, interpretError(err)
}

// PushDelivery is FCM's final answer for one notice to one device.
type PushDelivery struct {
	NoticeID int64
	DeviceID int64
	// Failed is true for a permanent failure, false for delivered.
	Failed bool
	// Detail is FCM's message name, or the failure's reason.
	Detail string
}

// PushFinish ends a pending notice in State: "sent", "skipped", "expired" or
// "failed".
type PushFinish struct {
	NoticeID int64
	State    string
}

// PushLater moves a pending notice's next claim to At: after quiet hours, after
// FCM's Retry-After, or a lease ahead for a notice still being sent.
type PushLater struct {
	NoticeID int64
	At       time.Time
}

// PushSettlement is what a sender learned since its last one.
type PushSettlement struct {
	// Deliveries are final answers per (notice, device), so that no later
	// claim sends them again. One already recorded is kept as it was.
	Deliveries []PushDelivery
	Finished   []PushFinish
	Later      []PushLater
}

func (st PushSettlement) empty() bool {
	return len(st.Deliveries) == 0 && len(st.Finished) == 0 && len(st.Later) == 0
}

// PushSettle records st in one transaction and one round trip. Notices no
// longer pending (cancelled meanwhile) are left as they are.
func (s *Store) PushSettle(ctx context.Context, st PushSettlement) error {
	if st.empty() {
		return nil
	}
	var b pgx.Batch
	if len(st.Deliveries) > 0 {
		notices := make([]int64, len(st.Deliveries))
		devices := make([]int64, len(st.Deliveries))
		statuses := make([]string, len(st.Deliveries))
		details := make([]string, len(st.Deliveries))
		for i, d := range st.Deliveries {
			notices[i], devices[i], details[i] = d.NoticeID, d.DeviceID, d.Detail
			statuses[i] = "delivered"
			if d.Failed {
				statuses[i] = "failed"
			}
		}
		b.Queue(`
			INSERT INTO push_delivery (notice_id, device_id, status, detail)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])
			ON CONFLICT (notice_id, device_id) DO NOTHING`, notices, devices, statuses, details)
	}
	if len(st.Finished) > 0 {
		ids := make([]int64, len(st.Finished))
		states := make([]string, len(st.Finished))
		for i, f := range st.Finished {
			ids[i], states[i] = f.NoticeID, f.State
		}
		b.Queue(`
			UPDATE push_notice p SET state = u.state, sent_at = CASE WHEN u.state = 'sent' THEN now() ELSE p.sent_at END
			  FROM unnest($1::bigint[], $2::text[]) AS u(id, state)
			 WHERE p.id = u.id AND p.state = 'pending'`, ids, states)
	}
	if len(st.Later) > 0 {
		ids := make([]int64, len(st.Later))
		ats := make([]time.Time, len(st.Later))
		for i, l := range st.Later {
			ids[i], ats[i] = l.NoticeID, l.At
		}
		b.Queue(`
			UPDATE push_notice p SET next_at = u.at
			  FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at)
			 WHERE p.id = u.id AND p.state = 'pending'`, ids, ats)
	}
	// A batch outside a transaction runs as one implicit transaction.
	return interpretError(s.pool.SendBatch(ctx, &b).Close())
}
