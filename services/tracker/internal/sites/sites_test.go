package sites

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseKeys(t *testing.T) {
	got, err := ParseKeys([]string{"wk_a", " wk_b = shop "})
	if err != nil {
		t.Fatal(err)
	}
	want := []Site{{Name: "wk_a", WriteKey: "wk_a"}, {Name: "shop", WriteKey: "wk_b"}}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].WriteKey != want[i].WriteKey {
			t.Errorf("site %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := ParseKeys([]string{"=shop"}); err == nil {
		t.Error("ParseKeys accepted an empty key")
	}
}

func TestLoadFile(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		ok   bool
	}{
		{"valid",
			"sites:\n  - name: shop\n    write_key: wk_1\n    origins: [https://shop.example]\n",
			true},
		{"unknown field", "sites:\n  - name: shop\n    write_key: wk_1\n    origin: [x]\n", false},
		{"missing key", "sites:\n  - name: shop\n", false},
		{"not yaml", "sites: [", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sites.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			sites, err := LoadFile(path)
			if (err == nil) != tc.ok {
				t.Fatalf("LoadFile err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && (len(sites) != 1 || sites[0].Origins[0] != "https://shop.example") {
				t.Errorf("sites = %+v", sites)
			}
		})
	}
}

func TestNormalizeOrigin(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://Shop.Example", "https://shop.example"},
		{"https://shop.example/", "https://shop.example"},
		{"https://shop.example:443", "https://shop.example"},
		{"http://shop.example:80", "http://shop.example"},
		{"http://localhost:3000", "http://localhost:3000"},
		{"https://shop.example/path", ""},
		{"ftp://shop.example", ""},
		{"shop.example", ""},
		{"*", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeOrigin(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Errorf("NormalizeOrigin(%q) = %q, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestRegistryOrigins(t *testing.T) {
	r, err := New(Site{Name: "shop", WriteKey: "wk_1", Origins: []string{"https://shop.example"}},
		Site{Name: "blog", WriteKey: "wk_2"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		key, origin string
		want        bool
	}{
		{"wk_1", "https://shop.example", true},
		{"wk_1", "https://SHOP.example:443", true},
		{"wk_1", "https://evil.example", false},
		{"wk_2", "https://shop.example", false},
		{"wk_x", "https://shop.example", false},
		{"wk_1", "null", false},
	}
	for _, tc := range cases {
		t.Run(tc.key+" "+tc.origin, func(t *testing.T) {
			if got := r.OriginAllowed(tc.key, tc.origin); got != tc.want {
				t.Errorf("OriginAllowed = %v, want %v", got, tc.want)
			}
		})
	}
	if !r.HasOrigins("wk_1") || r.HasOrigins("wk_2") ||
		!r.AnyOriginAllowed("https://shop.example") {
		t.Error("HasOrigins or AnyOriginAllowed wrong")
	}
	if r.Lookup("wk_2").Name != "blog" || r.Lookup("nope") != nil {
		t.Error("Lookup wrong")
	}
}

func TestRegistryRefuses(t *testing.T) {
	_, err := New(Site{Name: "a", WriteKey: "wk"}, Site{Name: "b", WriteKey: "wk"})
	if !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("duplicate key: err = %v", err)
	}
	if _, err := New(Site{Name: "a", WriteKey: "wk", Origins: []string{"a.example"}}); err == nil {
		t.Error("bad origin accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("sites:\n  - name: shop\n    write_key: wk\n    origins: [https://shop.example]\n")
	f.Add("sites: [{write_key: a, origins: ['http://x:80/']}, {write_key: a}]")
	f.Add("sites: {}")
	f.Fuzz(func(t *testing.T, data string) {
		parsed, err := Parse([]byte(data))
		if err != nil {
			return
		}
		reg, err := New(parsed...)
		if err != nil {
			return
		}
		for _, s := range parsed {
			if s.WriteKey == "" || reg.Lookup(s.WriteKey) == nil {
				t.Fatalf("site %+v parsed but not found by key", s)
			}
			for _, o := range s.Origins {
				if !reg.OriginAllowed(s.WriteKey, o) {
					t.Fatalf("origin %q configured but not allowed", o)
				}
			}
		}
	})
}
