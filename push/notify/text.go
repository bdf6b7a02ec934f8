package notify

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nara-care/nara/push/fcm"
)

// Kind says what a notice is about; it picks the text, the FCM category and
// whether quiet hours and preferences hold it back.
type Kind string

// The kinds of notices Nära sends.
const (
	// KindReminder reminds of a booked visit; scheduled with ScheduleReminders.
	KindReminder Kind = "reminder"
	// KindDelay says the clinician is running late. Urgent.
	KindDelay Kind = "delay"
	// KindCallIn says the clinician is ready for the video visit now. Urgent.
	KindCallIn Kind = "call_in"
	// KindMessage announces a new secure message.
	KindMessage Kind = "message"
	// KindOffer announces an offered appointment.
	KindOffer Kind = "offer"
	// KindMoved says the unit moved a booked appointment; At is the new start.
	KindMoved Kind = "moved"
	// KindCancelled says the unit cancelled a booked appointment.
	KindCancelled Kind = "cancelled"
	// KindSupportReply says support answered one of the citizen's cases;
	// like a message, it never carries the answer.
	KindSupportReply Kind = "support_reply"
)

func (k Kind) valid() bool {
	switch k {
	case KindReminder, KindDelay, KindCallIn, KindMessage, KindOffer, KindMoved, KindCancelled, KindSupportReply:
		return true
	}
	return false
}

// urgent notices are about the next minutes and ignore quiet hours.
func (k Kind) urgent() bool { return k == KindCallIn || k == KindDelay }

// family is what a notice's collapse id names besides its reason: the notices
// about one visit's time (reminders, delays, a move, a cancellation) share
// one, so that the newest replaces the older on the device.
func (k Kind) family() string {
	switch k {
	case KindReminder, KindDelay, KindMoved, KindCancelled:
		return "visit"
	}
	return string(k)
}

// category is the FCM category (Android channel, APNs category) of k.
func (k Kind) category() fcm.Category {
	switch k {
	case KindReminder:
		return fcm.CategoryReminder
	case KindCallIn, KindDelay:
		return fcm.CategoryCallIn
	case KindMessage, KindSupportReply:
		return fcm.CategoryMessage
	}
	return fcm.CategoryGeneral
}

// params are what a notice's text is rendered from. They hold times and
// flags, never the reason for a visit.
type params struct {
	// At is the visit's start (reminder) or the expected start (delay).
	At    time.Time `json:"at,omitzero"`
	Video bool      `json:"video,omitempty"`
	// Expected is a reminder's expected start after a delay report.
	Expected time.Time `json:"expected,omitzero"`
	// Child marks a guardian's copy of a notice about their child's visit.
	Child bool `json:"child,omitempty"`
}

func decodeParams(raw []byte) params {
	var p params
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &p) // written by this package; a bad row renders without a time
	}
	return p
}

