package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/bench/internal/naraproc"
	"github.com/nara-care/nara/bench/internal/proccpu"
	"github.com/nara-care/nara/bench/internal/report"
)

// mailDomain is support's e-mail domain in the benchmark.
const mailDomain = "support.nara.localhost"

// mailResult is one run of inbound mail.
type mailResult struct {
	mails, opening, replies int
	// kinds counts the mails of each shape sent.
	kinds      map[string]int
	openWall   time.Duration // the mails that open cases
	replyWall  time.Duration // the replies to them
	sendErrors int
	firstErr   string
	// Counted in the database afterwards.
	cases, emailMessages, threaded int
	cpu                            proccpu.Cores
	loadAfter                      string
	warnings                       string
}

func (r *mailResult) wall() time.Duration { return r.openWall + r.replyWall }

func (r *mailResult) perSecond() float64 { return float64(r.mails) / r.wall().Seconds() }

// complete reports whether every mail became a message, every opening mail
// a case, and every reply joined the case it answered.
func (r *mailResult) complete() bool {
	return r.sendErrors == 0 && r.cases == r.opening && r.emailMessages == r.mails && r.threaded == r.replies
}

func (r *mailResult) summary() string {
	return fmt.Sprintf("%d mails in %s: %.0f mails/s; %d cases of %d, %d messages of %d, %d of %d replies threaded, %d send errors",
		r.mails, r.wall().Round(time.Millisecond), r.perSecond(), r.cases, r.opening, r.emailMessages, r.mails, r.threaded, r.replies, r.sendErrors)
}

// outMail is one generated inbound mail.
type outMail struct {
	from, to, kind string
	data           []byte
}

// mail sends o.mails inbound mails over SMTP: four in five open cases
// (plain text, HTML only, text and HTML, with a quoted earlier mail, Latin-1), then one in five answers one of those cases: by the case's
// reply address (support+token@), by the subject tag ([#token]), or by
// In-Reply-To. The replies wait for the opening mails, as they must know
// the cases' tokens; mails/s counts both sending phases, not the pause.
func (e *env) mail(ctx context.Context) (*mailResult, error) {
	o := e.o
	r := &mailResult{mails: o.mails, replies: o.mails / 5, kinds: map[string]int{}}
	r.opening = r.mails - r.replies
	databaseURL, drop, err := e.database(ctx, "support_mail")
	if err != nil {
		return nil, err
	}
	defer drop()
	smtpAddr, err := naraproc.FreeAddr(ctx)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.tmp, "support_mail.log")
	p, stop, err := e.startNara(ctx, databaseURL, logPath,
		[]string{"NARA_SMTP_ADDR=" + smtpAddr, "NARA_SUPPORT_MAIL_DOMAIN=" + mailDomain})
	if err != nil {
		return nil, err
	}
	defer stop()
	defer func() { r.warnings = report.LogWarnings(logPath) }()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(context.Background()) }()

	rng := rand.New(rand.NewPCG(o.seed, 2)) //nolint:gosec // the texts need no secrecy
	opening := make([]outMail, r.opening)
	for i := range opening {
		opening[i] = openingMail(i, rng)
		r.kinds[opening[i].kind]++
	}
	watch := proccpu.New(p.PID(), e.pgdata)
	before := watch.Sample()
	begin := time.Now()
	e.sendMails(ctx, r, smtpAddr, opening)
	r.openWall = time.Since(begin)
	between := watch.Sample()
	logf("%d opening mails sent in %s", len(opening), r.openWall.Round(time.Millisecond))

	// The cases' tokens, as the citizens would have them from our replies.
	rows, err := conn.Query(ctx, `SELECT open_key, mail_token FROM support_case WHERE email <> '' AND mail_token IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	tokens := map[string]string{}
	var key, token string
	if _, err := pgx.ForEachRow(rows, []any{&key, &token}, func() error {
		tokens[strings.TrimPrefix(key, "mail:")] = token
		return nil
	}); err != nil {
		return nil, err
	}
	replies := make([]outMail, r.replies)
	for j := range replies {
		i := j * r.opening / r.replies // a different case for every reply
		replies[j] = replyMail(j, i, tokens[messageID(i)], rng)
		r.kinds[replies[j].kind]++
	}
	resume := watch.Sample()
	begin = time.Now()
	e.sendMails(ctx, r, smtpAddr, replies)
	r.replyWall = time.Since(begin)
	after := watch.Sample()
	a, b := proccpu.Between(before, between), proccpu.Between(resume, after)
	ow, rw := r.openWall.Seconds(), r.replyWall.Seconds()
	avg := func(x, y float64) float64 { return (x*ow + y*rw) / (ow + rw) }
	r.cpu = proccpu.Cores{Nara: avg(a.Nara, b.Nara), Postgres: avg(a.Postgres, b.Postgres), Loadgen: avg(a.Loadgen, b.Loadgen), Machine: avg(a.Machine, b.Machine)}
	r.loadAfter = report.Load()

	// An accepted mail is stored before the server answers 250: count.
	if err := conn.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM support_case WHERE email <> ''),
		       (SELECT count(*) FROM support_case_event WHERE channel = 'email' AND kind = 'message'),
		       (SELECT count(*) FROM support_case WHERE email <> '' AND
		               (SELECT count(*) FROM support_case_event e WHERE e.case_id = support_case.id AND e.kind = 'message') = 2)`).
		Scan(&r.cases, &r.emailMessages, &r.threaded); err != nil {
		return nil, err
	}
	return r, nil
}

