package bankid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// QRCode returns the text to draw as the animated QR code, elapsed after the
// order response arrived: "bankid." + qrStartToken + "." + seconds + "." +
// hex(HMAC-SHA256(key=qrStartSecret, message=seconds)), where seconds is the
// whole number of elapsed seconds in decimal. Redraw it every
// QRRefreshInterval; the secret changes every frame's code, so a photo of the
// screen is useless a moment later. Compute it on Nära's server and send only
// the result to the browser or app: qrStartSecret must not leave the server.
func QRCode(qrStartToken, qrStartSecret string, elapsed time.Duration) string {
	secs := strconv.FormatInt(int64(max(elapsed, 0)/time.Second), 10)
	m := hmac.New(sha256.New, []byte(qrStartSecret))
	m.Write([]byte(secs))
	return "bankid." + qrStartToken + "." + secs + "." + hex.EncodeToString(m.Sum(nil))
}
