package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"github.com/nara-care/nara/store"
)

// The corpus is synthetic but reads like a large region's FAQ: questions
// about booking, vaccination, video visits, logging in, prescriptions and
// test results, built from templates over a Swedish healthcare vocabulary.
// It is deterministic: the same seed gives the same articles and queries.

// verb is a Swedish verb as the templates need it: "Hur stänger jag av
// påminnelser?" needs the present tense and the particle apart.
type verb struct {
	inf, pres, particle string
}

func (v verb) infinitive() string { return strings.TrimSpace(v.inf + " " + v.particle) }

var verbs = map[string]verb{
	"boka":       {"boka", "bokar", ""},
	"avboka":     {"avboka", "avbokar", ""},
	"omboka":     {"omboka", "ombokar", ""},
	"ändra":      {"ändra", "ändrar", ""},
	"hitta":      {"hitta", "hittar", ""},
	"få":         {"få", "får", ""},
	"förbereda":  {"förbereda", "förbereder", ""},
	"ansluta":    {"ansluta", "ansluter", "till"},
	"se":         {"se", "ser", ""},
	"förnya":     {"förnya", "förnyar", ""},
	"dela":       {"dela", "delar", ""},
	"läsa":       {"läsa", "läser", ""},
	"spärra":     {"spärra", "spärrar", ""},
	"skicka":     {"skicka", "skickar", ""},
	"beställa":   {"beställa", "beställer", ""},
	"ladda ner":  {"ladda", "laddar", "ner"},
	"visa":       {"visa", "visar", ""},
	"betala":     {"betala", "betalar", ""},
	"logga in":   {"logga", "loggar", "in med"},
	"använda":    {"använda", "använder", ""},
	"stänga av":  {"stänga", "stänger", "av"},
	"slå på":     {"slå", "slår", "på"},
	"uppdatera":  {"uppdatera", "uppdaterar", ""},
	"testa":      {"testa", "testar", ""},
	"lägga till": {"lägga", "lägger", "till"},
	"ta bort":    {"ta", "tar", "bort"},
	"förstå":     {"förstå", "förstår", ""},
	"skanna":     {"skanna", "skannar", ""},
}

// topic is what an article is about: the object of its question.
type topic struct {
	object   string   // as in the title: "en tid för influensavaccination"
	core     string   // what a user would type: "influensavaccination"
	category string   // a slug from categories
	verbs    []string // keys of verbs that make sense with it
}