// sendMails sends mails over o.mailConns SMTP connections, each reused
// for many mails as a relay does.
func (e *env) sendMails(ctx context.Context, r *mailResult, addr string, mails []outMail) {
	next := make(chan outMail)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		r.sendErrors++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
	}
	for range e.o.mailConns {
		wg.Go(func() {
			var c *smtp.Client
			defer func() {
				if c != nil {
					_ = c.Quit()
				}
			}()
			for m := range next {
				if c == nil {
					var err error
					if c, err = smtp.Dial(addr); err != nil {
						fail(err)
						continue
					}
					if err := c.Hello("relay.example.se"); err != nil {
						fail(err)
						_ = c.Close()
						c = nil
						continue
					}
				}
				if err := c.SendMail(m.from, []string{m.to}, strings.NewReader(string(m.data))); err != nil {
					fail(err)
					_ = c.Close()
					c = nil
				}
			}
		})
	}
	for _, m := range mails {
		if ctx.Err() != nil {
			break
		}
		next <- m
	}
	close(next)
	wg.Wait()
}

func messageID(i int) string { return fmt.Sprintf("in-%06d@example.se", i) }

// senderOf is the sender of opening mail i: four cases each, under the
// limit of new cases per sender and hour.
func senderOf(i int) string { return fmt.Sprintf("invanare%05d@example.se", i/4) }

var subjects = []string{
	"Kan inte logga in", "Fel tid i bokningen", "Appen kraschar", "Fråga om vaccination",
	"Videobesöket startade inte", "Kallelse saknas", "Byta telefon", "Kvitto på besök",
}

var bodies = []string{
	"Hej!\n\nJag försöker logga in med BankID men appen säger att något gick fel. Jag har startat om telefonen.\n\nMvh",
	"Hej,\njag bokade en tid i tisdags men ser den inte längre i appen. Kan ni kolla om den finns kvar?\n\nTack på förhand",
	"Appen stängs direkt när jag öppnar fliken Mina besök. Jag har en iPhone 13 med senaste iOS.\n\nHälsningar",
	"Hej. Min dotter ska få sin spruta och jag undrar om jag kan boka åt henne i appen eller om hon måste göra det själv?",
	"Videobesöket i morse startade aldrig, jag väntade i väntrummet i 20 minuter. Vad händer nu?",
}

func header(w *strings.Builder, from, to, subject, id string, extra ...string) {
	fmt.Fprintf(w, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
		from, to, mimeWord(subject), time.Now().Format(time.RFC1123Z), id)
	for _, h := range extra {
		w.WriteString(h + "\r\n")
	}
}