// Text renders a notice of kind for the lock screen, in lang ("sv" or "en";
// anything else is Swedish) with times in loc at now. The text never says
// more than the kind of notice, whose visit (the reader's or their child's,
// never a name) and a time: no reason, unit or clinician.
func Text(kind Kind, raw []byte, lang string, loc *time.Location, now time.Time) (title, body string) {
	p := decodeParams(raw)
	en := lang == "en"
	at := p.At.In(loc)
	// who picks the wording for the reader's own visit or their child's.
	who := func(own, child string) string {
		if p.Child {
			return child
		}
		return own
	}
	switch kind {
	case KindReminder:
		what := map[bool]string{false: "en bokad tid", true: "ett videobesök"}[p.Video]
		expected := ""
		if !p.Expected.IsZero() && !p.Expected.Equal(p.At) {
			expected = fmt.Sprintf(" Beräknad start kl. %s.", p.Expected.In(loc).Format("15:04"))
		}
		if en {
			what = map[bool]string{false: "an appointment", true: "a video visit"}[p.Video]
			if expected != "" {
				expected = fmt.Sprintf(" Expected start at %s.", p.Expected.In(loc).Format("15:04"))
			}
			return "Reminder", fmt.Sprintf("%s %s %s at %s.%s", who("You have", "Your child has"), what, dayEN(at, now.In(loc)), at.Format("15:04"), expected)
		}
		return "Påminnelse", fmt.Sprintf("%s %s %s kl. %s.%s", who("Du har", "Ditt barn har"), what, daySV(at, now.In(loc)), at.Format("15:04"), expected)
	case KindDelay:
		if en {
			return who("Your visit is running late", "Your child's visit is running late"), fmt.Sprintf("Expected start at %s.", at.Format("15:04"))
		}
		return who("Ditt besök blir försenat", "Ditt barns besök blir försenat"), fmt.Sprintf("Beräknad start kl. %s.", at.Format("15:04"))
	case KindCallIn:
		if en {
			return who("It's time for your video visit", "It's time for your child's video visit"), "Tap to join."
		}
		return who("Det är dags för ditt videobesök", "Det är dags för ditt barns videobesök"), "Tryck för att ansluta."
	case KindMessage:
		if en {
			return "New message", "You have a new message in Nära."
		}
		return "Nytt meddelande", "Du har ett nytt meddelande i Nära."
	case KindSupportReply:
		if en {
			return "Support", "You have a new reply from support"
		}
		return "Supporten", "Du har ett nytt svar från supporten"
	case KindOffer:
		if en {
			return who("An appointment is offered", "An appointment is offered for your child"), "Open the app to see the offer."
		}
		return who("En tid erbjuds", "En tid erbjuds ditt barn"), "Öppna appen för att se erbjudandet."
	case KindMoved:
		if en {
			return who("Your appointment has a new time", "Your child's appointment has a new time"), fmt.Sprintf("New time: %s at %s.", dayEN(at, now.In(loc)), at.Format("15:04"))
		}
		return who("Din tid har flyttats", "Ditt barns tid har flyttats"), fmt.Sprintf("Ny tid: %s kl. %s.", daySV(at, now.In(loc)), at.Format("15:04"))
	case KindCancelled:
		if en {
			return who("Your appointment was cancelled", "Your child's appointment was cancelled"), "The care unit cancelled it. Open the app to book a new time."
		}
		return who("Din tid har avbokats", "Ditt barns tid har avbokats"), "Mottagningen har avbokat tiden. Öppna appen för att boka en ny."
	}
	if en {
		return "Nära", "You have a new notice."
	}
	return "Nära", "Du har en ny avisering."
}

var (
	monthsSV = [...]string{"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"}
	monthsEN = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// daysApart is how many calendar days lie between now's date and at's.
func daysApart(at, now time.Time) int {
	a := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Hours() / 24)
}

func daySV(at, now time.Time) string {
	switch daysApart(at, now) {
	case 0:
		return "i dag"
	case 1:
		return "i morgon"
	}
	if at.Year() != now.Year() {
		return fmt.Sprintf("den %d %s %d", at.Day(), monthsSV[at.Month()-1], at.Year())
	}
	return fmt.Sprintf("den %d %s", at.Day(), monthsSV[at.Month()-1])
}

func dayEN(at, now time.Time) string {
	switch daysApart(at, now) {
	case 0:
		return "today"
	case 1:
		return "tomorrow"
	}
	if at.Year() != now.Year() {
		return fmt.Sprintf("on %d %s %d", at.Day(), monthsEN[at.Month()-1], at.Year())
	}
	return fmt.Sprintf("on %d %s", at.Day(), monthsEN[at.Month()-1])
}

// QuietHours is a daily span of local time, in minutes after midnight, in
// which non-urgent notices wait. End before Start runs over midnight.
type QuietHours struct{ Start, End int }

// Until returns when the quiet hours that hold local time t end, or the zero
// time when t is outside them.
func (q QuietHours) Until(t time.Time) time.Time {
	if q.Start < 0 || q.End < 0 || q.Start == q.End {
		return time.Time{}
	}
	m := t.Hour()*60 + t.Minute()
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	end := func(dayOffset int) time.Time {
		return time.Date(midnight.Year(), midnight.Month(), midnight.Day()+dayOffset, q.End/60, q.End%60, 0, 0, t.Location())
	}
	if q.Start < q.End {
		if m >= q.Start && m < q.End {
			return end(0)
		}
		return time.Time{}
	}
	switch { // over midnight
	case m >= q.Start:
		return end(1)
	case m < q.End:
		return end(0)
	}
	return time.Time{}
}