var topics = []topic{
	{"en tid för influensavaccination", "influensavaccination", "bokning", []string{"boka", "avboka", "omboka", "hitta"}},
	{"influensavaccination", "influensavaccination", "bokning", []string{"boka", "få", "betala"}},
	{"en vaccinationstid", "vaccinationstid", "bokning", []string{"boka", "avboka", "omboka", "ändra", "hitta"}},
	{"covidvaccination", "covidvaccination", "bokning", []string{"boka", "få", "avboka"}},
	{"resevaccination", "resevaccination", "bokning", []string{"boka", "betala", "få"}},
	{"vaccination mot TBE", "tbe vaccination", "bokning", []string{"boka", "betala", "få"}},
	{"barnvaccination", "barnvaccination", "bokning", []string{"boka", "omboka", "se"}},
	{"en tid på vårdcentralen", "tid vårdcentralen", "bokning", []string{"boka", "avboka", "omboka", "hitta"}},
	{"en telefontid", "telefontid", "bokning", []string{"boka", "avboka", "omboka"}},
	{"en tid hos sjuksköterska", "sjuksköterska", "bokning", []string{"boka", "avboka", "omboka"}},
	{"en tid hos distriktssköterska", "distriktssköterska", "bokning", []string{"boka", "avboka", "omboka"}},
	{"en tid hos barnmorska", "barnmorska", "bokning", []string{"boka", "avboka", "omboka"}},
	{"en tid hos fysioterapeut", "fysioterapeut", "bokning", []string{"boka", "avboka", "omboka"}},
	{"en tid för provtagning", "provtagning", "bokning", []string{"boka", "avboka", "omboka"}},
	{"en bokad tid", "bokad tid", "bokning", []string{"avboka", "omboka", "ändra", "se", "hitta"}},
	{"mina bokningar", "bokningar", "bokning", []string{"se", "hitta", "ändra"}},
	{"tidboken", "tidbok", "bokning", []string{"använda", "hitta"}},
	{"ett videobesök", "videobesök", "videobesok", []string{"boka", "avboka", "omboka", "ansluta", "förbereda"}},
	{"ett videobesök med läkare", "videobesök läkare", "videobesok", []string{"boka", "avboka", "ansluta"}},
	{"ett videobesök med psykolog", "videobesök psykolog", "videobesok", []string{"boka", "avboka", "ansluta"}},
	{"videomottagningen", "videomottagning", "videobesok", []string{"ansluta", "hitta", "använda"}},
	{"kameran och mikrofonen", "kamera mikrofon", "videobesok", []string{"testa", "använda"}},
	{"det digitala väntrummet", "väntrum", "videobesok", []string{"hitta", "använda"}},
	{"Mobilt BankID", "mobilt bankid", "logga-in", []string{"logga in", "använda"}},
	{"BankID på kort", "bankid kort", "logga-in", []string{"logga in", "använda"}},
	{"Freja eID Plus", "freja eid", "logga-in", []string{"logga in", "använda"}},
	{"ett ombud", "ombud", "logga-in", []string{"lägga till", "ta bort"}},
	{"behörighet som vårdnadshavare", "vårdnadshavare", "logga-in", []string{"få", "se"}},
	{"en QR-kod", "qr-kod", "logga-in", []string{"skanna"}},
	{"påminnelser", "påminnelser", "aviseringar", []string{"få", "stänga av", "slå på", "ändra"}},
	{"sms-påminnelser", "sms påminnelse", "aviseringar", []string{"få", "stänga av", "slå på"}},
	{"notiser", "notiser", "aviseringar", []string{"få", "stänga av", "slå på"}},
	{"en påminnelse om vaccination", "påminnelse vaccination", "aviseringar", []string{"få", "stänga av"}},
	{"bokade tider i kalendern", "kalender", "aviseringar", []string{"lägga till", "ta bort", "se"}},
	{"e-postaviseringar", "e-post avisering", "aviseringar", []string{"stänga av", "slå på"}},
	{"mina recept", "recept", "vard-och-rad", []string{"se", "förnya", "dela", "hitta"}},
	{"ett e-recept", "e-recept", "vard-och-rad", []string{"förnya", "hitta", "visa"}},
	{"mina provsvar", "provsvar", "vard-och-rad", []string{"se", "hitta", "förstå", "dela"}},
	{"mina labbsvar", "labbsvar", "vard-och-rad", []string{"se", "förstå"}},
	{"min journal", "journal", "vard-och-rad", []string{"läsa", "se", "spärra", "dela"}},
	{"mitt barns journal", "barn journal", "vard-och-rad", []string{"läsa", "se"}},
	{"en remiss", "remiss", "vard-och-rad", []string{"skicka", "se", "få"}},
	{"en egenremiss", "egenremiss", "vard-och-rad", []string{"skicka"}},
	{"ett läkarintyg", "läkarintyg", "vard-och-rad", []string{"beställa", "få", "ladda ner"}},
	{"ett vaccinationsintyg", "vaccinationsintyg", "vard-och-rad", []string{"ladda ner", "få", "visa"}},
	{"frikort", "frikort", "vard-och-rad", []string{"få", "beställa", "se"}},
	{"besöksavgiften", "besöksavgift", "vard-och-rad", []string{"betala", "förstå"}},
	{"en faktura", "faktura", "vard-och-rad", []string{"betala", "hitta"}},
	{"ett meddelande till mottagningen", "meddelande mottagningen", "vard-och-rad", []string{"skicka"}},
	{"svar från sjuksköterskan", "svar sjuksköterskan", "vard-och-rad", []string{"få", "läsa"}},
	{"rådgivning om influensa", "influensa rådgivning", "vard-och-rad", []string{"få"}},
	{"vård utanför mottagningstid", "närakut", "vard-och-rad", []string{"få", "hitta"}},
	{"appen", "appen", "teknik", []string{"uppdatera", "använda", "ta bort"}},
	{"appen på en ny telefon", "ny telefon", "teknik", []string{"använda"}},
	{"språket i appen", "språk", "teknik", []string{"ändra"}},
	{"mina kontaktuppgifter", "kontaktuppgifter", "teknik", []string{"ändra", "se"}},
	{"mitt telefonnummer", "telefonnummer", "teknik", []string{"ändra", "lägga till"}},
	{"min e-postadress", "e-postadress", "teknik", []string{"ändra", "lägga till"}},
	{"inkorgen", "inkorg", "teknik", []string{"hitta", "använda"}},
}

