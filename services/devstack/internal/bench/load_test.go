package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestLoadRun(t *testing.T) {
	tests := []struct {
		name   string
		status int
		ok     bool
	}{
		{"counts successes", http.StatusOK, true},
		{"fails when nothing succeeds", http.StatusTeapot, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(barePixel))
			t.Cleanup(srv.Close)
			res, err := Load{Workers: 4, Warmup: 50 * time.Millisecond,
				Duration: 200 * time.Millisecond, Status: tt.status,
				Request: func(w, n int) (*http.Request, error) {
					return http.NewRequest(http.MethodGet, srv.URL+"/p.gif?"+pixelQuery(w, n), nil)
				}}.Run(context.Background())
			if tt.ok && (err != nil || res.OK == 0 || res.Rate() <= 0) {
				t.Fatalf("Run = %+v, %v; want successes", res, err)
			}
			if !tt.ok && (err == nil || res.OK != 0 || res.Failed == 0) {
				t.Fatalf("Run = %+v, %v; want every request failed", res, err)
			}
		})
	}
}

func TestIssuePacesRate(t *testing.T) {
	jobs := make(chan int, 1000)
	behind := issue(context.Background(), jobs, 2000, 300*time.Millisecond)
	close(jobs)
	sent := 0
	for n := range jobs {
		if n < 1 || n > batchSize {
			t.Errorf("batch of %d events", n)
		}
		sent += n
	}
	// 2000/s for 0.3s is 600 events; ticks are coarse, so allow 15%.
	if behind != 0 || sent < 510 || sent > 690 {
		t.Errorf("issued %d events, %d behind; want about 600 and none behind", sent, behind)
	}
}

func TestWithMissing(t *testing.T) {
	t0 := time.Unix(100, 0)
	samples := []sample{{id: "a", sent: t0}, {id: "b", sent: t0.Add(time.Second)},
		{id: "c", sent: t0.Add(2 * time.Second)}}
	tests := []struct {
		name string
		lat  []float64
		want []float64
	}{
		{"all arrived", []float64{1, 2, 3}, []float64{1, 2, 3}},
		{"one missing counts from the last send", []float64{5, 1},
			[]float64{1, 5, 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withMissing(tt.lat, samples, t0.Add(5*time.Second))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("withMissing = %v, want %v", got, tt.want)
			}
		})
	}
}
