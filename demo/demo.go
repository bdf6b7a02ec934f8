// Package demo loads a realistic region into an empty database — care units,
// the FAQ in Swedish and English, and bookable times for the coming days — so
// a newcomer can explore at once.
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/store"
)

//go:embed faq.json
var content []byte

type text struct {
	Title   string `json:"title"`
	Summary string `json:"summary"`
	Body    string `json:"body"`
}

type data struct {
	Categories []struct {
		Slug string    `json:"slug"`
		SV   [2]string `json:"sv"`
		EN   [2]string `json:"en"`
	} `json:"categories"`
	Articles []struct {
		Slug     string             `json:"slug"`
		Category string             `json:"category"`
		Reviewed string             `json:"reviewed"`
		Sources  []store.SourceLink `json:"sources"`
		SV       text               `json:"sv"`
		EN       text               `json:"en"`
	} `json:"articles"`
	ContactPoints []struct {
		Kind         string    `json:"kind"`
		Purpose      string    `json:"purpose"`
		SV           [2]string `json:"sv"`
		EN           [2]string `json:"en"`
		Address      string    `json:"address"`
		FollowsHours bool      `json:"followsHours"`
	} `json:"contactPoints"`
	Providers []struct {
		HSAID  string `json:"hsaId"`
		Name   string `json:"name"`
		Public bool   `json:"public"`
	} `json:"providers"`
	Units []struct {
		HSAID, Provider, Name, Street, PostalCode, City, Municipality, Phone string
		Lat                                                                  float64 `json:"lat"`
		Lon                                                                  float64 `json:"lon"`
		// Hours are "08:00-17:00" per kind of day: weekday, weekend, holiday.
		Hours map[string]string `json:"hours"`
	} `json:"units"`
}

// Families are the demo's custody relations between BankID simulator test
// users: guardian's personal number → children's. Anna Provsson can act for
// Lilla Barnsson (born 2020).
func Families() map[string][]string {
	return map[string][]string{"198507099805": {"202012129892"}}
}

// people are the demo persons known before anyone logs in: the families.
var people = map[string][2]string{
	"198507099805": {"Anna", "Provsson"},
	"202012129892": {"Lilla", "Barnsson"},
}

// Seed loads the demo region. It is idempotent: articles that already exist
// are left as editors made them.
func Seed(ctx context.Context, st *store.Store, protector *pnr.Protector) error {
	if err := seedHelp(ctx, st); err != nil {
		return err
	}
	ids := map[string]string{}
	for digits, name := range people {
		n, err := pnr.ParseDigits(digits)
		if err != nil {
			return err
		}
		sealed, err := protector.Seal(n, nil)
		if err != nil {
			return err
		}
		p, err := st.PersonUpsert(ctx, protector.Lookup(n), sealed, name[0], name[1], n.BirthDate())
		if err != nil {
			return err
		}
		ids[digits] = p.ID
	}
	for guardian, children := range Families() {
		for _, child := range children {
			if err := st.GuardianshipAdd(ctx, ids[guardian], ids[child]); err != nil {
				return err
			}
		}
	}
	return seedSlots(ctx, st, time.Now())
}

// demoSlotDays is how many days ahead, from tomorrow, the demo units publish.
const demoSlotDays = 5

// seedSlots publishes bookable times at the demo units for the coming days:
// vaccination lanes in Kista, visits at Södermalm, video visits at the digital
// unit. Days already published are left as they are, and not published
// again: a restart is silent, also in PostgreSQL's log.
func seedSlots(ctx context.Context, st *store.Store, now time.Time) error {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return err
	}
	plans := []struct {
		unit, service   string
		from, to        int // hours, local time
		minutes, places int
	}{
		{"SE2321000016-1A03", "vaccination", 9, 12, 10, 4},
		{"SE2321000016-1A01", "physical_visit", 13, 16, 20, 1},
		{"SE2321000016-1A01", "covid_test", 8, 10, 15, 2},
		{"SE2321000016-1A04", "video_visit", 9, 11, 20, 1},
	}
	today := now.In(loc)
	for d := 1; d <= demoSlotDays; d++ {
		day := time.Date(today.Year(), today.Month(), today.Day()+d, 0, 0, 0, 0, loc)
		for _, p := range plans {
			start, end := day.Add(time.Duration(p.from)*time.Hour), day.Add(time.Duration(p.to)*time.Hour)
			if published, err := st.SlotList(ctx, p.unit, p.service, start, end, 1); err != nil {
				return fmt.Errorf("demo slots at %s: %w", p.unit, err)
			} else if len(published) > 0 {
				continue // published by an earlier start; publishing again would only be refused
			}
			var slots []store.Slot
			for t := start; t.Before(end); t = t.Add(time.Duration(p.minutes) * time.Minute) {
				slots = append(slots, store.Slot{
					CareUnitHSAID: p.unit, ServiceCode: p.service, StartsAt: t, EndsAt: t.Add(time.Duration(p.minutes) * time.Minute),
					Capacity: p.places, CreatedBy: "demo",
				})
			}
			if _, err := st.SlotsPublish(ctx, slots); err != nil && !errors.Is(err, store.ErrPrecondition) {
				return fmt.Errorf("demo slots at %s: %w", p.unit, err)
			}
		}
	}
	return nil
}

