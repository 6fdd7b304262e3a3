package collector

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/leadstream/leadstream/services/tracker/internal/tracking"
)

// Request-level reasons, beside the per-event ones of package tracking.
const (
	reasonMalformed   = "malformed"
	reasonUnknownKey  = "unknown_write_key"
	reasonOrigin      = "origin_not_allowed"
	reasonRateLimited = "rate_limited"
	reasonBodyTooBig  = "body_too_large"
	reasonTooMany     = "too_many_events"
	reasonUnavailable = "unavailable"
)

// errorBody is the JSON of every refusal. Accepted is always 0: a batch
// is taken whole or not at all.
type errorBody struct {
	Error    string            `json:"error"`
	Reason   string            `json:"reason"`
	Accepted int               `json:"accepted"`
	Rejected tracking.Problems `json:"rejected,omitempty"`
}

// writeAccepted answers a batch taken whole with the JSON
// {"accepted":n}, written without reflection since every batch gets it.
func writeAccepted(w http.ResponseWriter, n int) {
	var b [32]byte
	body := strconv.AppendInt(append(b[:0], `{"accepted":`...), int64(n), 10)
	body = append(body, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func refuse(w http.ResponseWriter, code int, reason, msg string) {
	if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, errorBody{Error: msg, Reason: reason})
}

func refuseEvents(w http.ResponseWriter, problems tracking.Problems) {
	writeJSON(w, problems.Status(), errorBody{
		Error:    "the batch was refused whole; fix the events listed and resend all",
		Reason:   problems[0].Reason,
		Rejected: problems,
	})
}

// pixelGIF is the smallest transparent 1x1 GIF.
var pixelGIF = []byte{
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
	0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b,
}

func writePixel(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pixelGIF)
}
