package deploycheck

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// compose is the part of the Compose specification the file may use; any
// other key is a mistake the strict decoder reports.
type compose struct {
	Name     string                    `yaml:"name"`
	XService map[string]any            `yaml:"x-service"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]map[string]any `yaml:"volumes"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Build       *composeBuild                `yaml:"build"`
	Command     []string                     `yaml:"command"`
	Entrypoint  []string                     `yaml:"entrypoint"`
	Environment map[string]string            `yaml:"environment"`
	Ports       []string                     `yaml:"ports"`
	Volumes     []string                     `yaml:"volumes"`
	DependsOn   map[string]map[string]string `yaml:"depends_on"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
	Restart     string   `yaml:"restart"`
	ReadOnly    bool     `yaml:"read_only"`
	SecurityOpt []string `yaml:"security_opt"`
	CapDrop     []string `yaml:"cap_drop"`
	Deploy      *struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

type composeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Root, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("read compose file: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c compose
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode compose file strictly: %v", err)
	}
	return c
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"kafka", "redis", "topics", "tracker", "scorer", "notifier"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("compose has no %s service", name)
		}
	}
	for _, name := range []string{"kafka", "redis"} {
		if c.Services[name].Healthcheck == nil {
			t.Errorf("%s has no healthcheck", name)
		}
	}
	if d := c.Services["scorer"].Deploy; d == nil || d.Replicas != 2 {
		t.Errorf("scorer should run 2 replicas")
	}
	for _, svc := range Services {
		t.Run(svc, func(t *testing.T) { checkComposeService(t, svc, c.Services[svc]) })
	}
}

func checkComposeService(t *testing.T, name string, s composeService) {
	env := envOf(t, name)
	if s.Build == nil || s.Build.Args["SERVICE"] != name {
		t.Errorf("build arg SERVICE should be %s", name)
	} else if _, err := os.Stat(filepath.Join(Root, s.Build.Dockerfile)); err != nil {
		t.Errorf("dockerfile: %v", err)
	}
	for k := range s.Environment {
		if strings.HasPrefix(k, "LEADSTREAM_") && !env[k] {
			t.Errorf("sets %s, which %s does not read", k, name)
		}
	}
	_, port, err := net.SplitHostPort(s.Environment["LEADSTREAM_HTTP_ADDR"])
	if err != nil {
		t.Errorf("LEADSTREAM_HTTP_ADDR must be set to host:port: %v", err)
	}
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || parts[0] != "127.0.0.1" || parts[2] != port {
			t.Errorf("port %q: want 127.0.0.1:<host>:%s", p, port)
		}
	}
	for _, v := range s.Volumes {
		src := strings.Split(v, ":")[0]
		if strings.HasPrefix(src, "./") {
			if _, err := os.Stat(filepath.Join(Root, src)); err != nil {
				t.Errorf("volume %q: %v", v, err)
			}
		}
	}
	for k, v := range s.Environment {
		if strings.HasPrefix(v, "/etc/") && !mounts(s.Volumes, v) {
			t.Errorf("%s=%s is not a mounted file", k, v)
		}
	}
}

func mounts(volumes []string, path string) bool {
	for _, v := range volumes {
		if parts := strings.Split(v, ":"); len(parts) >= 2 && parts[1] == path {
			return true
		}
	}
	return false
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(Root, "deploy/docker/Dockerfile"))
	if err != nil {
		t.Fatalf("read Dockerfile: %v", err)
	}
	for _, want := range []string{"ARG SERVICE", "CGO_ENABLED=0", "USER nonroot",
		"./cmd/${SERVICE}", "distroless/static"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	for _, svc := range Services {
		if _, err := os.Stat(filepath.Join(Root, "services", svc, "cmd", svc)); err != nil {
			t.Errorf("Dockerfile builds ./cmd/%s of services/%s: %v", svc, svc, err)
		}
	}
}

// TestSecretEnvRead checks that the shared config still reads the secret
// variables straight from the environment.
func TestSecretEnvRead(t *testing.T) {
	for name := range SecretEnv {
		flag := strings.ToLower(
			strings.ReplaceAll(strings.TrimPrefix(name, "LEADSTREAM_"), "_", "-"))
		found := false
		files, _ := filepath.Glob(filepath.Join(Root, "pkg/config/*.go"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err == nil && bytes.Contains(data, []byte(`fs.env("`+flag+`")`)) {
				found = true
			}
		}
		if !found {
			t.Errorf("pkg/config no longer reads %s", name)
		}
	}
}