// categories are the demo region's FAQ categories (demo/faq.json).
var categories = []struct{ slug, titleSV, titleEN string }{
	{"logga-in", "Logga in", "Logging in"},
	{"videobesok", "Videobesök", "Video visits"},
	{"bokning", "Bokning och vaccination", "Booking and vaccination"},
	{"aviseringar", "Påminnelser och notiser", "Reminders and notifications"},
	{"vard-och-rad", "Vård och råd", "Care and advice"},
	{"teknik", "Teknisk hjälp", "Technical help"},
}

// setting narrows a question; first person for titles, second for answers.
type setting struct{ first, second string }

var settings = []setting{
	{"", ""}, {"", ""}, {"", ""},
	{"för mitt barn", "för ditt barn"},
	{"som vårdnadshavare", "som vårdnadshavare"},
	{"i appen", "i appen"},
	{"på webben", "på webben"},
	{"med BankID", "med BankID"},
	{"utan BankID", "utan BankID"},
	{"på helgen", "på helgen"},
	{"utomlands", "utomlands"},
	{"för någon annan", "för någon annan"},
	{"som ombud", "som ombud"},
	{"på vårdcentralen", "på vårdcentralen"},
	{"via 1177", "via 1177"},
	{"med skyddade personuppgifter", "med skyddade personuppgifter"},
	{"för första gången", "för första gången"},
	{"igen", "igen"},
	{"efter klockan 16", "efter klockan 16"},
	{"i en annan region", "i en annan region"},
	{"på mobilen", "på mobilen"},
	{"på surfplattan", "på surfplattan"},
	{"för en äldre anhörig", "för en äldre anhörig"},
	{"när jag är gravid", "när du är gravid"},
}

// Title templates: %[1]s present tense, %[2]s particle, %[3]s infinitive
// with particle, %[4]s object, %[5]s setting (with a leading space or empty).
var titleTemplates = []string{
	"Hur %[1]s jag%[2]s %[4]s%[5]s?",
	"Kan jag %[3]s %[4]s%[5]s?",
	"Varför kan jag inte %[3]s %[4]s%[5]s?",
	"Så %[1]s du%[2]s %[4]s%[5]s",
	"Vad gör jag om jag inte kan %[3]s %[4]s%[5]s?",
	"Går det att %[3]s %[4]s%[5]s?",
}

var summaryTemplates = []string{
	"Så här %[1]s du%[2]s %[4]s%[5]s, steg för steg.",
	"Du kan %[3]s %[4]s%[5]s i appen eller på 1177.se när du är inloggad.",
	"Svar på vanliga frågor om att %[3]s %[4]s%[5]s.",
	"Här får du veta vad som gäller när du vill %[3]s %[4]s%[5]s.",
}

// menu is where in the app each category's tasks start.
var menu = map[string]string{
	"bokning":      "Bokningar",
	"videobesok":   "Videobesök",
	"logga-in":     "Inställningar",
	"aviseringar":  "Notiser",
	"vard-och-rad": "Journal och recept",
	"teknik":       "Inställningar",
}

