package faults

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
)

func sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

func TestReceiver(t *testing.T) {
	body := []byte(`{"id":"tr1","lead_id":"l1","from":"visitor","to":"mql"}`)
	tests := []struct {
		name   string
		sig    string
		key    string
		fail   bool
		status int
	}{
		{"good", sign("s3", "100", body), "tr1", false, 200},
		{"bad signature", sign("other", "100", body), "tr1", false, 401},
		{"no signature", "", "tr1", false, 401},
		{"key is not the id", sign("s3", "100", body), "tr2", false, 400},
		{"failing", sign("s3", "100", body), "tr1", true, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := StartReceiver(t, "s3")
			r.Fail(tt.fail)
			req, _ := http.NewRequest(http.MethodPost, r.URL(), bytes.NewReader(body))
			req.Header.Set("Leadstream-Signature", tt.sig)
			req.Header.Set("Idempotency-Key", tt.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := len(r.Delivered()); (got == 1) != (tt.status == 200) || r.Attempts() != 1 {
				t.Fatalf("%d delivered of %d attempts", got, r.Attempts())
			}
		})
	}
}

func FuzzParseHook(f *testing.F) {
	f.Add([]byte(`{"id":"a","lead_id":"b","to":"sql"}`))
	f.Add([]byte(`{"id":""}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := parseHook(body)
		if err == nil && (h.ID == "" || h.LeadID == "" || h.To == "") {
			t.Fatalf("accepted %q as %+v", body, h)
		}
	})
}

// FuzzVerify checks that no header passes for a body it was not made for.
func FuzzVerify(f *testing.F) {
	f.Add("t=1,v1=00", []byte("x"))
	f.Add(sign("k", "5", []byte("x")), []byte("x"))
	f.Add("v1=zz,t=", []byte{})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if verify("k", header, body) && verify("k", header, append(body, 'x')) {
			t.Fatalf("%q verifies two bodies", header)
		}
	})
}