func seedHelp(ctx context.Context, st *store.Store) error {
	var d data
	if err := json.Unmarshal(content, &d); err != nil {
		return fmt.Errorf("demo content: %w", err)
	}
	for i, c := range d.Categories {
		if err := st.CategoryUpsert(ctx, c.Slug, i, c.SV[0], c.EN[0], c.SV[1], c.EN[1]); err != nil {
			return err
		}
	}
	for _, a := range d.Articles {
		reviewed, err := time.Parse(time.DateOnly, a.Reviewed)
		if err != nil {
			return fmt.Errorf("article %s: %w", a.Slug, err)
		}
		for lang, t := range map[store.Language]text{store.LanguageSwedish: a.SV, store.LanguageEnglish: a.EN} {
			c := store.ArticleContent{
				CategorySlug: a.Category, Title: t.Title, Summary: t.Summary, BodyMarkdown: t.Body,
				Sources: a.Sources, LastReviewedOn: reviewed,
			}
			// An existing article is left as editors made it. Looking first,
			// rather than letting the insert fail, keeps a restart out of
			// the database's error log.
			if _, err := st.HelpArticleVersions(ctx, a.Slug, lang); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("article %s/%s: %w", a.Slug, lang, err)
			}
			if _, err := st.HelpArticleCreate(ctx, a.Slug, lang, c, "demo"); errors.Is(err, store.ErrConflict) {
				continue // another replica loaded it just now
			} else if err != nil {
				return fmt.Errorf("article %s/%s: %w", a.Slug, lang, err)
			}
			if _, err := st.HelpArticlePublish(ctx, a.Slug, lang, 1); err != nil {
				return fmt.Errorf("publish %s/%s: %w", a.Slug, lang, err)
			}
		}
	}
	var cps []store.ContactPoint
	for _, c := range d.ContactPoints {
		cps = append(cps, store.ContactPoint{
			Kind: c.Kind, Purpose: c.Purpose, LabelSV: c.SV[0], DescriptionSV: c.SV[1],
			LabelEN: c.EN[0], DescriptionEN: c.EN[1], Address: c.Address, FollowsSupportHours: c.FollowsHours,
		})
	}
	if err := st.ContactPointReplace(ctx, cps); err != nil {
		return err
	}
	for _, p := range d.Providers {
		if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: p.HSAID, Name: p.Name, IsPublic: p.Public}); err != nil {
			return err
		}
	}
	for _, u := range d.Units {
		if err := st.CareUnitUpsert(ctx, store.CareUnit{
			HSAID: u.HSAID, ProviderHSAID: u.Provider, Name: u.Name, Street: u.Street, PostalCode: u.PostalCode,
			City: u.City, Municipality: u.Municipality, Latitude: u.Lat, Longitude: u.Lon, Phone: u.Phone,
		}); err != nil {
			return err
		}
		var hours []store.OpeningHours
		for kind, span := range u.Hours {
			h, err := parseSpan(kind, span)
			if err != nil {
				return fmt.Errorf("demo: unit %s: %w", u.HSAID, err)
			}
			hours = append(hours, h)
		}
		if err := st.CareUnitHoursSet(ctx, u.HSAID, hours); err != nil {
			return err
		}
	}
	return nil
}

// parseSpan reads opening hours such as "08:00-17:00".
func parseSpan(kind, span string) (store.OpeningHours, error) {
	from, to, ok := strings.Cut(span, "-")
	opens, err1 := time.Parse("15:04", from)
	closes, err2 := time.Parse("15:04", to)
	if !ok || err1 != nil || err2 != nil {
		return store.OpeningHours{}, fmt.Errorf("opening hours %q are not like 08:00-17:00", span)
	}
	midnight := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	return store.OpeningHours{DayKind: kind, Opens: opens.Sub(midnight), Closes: closes.Sub(midnight)}, nil
}
