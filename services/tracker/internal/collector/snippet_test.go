package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

// TestSnippetRunsInABrowserShape runs t.js in node with a browser's
// window, document and sendBeacon (testdata/snippet.js: two page loads on
// one cookie jar, a call queued before the load and one pushed after),
// then posts every beacon to the collector as a browser would. make setup
// installs node.
func TestSnippetRunsInABrowserShape(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run the snippet (make setup installs it): %v", err)
	}
	out, err := exec.Command(node, "testdata/snippet.js", "t.js").Output()
	if err != nil {
		t.Fatalf("run the snippet: %v", err)
	}
	pub := &recorder{}
	srv := newTestServer(t, pub, nil)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var beacon struct{ URL, Body string }
		if err := json.Unmarshal(sc.Bytes(), &beacon); err != nil {
			t.Fatalf("beacon %q: %v", sc.Text(), err)
		}
		u, err := url.Parse(beacon.URL)
		if err != nil || u.Path != "/v1/events" || u.Query().Get("k") != "wk_shop" {
			t.Fatalf("beacon to %q, want /v1/events?k=wk_shop", beacon.URL)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+u.RequestURI(),
			strings.NewReader(beacon.Body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		req.Header.Set("Origin", "https://shop.example")
		if resp, body := do(t, req); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("beacon %s: code %d: %s", beacon.Body, resp.StatusCode, body)
		}
	}
	checkSnippetEvents(t, pub)
}

func checkSnippetEvents(t *testing.T, pub *recorder) {
	t.Helper()
	pub.mu.Lock()
	defer pub.mu.Unlock()
	var types []string
	for _, ev := range pub.events {
		types = append(types, ev.GetType())
		if ev.GetAnonymousId() != pub.events[0].GetAnonymousId() || ev.GetAnonymousId() == "" {
			t.Errorf("%s has anonymous id %q, want the first page's %q on every event",
				ev.GetType(), ev.GetAnonymousId(), pub.events[0].GetAnonymousId())
		}
	}
	if got := strings.Join(types, ","); got != "page_view,download,identify,page_view" {
		t.Fatalf("events %s, want page_view,download,identify,page_view", got)
	}
	view, dl, ident := pub.events[0], pub.events[1], pub.events[2]
	if view.GetProperties()["utm_source"] != "news" || view.GetUrl() == "" {
		t.Errorf("page view %v, want utm_source=news and the page URL", view)
	}
	if dl.GetProperties()["file"] != "a.pdf" || dl.GetProperties()["pages"] != "12" {
		t.Errorf("queued download properties %v, want file=a.pdf pages=12", dl.GetProperties())
	}
	tr := ident.GetTraits()
	if ident.GetLeadId() != "crm-42" || tr["email"] != "ann@buyer.example" ||
		tr["email_domain"] != "buyer.example" || tr["title"] != "CTO" {
		t.Errorf("identify lead %q traits %v, want crm-42 with normalised email",
			ident.GetLeadId(), tr)
	}
}
