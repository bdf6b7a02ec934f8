package bankid

import "errors"

// MessageKey names one of BankID's recommended user messages ("RFA" texts).
// Apps that ship their own translations can switch on the key; the texts
// here are BankID's published Swedish and English wording.
type MessageKey string

// The recommended messages Nära uses. RFA14 is absent: BankID dropped it when
// v6 removed starting an order with a personal number.
const (
	RFA1   MessageKey = "RFA1"   // start your BankID app
	RFA3   MessageKey = "RFA3"   // cancelled, try again
	RFA4   MessageKey = "RFA4"   // already in progress for your number
	RFA5   MessageKey = "RFA5"   // something went wrong (BankID side)
	RFA6   MessageKey = "RFA6"   // cancelled
	RFA8   MessageKey = "RFA8"   // the app is not responding
	RFA9   MessageKey = "RFA9"   // enter your security code
	RFA13  MessageKey = "RFA13"  // trying to start your app
	RFA15A MessageKey = "RFA15A" // searching for BankID on this computer
	RFA15B MessageKey = "RFA15B" // searching for BankID on this device
	RFA16  MessageKey = "RFA16"  // BankID blocked or too old
	RFA17A MessageKey = "RFA17A" // no BankID app found
	RFA17B MessageKey = "RFA17B" // QR code could not be scanned
	RFA19  MessageKey = "RFA19"  // this computer or Mobile BankID?
	RFA20  MessageKey = "RFA20"  // this device or another device?
	RFA21  MessageKey = "RFA21"  // identification or signing in progress
	RFA22  MessageKey = "RFA22"  // something went wrong (unknown failure)
	RFA23  MessageKey = "RFA23"  // scan your ID document
)

// Message is a recommended text in Swedish and English.
type Message struct {
	Key MessageKey
	SV  string
	EN  string
}

// Lookup returns the texts for key, and false for a key this package does not know.
func Lookup(key MessageKey) (Message, bool) {
	sv, en := texts(key)
	if sv == "" {
		return Message{}, false
	}
	return Message{Key: key, SV: sv, EN: en}, true
}

func texts(key MessageKey) (sv, en string) {
	switch key {
	case RFA1:
		return "Starta BankID-appen.", "Start your BankID app."
	case RFA3:
		return "Åtgärden avbröts. Försök igen.", "The action was cancelled. Please try again."
	case RFA4:
		return "En identifiering eller underskrift pågår redan för ditt personnummer. Försök igen.",
			"An identification or signature is already in progress for your personal identity number. Please try again."
	case RFA5:
		return "Något gick fel. Försök igen.", "Something went wrong. Please try again."
	case RFA6:
		return "Åtgärden avbröts.", "The action was cancelled."
	case RFA8:
		return "BankID-appen svarar inte. Kontrollera att den är startad och att du har internetanslutning. Försök sedan igen.",
			"The BankID app is not responding. Please check that it's started and that you have internet access. Try again."
	case RFA9:
		return "Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under.",
			"Enter your security code in the BankID app and select Identify or Sign."
	case RFA13:
		return "Försöker starta BankID-appen.", "Trying to start your BankID app."
	case RFA15A:
		return "Söker efter BankID. Säkerställ att du har ett giltigt BankID på den här datorn. Om du har ett BankID på kort, sätt in kortet i kortläsaren.",
			"Searching for BankID. Make sure you have a valid BankID on this computer. If you have a BankID on card, please insert the card into your card reader."
	case RFA15B:
		return "Söker efter BankID. Säkerställ att du har ett giltigt BankID på den här enheten.",
			"Searching for BankID. Make sure you have a valid BankID on this device."
	case RFA16:
		return "Ditt BankID är för gammalt eller spärrat. Använd ett annat BankID eller skaffa ett nytt hos din bank.",
			"Your BankID is blocked or too old. Please use another BankID or get a new one from your bank."
	case RFA17A:
		return "Du verkar inte ha BankID-appen/programmet. Installera den och skaffa ett BankID hos din bank.",
			"You don't seem to have the BankID app/program. Please install it and get a BankID from your bank."
	case RFA17B:
		return "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden.",
			"Failed to scan the QR code. Start the BankID app and scan the QR code."
	case RFA19:
		return "Vill du använda BankID på den här datorn eller ett Mobilt BankID?",
			"Would you like to use BankID on this computer, or a Mobile BankID?"
	case RFA20:
		return "Vill du använda BankID på den här enheten eller på en annan enhet?",
			"Do you want to use BankID on this device or another device?"
	case RFA21:
		return "En identifiering eller underskrift pågår.", "An identification or signing is in progress."
	case RFA22:
		return "Något gick fel. Försök igen.", "Something went wrong. Please try again."
	case RFA23:
		return "Fotografera och läs av din ID-handling med BankID-appen.",
			"Take a photo of, and scan, your ID document with the BankID app."
	}
	return "", ""
}

// UserMessage returns the text BankID recommends showing while an order is
// in status with hint. startedWithQR says the user was shown the animated QR
// code (another device) rather than an autostart link (same device), which
// changes the wording for outstandingTransaction and startFailed. A complete
// order has no message: the zero Message is returned.
//
// Where BankID recommends no text (userCallConfirm, userDeclinedCall,
// notSupportedByUserApp, transactionRiskBlocked, and codes added after this
// was written), the generic RFA21 for pending and RFA22 for failed orders are
// used, except that a declined call reads as a cancellation (RFA6). The
// started hint uses the phone wording RFA15B, Nära's users being on phones;
// a desktop client can show Lookup(RFA15A) instead.
func UserMessage(status Status, hint HintCode, startedWithQR bool) Message {
	var key MessageKey
	switch status {
	case StatusComplete:
		return Message{}
	case StatusPending:
		switch hint {
		case HintOutstandingTransaction:
			key = RFA13
			if startedWithQR {
				key = RFA1
			}
		case HintNoClient:
			key = RFA1
		case HintStarted:
			key = RFA15B
		case HintUserSign:
			key = RFA9
		case HintUserMrtd:
			key = RFA23
		default:
			key = RFA21
		}
	default: // failed, and any status added later: nothing more will happen
		switch hint {
		case HintExpiredTransaction:
			key = RFA8
		case HintCertificateErr:
			key = RFA16
		case HintUserCancel, HintUserDeclinedCall:
			key = RFA6
		case HintCancelled:
			key = RFA3
		case HintStartFailed:
			key = RFA17A
			if startedWithQR {
				key = RFA17B
			}
		default:
			key = RFA22
		}
	}
	m, _ := Lookup(key)
	return m
}

// UserMessageForError returns the text to show when starting or collecting
// an order fails: RFA4 for alreadyInProgress, RFA5 for failures on BankID's
// side (timeouts, maintenance, internal errors, rate limits) and RFA22 for
// anything else, which is Nära's own bug and is logged, not explained.
func UserMessageForError(err error) Message {
	var e *Error
	key := RFA22
	if errors.As(err, &e) {
		switch {
		case e.ErrorCode == CodeAlreadyInProgress:
			key = RFA4
		case e.Retryable():
			key = RFA5
		}
	}
	m, _ := Lookup(key)
	return m
}