var categoryFacts = map[string][]string{
	"bokning": {
		"Avbokning måste göras senast 24 timmar före besöket, annars debiteras en avgift för uteblivet besök.",
		"Influensavaccination erbjuds varje höst till alla som är 65 år eller äldre, gravida och personer i riskgrupper.",
		"Vaccinationstider släpps i omgångar, så titta i tidboken igen om alla tider är tagna.",
		"Ombokning kan göras fram till dagen före besöket; därefter behöver du ringa mottagningen.",
		"Provtagning sker på laboratoriet utan tidsbokning vardagar 07.30–10.00.",
		"Du får en bekräftelse med tid och plats i inkorgen när bokningen är klar.",
		"Barn under 18 år bokas av en vårdnadshavare som är inloggad med eget BankID.",
		"Resevaccination ingår inte i högkostnadsskyddet och betalas på plats.",
		"Vaccination mot covid-19 och influensa kan ges vid samma besök med en enda bokning.",
	},
	"videobesok": {
		"Videobesöket startar i appen; du behöver inte ladda ner något extra program.",
		"Logga in fem minuter före bokad tid och vänta i det digitala väntrummet.",
		"Om bilden fryser, stäng andra appar och byt till wifi om du kan.",
		"Läkaren eller sjuksköterskan ansluter när det är din tur.",
		"Vid videobesök med barn ska en vårdnadshavare vara med under hela samtalet.",
		"Tillåt appen att använda kameran och mikrofonen i telefonens inställningar.",
		"Ett videobesök kostar lika mycket som ett besök på mottagningen och ingår i högkostnadsskyddet.",
	},
	"logga-in": {
		"Du loggar in med Mobilt BankID på samma enhet eller genom att skanna en QR-kod.",
		"Vårdnadshavare kan logga in för barn som är under 13 år.",
		"Från 13 års ålder kan vårdnadshavare inte längre läsa barnets journal.",
		"Ett ombud kan hjälpa dig med ärenden om du lämnar en fullmakt på mottagningen.",
		"Om inloggningen avbryts, kontrollera att BankID-appen är uppdaterad.",
		"Freja eID Plus fungerar som alternativ till BankID för dig utan svenskt bankkonto.",
		"Med skyddade personuppgifter kan vissa tjänster vara begränsade av säkerhetsskäl.",
	},
	"aviseringar": {
		"Påminnelser skickas dagen före bokad tid och en timme innan ett videobesök.",
		"Du väljer själv om du vill få notiser, sms eller e-post.",
		"Notiser visar aldrig vad ett meddelande handlar om, bara att du har fått ett nytt.",
		"Om du stänger av notiser i telefonen får du inga påminnelser från appen.",
		"Bokade tider kan läggas till i telefonens kalender med ett tryck.",
		"Påminnelse om vaccination skickas när det är dags för nästa dos.",
	},
	"vard-och-rad": {
		"Recept förnyas av läkare eller sjuksköterska; räkna med upp till tre arbetsdagar.",
		"Provsvar visas i journalen när de har bedömts av vårdpersonal.",
		"Vissa provsvar visas först efter en fördröjning på 14 dagar.",
		"Journalen innehåller anteckningar, diagnoser, vaccinationer och provsvar.",
		"Ett frikort gäller i tolv månader från det datum du nådde högkostnadsskyddet.",
		"Egenremiss kan skickas till vissa mottagningar utan att du först träffar läkare.",
		"Läkarintyg till arbetsgivare eller Försäkringskassan kan beställas efter ett besök.",
		"Sjuksköterskan svarar på meddelanden inom två arbetsdagar.",
		"Vid frågor om din hälsa kan du ringa 1177 dygnet runt för sjukvårdsrådgivning.",
	},
	"teknik": {
		"Appen fungerar på telefoner med de två senaste större versionerna av iOS och Android.",
		"Uppdatera appen om en funktion saknas eller inte svarar.",
		"Vid byte av telefon installerar du appen och loggar in igen med BankID.",
		"Supporten hjälper till med tekniska frågor men kan inte svara på medicinska frågor.",
		"Starta om telefonen om appen hänger sig.",
		"Språket i appen följer telefonens inställningar, svenska eller engelska.",
	},
}

