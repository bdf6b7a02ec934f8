// Package mail carries support e-mail in and out of Nära: it parses inbound
// mail into a Message, threads it to a case, receives it over SMTP or a
// webhook, and sends replies over SMTP.
//
// # Inbound: SMTP by default, webhook where a port cannot be opened
//
// The default inbound path is Server, an SMTP server inside `nara serve`
// (NARA_SMTP_ADDR). SMTP is what every mail system already speaks: a
// region's Exchange connector or a Postfix relay forwards to it with a line
// of configuration, and the sending system queues and retries on our 451
// replies, so a deploy or a database hiccup loses no mail. WebhookHandler is
// the second path, for hosting where only HTTPS reaches Nära; it hands the
// raw message to the same deliver function, so supporting both costs one
// small handler.
//
// # What the support domain does with it
//
// Parse a raw message, drop it quietly (logged, accepted) when
// Message.Auto reports a bounce or auto-reply so that loops end, look up
// the case by TokenFrom and then by ThreadKeys, and only accept a thread key
// that names a Message-ID the domain itself stored for that citizen:
// In-Reply-To is set by the sender and can be forged.
//
// Replies go out through Sender from a River job inserted in the reply's
// transaction. The job stores the Message-ID from NewMessageID with the
// reply before sending, so a retried job resends the same message, which
// receivers deduplicate; the job records "sent" after Send succeeds and
// stops retrying when IsPermanent reports a permanent refusal. A reply body
// carries only what the citizen wrote and a link back to the app, never
// health details.
//
// Package mailfake is the local stand-in used by `make run` and tests.
package mail
