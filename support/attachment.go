package support

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/attachment"
	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/store"
)

// upload is one file to attach to a message, as sent.
type upload struct {
	name, declaredType string
	data               []byte
}

// inspect checks a file sent to the API and returns it ready to keep, or
// INVALID_ARGUMENT saying what was wrong (attachment's errors are fit to
// show).
func (s *Service) inspect(u upload) (attachment.File, error) {
	f, err := attachment.Inspect(u.name, u.declaredType, u.data, s.cfg.AttachmentLimit)
	if err != nil {
		return f, connect.NewError(connect.CodeInvalidArgument, errors.New("data: "+err.Error()))
	}
	return f, nil
}

// keep stores the checked files' bytes, before the transaction that
// writes the message naming them: a message never names missing bytes.
// The caller drops the blobs again if that transaction does not write
// them (see drop).
func (s *Service) keep(ctx context.Context, files []attachment.File) ([]store.SupportAttachment, error) {
	out := make([]store.SupportAttachment, 0, len(files))
	for _, f := range files {
		a := store.SupportAttachment{FileName: f.Name, ContentType: string(f.Type), SizeBytes: int64(len(f.Data)), BlobKey: attachment.NewKey()}
		if err := s.blobs.Put(ctx, a.BlobKey, f.Data, a.ContentType); err != nil {
			s.drop(out)
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// drop deletes blobs that no message came to name (a refused or replayed
// message); a failure only leaves unreachable bytes, so it is logged.
func (s *Service) drop(as []store.SupportAttachment) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range as {
		if err := s.blobs.Delete(ctx, a.BlobKey); err != nil {
			s.logger.Warn("support: an unused attachment blob was not deleted", slog.String("error", err.Error()))
		}
	}
}

// attachmentText is the optional text of a message with a file.
func attachmentText(text string) (string, error) {
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) > maxText {
		return "", connect.NewError(connect.CodeInvalidArgument, errors.New("text: a message is at most 4000 characters"))
	}
	return text, nil
}

// readAttachment returns an attachment of case c with its bytes.
func (s *Service) readAttachment(ctx context.Context, c store.SupportCase, id string) (*supportv1.Attachment, []byte, error) {
	a, err := s.store.SupportAttachmentGet(ctx, c.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, connect.NewError(connect.CodeNotFound, errors.New("the case has no such attachment"))
	} else if err != nil {
		return nil, nil, err
	}
	data, _, err := s.blobs.Get(ctx, a.BlobKey)
	if err != nil {
		return nil, nil, err
	}
	return attachmentToProto(a), data, nil
}

func (s *citizenService) AddAttachment(ctx context.Context, req *supportv1.AddAttachmentRequest) (*supportv1.AddAttachmentResponse, error) {
	text, err := attachmentText(req.Text)
	if err != nil {
		return nil, err
	}
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return nil, err
	}
	if c.State == "closed" {
		return nil, errClosed
	}
	f, err := s.inspect(upload{req.FileName, req.ContentType, req.Data})
	if err != nil {
		return nil, err
	}
	kept, err := s.keep(ctx, []attachment.File{f})
	if err != nil {
		return nil, err
	}
	var replayed *store.SupportEvent
	_, es, err := s.store.SupportCaseUpdate(ctx, c.ID, func(tx *store.Tx, c *store.SupportCase) ([]store.SupportEvent, error) {
		if e, err := store.SupportEventByKeyTx(ctx, tx, c.ID, req.IdempotencyKey); err == nil && e.Party == "citizen" {
			replayed = &e
			return nil, nil
		} else if err == nil {
			return nil, connect.NewError(connect.CodeAlreadyExists, errors.New("idempotency_key: already used in this case; make a new one for a new message"))
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if c.State == "closed" {
			return nil, errClosed
		}
		if c.GuestSecretHash != nil {
			if c.GuestMessages >= s.cfg.GuestMessages {
				return nil, errGuestMessages(s.cfg.GuestMessages)
			}
			c.GuestMessages++
		}
		if c.State == "waiting" {
			c.State = "open"
		}
		c.CitizenTypingUntil = time.Time{}
		return []store.SupportEvent{{Kind: "message", Party: "citizen", Body: text, Channel: "app",
			IdempotencyKey: req.IdempotencyKey, Attachments: kept}}, nil
	})
	if err != nil || replayed != nil {
		s.drop(kept)
	}
	if err != nil {
		return nil, err
	}
	if replayed != nil {
		return &supportv1.AddAttachmentResponse{Event: eventToProto(*replayed, false)}, nil
	}
	return &supportv1.AddAttachmentResponse{Event: eventToProto(es[0], false)}, nil
}

func (s *citizenService) GetAttachment(ctx context.Context, req *supportv1.GetAttachmentRequest) (*supportv1.GetAttachmentResponse, error) {
	c, err := s.citizenCase(ctx, req.CaseId, req.GuestSecret)
	if err != nil {
		return nil, err
	}
	a, data, err := s.readAttachment(ctx, c, req.AttachmentId)
	if err != nil {
		return nil, err
	}
	return &supportv1.GetAttachmentResponse{Attachment: a, Data: data}, nil
}

func (s *deskService) AddAttachment(ctx context.Context, req *supportv1.SupportDeskServiceAddAttachmentRequest) (*supportv1.SupportDeskServiceAddAttachmentResponse, error) {
	text, err := attachmentText(req.Text)
	if err != nil {
		return nil, err
	}
	// The case must exist and be open before anything is kept.
	if c, err := s.store.SupportCaseGet(ctx, req.CaseId); errors.Is(err, store.ErrNotFound) {
		return nil, errNoCase
	} else if err != nil {
		return nil, err
	} else if c.State == "closed" {
		return nil, errClosed
	}
	f, err := s.inspect(upload{req.FileName, req.ContentType, req.Data})
	if err != nil {
		return nil, err
	}
	kept, err := s.keep(ctx, []attachment.File{f})
	if err != nil {
		return nil, err
	}
	var replayed *store.SupportEvent
	_, es, err := s.change(ctx, req.CaseId, func(tx *store.Tx, c *store.SupportCase, p access.Principal) ([]store.SupportEvent, error) {
		if e, err := store.SupportEventByKeyTx(ctx, tx, c.ID, req.IdempotencyKey); err == nil && e.Party == "support" {
			replayed = &e
			return nil, nil
		} else if err == nil {
			return nil, connect.NewError(connect.CodeAlreadyExists, errors.New("idempotency_key: already used in this case"))
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if c.AssigneeHSAID == "" {
			c.AssigneeHSAID, c.AssigneeName = p.HSAID, p.DisplayName
		}
		c.SupportTypingUntil = time.Time{}
		// The file is read in the app; it is not mailed.
		if c.PersonID != "" && s.notify != nil {
			if err := s.notify.Notify(ctx, tx, notify.Notice{Kind: notify.KindSupportReply, PersonIDs: []string{c.PersonID},
				ReasonID: "support-case-" + c.ID, Link: "/support/cases/" + c.ID, RefID: c.ID}); err != nil {
				return nil, err
			}
		}
		return []store.SupportEvent{{Kind: "message", Party: "support", AuthorHSAID: p.HSAID, AuthorName: p.DisplayName,
			Body: text, Channel: "app", IdempotencyKey: req.IdempotencyKey, Attachments: kept}}, nil
	})
	if err != nil || replayed != nil {
		s.drop(kept)
	}
	if err != nil {
		return nil, err
	}
	if replayed != nil {
		return &supportv1.SupportDeskServiceAddAttachmentResponse{Event: eventToProto(*replayed, true)}, nil
	}
	return &supportv1.SupportDeskServiceAddAttachmentResponse{Event: eventToProto(es[0], true)}, nil
}

func (s *deskService) GetAttachment(ctx context.Context, req *supportv1.SupportDeskServiceGetAttachmentRequest) (*supportv1.SupportDeskServiceGetAttachmentResponse, error) {
	c, err := s.staffCase(ctx, req.CaseId)
	if err != nil {
		return nil, err
	}
	a, data, err := s.readAttachment(ctx, c, req.AttachmentId)
	if err != nil {
		return nil, err
	}
	return &supportv1.SupportDeskServiceGetAttachmentResponse{Attachment: a, Data: data}, nil
}

func attachmentToProto(a store.SupportAttachment) *supportv1.Attachment {
	return &supportv1.Attachment{Id: a.ID, FileName: a.FileName, ContentType: a.ContentType, SizeBytes: a.SizeBytes}
}