// mimeWord encodes a header text with non-ASCII letters (RFC 2047).
func mimeWord(s string) string {
	for _, r := range s {
		if r > 127 {
			var b strings.Builder
			qp := quotedprintable.NewWriter(&b)
			_, _ = qp.Write([]byte(s))
			_ = qp.Close()
			enc := strings.NewReplacer(" ", "_", "?", "=3F", "=\r\n", "").Replace(b.String())
			return "=?utf-8?Q?" + enc + "?="
		}
	}
	return s
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func qp(s string) string {
	var b strings.Builder
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(crlf(s)))
	_ = w.Close()
	return b.String()
}

func html(text string) string {
	var b strings.Builder
	b.WriteString("<html><body><div style=\"font-family:Arial\">")
	for p := range strings.SplitSeq(text, "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(p, "\n", "<br>") + "</p>")
	}
	b.WriteString("</div></body></html>")
	return b.String()
}

// openingMail is mail i, which opens a case, in one of five shapes.
func openingMail(i int, rng *rand.Rand) outMail {
	from := senderOf(i)
	to := "support@" + mailDomain
	subject := subjects[rng.IntN(len(subjects))]
	body := bodies[rng.IntN(len(bodies))]
	var w strings.Builder
	m := outMail{from: from, to: to}
	switch i % 5 {
	case 0:
		m.kind = "plain text"
		header(&w, from, to, subject, messageID(i), "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit")
		w.WriteString("\r\n" + crlf(body) + "\r\n")
	case 1:
		m.kind = "HTML only"
		header(&w, from, to, subject, messageID(i), "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable")
		w.WriteString("\r\n" + qp(html(body)) + "\r\n")
	case 2:
		m.kind = "text and HTML"
		header(&w, from, to, subject, messageID(i), `Content-Type: multipart/alternative; boundary="b1"`)
		w.WriteString("\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(body) +
			"\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(html(body)) + "\r\n--b1--\r\n")
	case 3:
		m.kind = "quoting an earlier mail"
		quoted := "> " + strings.ReplaceAll(bodies[(i+1)%len(bodies)], "\n", "\n> ")
		header(&w, from, to, "Fwd: "+subject, messageID(i), "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit")
		w.WriteString("\r\n" + crlf(body+"\n\nDen 3 mars 2026 kl. 09:12 skrev Vårdcentralen <info@vc.example.se>:\n"+quoted) + "\r\n")
	default:
		m.kind = "plain, Latin-1"
		header(&w, from, to, subject, messageID(i), "Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit")
		// Latin-1, as older mail programs still send it.
		w.WriteString("\r\n")
		for _, r := range crlf(body) {
			if r < 256 {
				w.WriteByte(byte(r))
			} else {
				w.WriteByte('?')
			}
		}
		w.WriteString("\r\n")
	}
	m.data = []byte(w.String())
	return m
}

// replyMail is reply j to the case opening mail i opened, quoting it, and
// naming the case by its reply address, its subject tag, or In-Reply-To.
func replyMail(j, i int, token string, rng *rand.Rand) outMail {
	from := senderOf(i)
	m := outMail{from: from}
	subject := "Re: " + subjects[rng.IntN(len(subjects))]
	var extra []string
	switch j % 3 {
	case 0:
		m.kind = "reply by case address"
		m.to = "support+" + token + "@" + mailDomain
	case 1:
		m.kind = "reply by subject tag"
		m.to = "support@" + mailDomain
		subject += " [#" + token + "]"
	default:
		m.kind = "reply by In-Reply-To"
		m.to = "support@" + mailDomain
		extra = append(extra, "In-Reply-To: <"+messageID(i)+">", "References: <"+messageID(i)+">")
	}
	extra = append(extra, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit")
	var w strings.Builder
	header(&w, from, m.to, subject, fmt.Sprintf("re-%06d@example.se", j), extra...)
	quoted := "> " + strings.ReplaceAll(bodies[rng.IntN(len(bodies))], "\n", "\n> ")
	w.WriteString("\r\n" + crlf("Hej igen,\n\ndet fungerar fortfarande inte, tyvärr. Jag har provat igen i dag.\n\nMvh\n\n"+
		"Den 4 mars 2026 kl. 10:01 skrev "+from+":\n"+quoted) + "\r\n")
	m.data = []byte(w.String())
	return m
}