var generalFacts = []string{
	"Mottagningen har telefontid vardagar 08.00–10.00.",
	"Stanna hemma om du har feber eller symtom på luftvägsinfektion.",
	"Tjänsten är kostnadsfri att använda; avgiften gäller själva besöket.",
	"Om du har frågor om läkemedel kan du också vända dig till ett apotek.",
	"Vårdgarantin innebär att du ska få kontakt med vårdcentralen samma dag.",
	"Barnavårdscentralen (BVC) ansvarar för vaccinationer enligt barnvaccinationsprogrammet.",
	"Distriktssköterskan kan göra hembesök om du inte kan ta dig till mottagningen.",
	"Tolk bokas av mottagningen; meddela i god tid om du behöver tolk.",
	"Högkostnadsskyddet för öppenvård är 1 450 kronor per tolvmånadersperiod.",
	"Patientavgiften för ett besök hos distriktsläkare är 200 kronor.",
	"Närakuten har öppet kvällar och helger för besvär som inte kan vänta.",
	"Barnmorskemottagningen ansvarar för vaccination av gravida.",
	"Fysioterapeut kan du söka utan remiss.",
}

// article is one generated FAQ answer.
type article struct {
	slug    string
	content store.ArticleContent
}

// generateArticles returns n distinct articles in Swedish.
func generateArticles(n int, seed uint64) ([]article, error) {
	type combo struct{ topic, verb, setting, template int }
	var combos []combo
	for ti, t := range topics {
		for vi := range t.verbs {
			for si := range settings {
				for tt := range titleTemplates {
					combos = append(combos, combo{ti, vi, si, tt})
				}
			}
		}
	}
	if n > len(combos) {
		return nil, fmt.Errorf("the vocabulary makes only %d distinct articles, fewer than %d", len(combos), n)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	rng.Shuffle(len(combos), func(i, j int) { combos[i], combos[j] = combos[j], combos[i] })

	reviewed := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	articles := make([]article, n)
	for i, c := range combos[:n] {
		t := topics[c.topic]
		v := verbs[t.verbs[c.verb]]
		s := settings[c.setting]
		args := func(obj, ctx string) []any {
			particle := ""
			if v.particle != "" {
				particle = " " + v.particle
			}
			if ctx != "" {
				ctx = " " + ctx
			}
			return []any{v.pres, particle, v.infinitive(), obj, ctx}
		}
		title := fmt.Sprintf(titleTemplates[c.template], args(t.object, s.first)...)
		title = strings.ToUpper(title[:1]) + title[1:]
		summary := fmt.Sprintf(summaryTemplates[rng.IntN(len(summaryTemplates))], args(yours(t.object), s.second)...)

		var body strings.Builder
		fmt.Fprintf(&body, "Du kan %s %s%s när du är inloggad med Mobilt BankID, BankID på kort eller Freja eID Plus.\n\n",
			v.infinitive(), yours(t.object), prefixed(s.second))
		fmt.Fprintf(&body, "1. Öppna appen eller logga in på 1177.se.\n2. Välj **%s**.\n3. Välj att %s %s och följ instruktionerna.\n4. Bekräfta med BankID.\n\n",
			menu[t.category], v.infinitive(), yours(t.object))
		facts := categoryFacts[t.category]
		for _, k := range rng.Perm(len(facts))[:2+rng.IntN(2)] {
			body.WriteString(facts[k])
			body.WriteByte(' ')
		}
		body.WriteString("\n\n")
		for _, k := range rng.Perm(len(generalFacts))[:1+rng.IntN(2)] {
			body.WriteString(generalFacts[k])
			body.WriteByte(' ')
		}
		fmt.Fprintf(&body, "Kontakta din vårdcentral om du har fler frågor om %s.\n\n", t.core)
		body.WriteString("Vid akuta besvär, ring 112. För sjukvårdsrådgivning, ring 1177.")

		articles[i] = article{
			slug: slugFor(title, i),
			content: store.ArticleContent{
				CategorySlug:   t.category,
				Title:          title,
				Summary:        summary,
				BodyMarkdown:   body.String(),
				Sources:        []store.SourceLink{{Title: "1177", URL: "https://www.1177.se/"}},
				LastReviewedOn: reviewed.AddDate(0, 0, rng.IntN(60)),
			},
		}
	}
	return articles, nil
}

// yours turns "min journal" into "din journal", for answers.
func yours(object string) string {
	first, rest, _ := strings.Cut(object, " ")
	if second, ok := map[string]string{"min": "din", "mitt": "ditt", "mina": "dina"}[first]; ok {
		return second + " " + rest
	}
	return object
}

func prefixed(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// slugFor makes a URL slug from a Swedish title; i keeps it unique.
func slugFor(title string, i int) string {
	r := strings.NewReplacer("å", "a", "ä", "a", "ö", "o", "é", "e")
	var b strings.Builder
	dash := false
	for _, c := range r.Replace(strings.ToLower(title)) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.TrimSuffix(b.String(), "-")
	if len(base) > 60 {
		base = strings.TrimSuffix(base[:60], "-")
		if cut := strings.LastIndexByte(base, '-'); cut > 30 {
			base = base[:cut]
		}
	}
	return fmt.Sprintf("%s-%d", base, i+1)
}

// Query vocabulary: what people type into an FAQ search box.
var (
	queryWords = []string{
		"vaccination", "influensa", "influensavaccination", "vaccinationstid", "covidvaccination",
		"resevaccination", "barnvaccination", "vaccin", "bokning", "boka", "avbokning", "avboka",
		"ombokning", "omboka", "tidbok", "tidboken", "videobesök", "video", "bankid", "mobilt bankid",
		"freja", "inloggning", "logga in", "recept", "e-recept", "receptförnyelse", "provsvar", "labbsvar",
		"journal", "remiss", "egenremiss", "läkarintyg", "intyg", "vaccinationsintyg", "frikort",
		"högkostnadsskydd", "avgift", "patientavgift", "faktura", "barn", "vårdnadshavare", "ombud",
		"fullmakt", "mottagning", "vårdcentral", "sjuksköterska", "distriktssköterska", "barnmorska",
		"fysioterapeut", "psykolog", "läkare", "provtagning", "blodprov", "påminnelse", "notiser", "sms",
		"kalender", "kamera", "mikrofon", "väntrum", "appen", "uppdatera", "telefon", "språk", "närakuten",
		"1177", "tolk", "hembesök", "telefontid", "meddelande", "inkorg", "qr-kod",
		"skyddade personuppgifter", "tbe", "covid", "gravid", "wifi", "arbetsgivare",
	}
	queryInflections = []string{
		"vaccinationer", "vaccinationen", "vaccinationerna", "vaccinera", "vaccinerad", "influensan",
		"bokningen", "bokningar", "bokade", "avbokade", "avbokningen", "ombokade", "videobesöket",
		"videobesöken", "recepten", "receptet", "provsvaren", "provsvaret", "journalen", "remissen",
		"remisser", "intyget", "intygen", "frikortet", "avgiften", "avgifter", "fakturan", "fakturor",
		"barnet", "barnen", "barnens", "barnets", "vårdnadshavaren", "ombudet", "mottagningen",
		"vårdcentralen", "sjuksköterskan", "läkaren", "provtagningen", "påminnelser", "påminnelsen",
		"notisen", "kameran", "mikrofonen", "telefonen", "appens", "inloggningen", "meddelanden",
		"tiderna", "tider", "tiden", "vaccinationstider", "bokningarna", "journaler",
	}
	queryPairs = []string{
		"recept barn", "provsvar barn", "bankid barn", "vaccination gravid", "influensa 65 år",
		"journal vårdnadshavare", "avgift videobesök", "frikort högkostnadsskydd", "tolk besök",
		"notiser telefon", "påminnelse sms", "remiss fysioterapeut", "intyg arbetsgivare",
		"kamera fungerar inte", "bankid fungerar inte", "appen hänger sig", "byta telefon",
		"ombud fullmakt", "skyddade personuppgifter bankid", "vaccination utomlands",
		"blodprov tid", "provsvar 14 dagar", "närakuten helg", "ring 1177",
	}
)

// generateQueries returns n distinct search queries (distinct after the
// server's normalization: lower case, single spaces): single words,
// inflected forms, verb phrases and questions from the articles' own
// vocabulary, word pairs, and a share of each with a typo.
func generateQueries(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 2))
	seen := map[string]bool{}
	var out []string
	add := func(q string) bool {
		key := strings.Join(strings.Fields(strings.ToLower(q)), " ")
		if key == "" || seen[key] || len(out) == n {
			return false
		}
		seen[key] = true
		out = append(out, q)
		return true
	}
	var phrases, questions []string
	for _, t := range topics {
		for _, k := range t.verbs {
			v := verbs[k]
			phrases = append(phrases, strings.TrimSpace(v.inf+" "+strings.TrimSuffix(v.particle, " med"))+" "+t.core)
			q := fmt.Sprintf("hur %s jag%s %s", v.pres, prefixed(v.particle), t.object)
			if rng.IntN(2) == 0 {
				q = fmt.Sprintf("kan jag %s %s", v.infinitive(), t.object)
			}
			questions = append(questions, q)
		}
	}
	shuffle := func(s []string) []string {
		s = append([]string(nil), s...)
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		return s
	}
	// The shares of a realistic mix, in order of how often people type them.
	take := func(from []string, count int, typo bool) {
		for _, q := range shuffle(from) {
			if count == 0 {
				return
			}
			if typo {
				q = withTypo(q, rng)
			}
			if add(q) {
				count--
			}
		}
	}
	take(queryWords, n*25/100, false)
	take(queryInflections, n*15/100, false)
	take(phrases, n*15/100, false)
	take(questions, n*10/100, false)
	take(queryPairs, n*5/100, false)
	take(append(queryWords, queryInflections...), n*20/100, true)
	take(append(phrases, questions...), n*10/100, true)
	// Top up with typo variants until there are n.
	all := append(append(append([]string(nil), queryWords...), queryInflections...), phrases...)
	for i := 0; len(out) < n && i < 100*n; i++ {
		add(withTypo(all[rng.IntN(len(all))], rng))
	}
	// Interleave the kinds, as real traffic would; some people capitalize.
	out = shuffle(out)
	for i, q := range out {
		if rng.IntN(10) == 0 {
			r := []rune(q)
			r[0] = unicode.ToUpper(r[0])
			out[i] = string(r)
		}
	}
	return out
}

// withTypo makes one realistic slip in the longest word of q: å/ä/ö typed
// without dots, a letter dropped, doubled or two swapped.
func withTypo(q string, rng *rand.Rand) string {
	words := strings.Fields(q)
	longest := 0
	for i, w := range words {
		if len([]rune(w)) > len([]rune(words[longest])) {
			longest = i
		}
	}
	r := []rune(words[longest])
	if len(r) < 5 {
		return q
	}
	pos := 1 + rng.IntN(len(r)-2)
	switch rng.IntN(4) {
	case 0:
		if s := strings.NewReplacer("å", "a", "ä", "a", "ö", "o").Replace(string(r)); s != string(r) {
			r = []rune(s)
			break
		}
		fallthrough
	case 1:
		r = append(r[:pos:pos], r[pos+1:]...)
	case 2:
		r = append(r[:pos+1:pos+1], r[pos:]...)
	case 3:
		r[pos], r[pos+1] = r[pos+1], r[pos]
	}
	words[longest] = string(r)
	return strings.Join(words, " ")
}
