package deploycheck

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadstream/leadstream/pkg/rules"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// EventsPartitions bounds the scorer replicas that can get work.
const EventsPartitions = 8

// scaledObject is the part of KEDA's ScaledObject the manifests use.
type scaledObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace,omitempty"`
		Labels    map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec struct {
		ScaleTargetRef  struct{ Name string } `json:"scaleTargetRef"`
		MinReplicaCount int32                 `json:"minReplicaCount"`
		MaxReplicaCount int32                 `json:"maxReplicaCount"`
		PollingInterval int32                 `json:"pollingInterval"`
		CooldownPeriod  int32                 `json:"cooldownPeriod"`
		Triggers        []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
			} `json:"authenticationRef,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

// triggerAuth is the part of KEDA's TriggerAuthentication in use.
type triggerAuth struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace,omitempty"`
		Labels    map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// manifests is one kustomize build, decoded.
type manifests struct {
	deployments map[string]*appsv1.Deployment
	services    []*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	scaled      []*scaledObject
	auths       map[string]*triggerAuth
}

func build(t *testing.T, dir string) manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(Root, dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	m := manifests{deployments: map[string]*appsv1.Deployment{},
		configMaps: map[string]*corev1.ConfigMap{}, auths: map[string]*triggerAuth{}}
	for _, r := range res.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatalf("render %s: %v", r.GetName(), err)
		}
		if err := m.add(r.GetKind(), data); err != nil {
			t.Errorf("%s %s/%s: %v", dir, r.GetKind(), r.GetName(), err)
		}
	}
	return m
}

// add decodes one resource strictly: an unknown or misspelt field fails.
func (m *manifests) add(kind string, data []byte) error {
	switch kind {
	case "Deployment":
		var d appsv1.Deployment
		return strictInto(data, &d, func() { m.deployments[d.Name] = &d })
	case "Service":
		var s corev1.Service
		return strictInto(data, &s, func() { m.services = append(m.services, &s) })
	case "ConfigMap":
		var c corev1.ConfigMap
		return strictInto(data, &c, func() { m.configMaps[c.Name] = &c })
	case "PodDisruptionBudget":
		var p policyv1.PodDisruptionBudget
		return strictInto(data, &p, func() { m.pdbs = append(m.pdbs, &p) })
	case "HorizontalPodAutoscaler":
		var h autoscalingv2.HorizontalPodAutoscaler
		return strictInto(data, &h, func() { m.hpas = append(m.hpas, &h) })
	case "ScaledObject":
		var s scaledObject
		return strictInto(data, &s, func() { m.scaled = append(m.scaled, &s) })
	case "TriggerAuthentication":
		var a triggerAuth
		return strictInto(data, &a, func() { m.auths[a.Metadata.Name] = &a })
	}
	return fmt.Errorf("unexpected kind %s", kind)
}

func strictInto(data []byte, v any, keep func()) error {
	if err := sigsyaml.UnmarshalStrict(data, v); err != nil {
		return err
	}
	keep()
	return nil
}

var overlays = []string{"deploy/k8s/base", "deploy/k8s/overlays/dev", "deploy/k8s/overlays/prod"}

func TestKustomizeBuilds(t *testing.T) {
	for _, dir := range overlays {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m := build(t, dir)
			if len(m.deployments) != 3 {
				t.Fatalf("%d deployments, want tracker, scorer and notifier", len(m.deployments))
			}
			for _, d := range m.deployments {
				t.Run(d.Name, func(t *testing.T) { checkDeployment(t, m, d) })
			}
			checkSelectors(t, m)
			checkAutoscaling(t, m)
		})
	}
}

func serviceOf(d *appsv1.Deployment) string {
	return strings.TrimPrefix(d.Name, "leadstream-")
}

func checkDeployment(t *testing.T, m manifests, d *appsv1.Deployment) {
	spec := d.Spec.Template.Spec
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds < 30 {
		t.Error("terminationGracePeriodSeconds should leave at least 30s to drain")
	}
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("pod must run as non-root")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	checkHardening(t, c)
	env := containerEnv(t, m, c)
	known := envOf(t, serviceOf(d))
	for name := range env {
		if strings.HasPrefix(name, "LEADSTREAM_") && !known[name] {
			t.Errorf("sets %s, which %s does not read", name, serviceOf(d))
		}
	}
	checkPorts(t, c, env["LEADSTREAM_HTTP_ADDR"])
	checkMountedFiles(t, m, spec, c, env)
}

func checkHardening(t *testing.T, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("root filesystem must be read-only")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("privilege escalation must be off")
	}
	if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 ||
		sc.Capabilities.Drop[0] != "ALL" {
		t.Error("capabilities must drop ALL")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("set a CPU request and a memory limit")
	}
}

// containerEnv resolves the container's environment: literal values,
// ConfigMap values, and "secret" for values from Secrets.
func containerEnv(t *testing.T, m manifests, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("envFrom only from ConfigMaps")
			continue
		}
		cm, ok := m.configMaps[from.ConfigMapRef.Name]
		if !ok {
			t.Errorf("envFrom names missing ConfigMap %s", from.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret"
		default:
			t.Errorf("env %s: only values and Secret references are expected", e.Name)
		}
	}
	return env
}

// checkPorts wants the service to listen on the named container port and
// the probes to ask the paths every service serves.
func checkPorts(t *testing.T, c corev1.Container, httpAddr string) {
	t.Helper()
	_, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		t.Fatalf("LEADSTREAM_HTTP_ADDR %q: %v (the default listens on loopback only)",
			httpAddr, err)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" ||
		fmt.Sprint(c.Ports[0].ContainerPort) != port {
		t.Errorf("container ports %v, want one named http on %s", c.Ports, port)
	}
	probes := []struct {
		name, path string
		probe      *corev1.Probe
	}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe should GET %s on port http", p.name, p.path)
			continue
		}
		if get := p.probe.HTTPGet; get.Path != p.path || get.Port.String() != "http" {
			t.Errorf("%s probe should GET %s on port http", p.name, p.path)
		}
	}
}

// checkMountedFiles wants every file path in the environment to be a key
// of a mounted ConfigMap, whose content the service can read.
func checkMountedFiles(t *testing.T, m manifests, spec corev1.PodSpec, c corev1.Container,
	env map[string]string) {
	t.Helper()
	for name, path := range env {
		if !strings.HasPrefix(path, "/etc/") {
			continue
		}
		data, ok := mountedFile(m, spec, c, path)
		if !ok {
			t.Errorf("%s=%s is not a key of a mounted ConfigMap", name, path)
			continue
		}
		switch name {
		case "LEADSTREAM_RULES":
			if _, err := rules.Parse(path, []byte(data)); err != nil {
				t.Errorf("rules in the ConfigMap: %v", err)
			}
		case "LEADSTREAM_SINKS":
			checkSinkEnv(t, data, env)
		}
	}
}

func mountedFile(m manifests, spec corev1.PodSpec, c corev1.Container, path string) (string, bool) {
	for _, vm := range c.VolumeMounts {
		key, ok := strings.CutPrefix(path, vm.MountPath+"/")
		if !ok {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				if cm, ok := m.configMaps[v.ConfigMap.Name]; ok {
					data, ok := cm.Data[key]
					return data, ok
				}
			}
		}
	}
	return "", false
}

// checkSinkEnv wants every secret_env and url_env of the sinks file set
// in the notifier's environment.
func checkSinkEnv(t *testing.T, data string, env map[string]string) {
	t.Helper()
	var f struct {
		Sinks []struct {
			Name      string `yaml:"name"`
			SecretEnv string `yaml:"secret_env"`
			URLEnv    string `yaml:"url_env"`
		} `yaml:"sinks"`
	}
	if err := yaml.Unmarshal([]byte(data), &f); err != nil {
		t.Fatalf("decode sinks: %v", err)
	}
	for _, s := range f.Sinks {
		for _, name := range []string{s.SecretEnv, s.URLEnv} {
			if name != "" && env[name] == "" {
				t.Errorf("sink %s needs %s, which the notifier does not get", s.Name, name)
			}
		}
	}
}

func checkSelectors(t *testing.T, m manifests) {
	t.Helper()
	matches := func(sel map[string]string) bool {
		for _, d := range m.deployments {
			if subset(sel, d.Spec.Template.Labels) {
				return true
			}
		}
		return false
	}
	for _, s := range m.services {
		if !matches(s.Spec.Selector) {
			t.Errorf("service %s selects no pods", s.Name)
		}
	}
	for _, p := range m.pdbs {
		if p.Spec.Selector == nil || !matches(p.Spec.Selector.MatchLabels) {
			t.Errorf("PDB %s selects no pods", p.Name)
		}
	}
	if len(m.pdbs) != len(m.deployments) {
		t.Errorf("%d PDBs for %d deployments", len(m.pdbs), len(m.deployments))
	}
}

func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func checkAutoscaling(t *testing.T, m manifests) {
	t.Helper()
	if len(m.hpas) != 1 || m.deployments[m.hpas[0].Spec.ScaleTargetRef.Name] == nil ||
		m.hpas[0].Spec.ScaleTargetRef.Name != "leadstream-tracker" {
		t.Errorf("want one HPA, on the tracker")
	}
	if len(m.scaled) != 1 {
		t.Fatalf("want one ScaledObject, for the scorers")
	}
	so := m.scaled[0]
	scorer := m.deployments[so.Spec.ScaleTargetRef.Name]
	if scorer == nil || serviceOf(scorer) != "scorer" {
		t.Fatalf("ScaledObject targets %q, want the scorer", so.Spec.ScaleTargetRef.Name)
	}
	if so.Spec.MaxReplicaCount > EventsPartitions || so.Spec.MinReplicaCount < 1 ||
		so.Spec.MinReplicaCount > so.Spec.MaxReplicaCount {
		t.Errorf("replicas %d..%d: want 1 <= min <= max <= %d partitions",
			so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount, EventsPartitions)
	}
	env := containerEnv(t, m, scorer.Spec.Template.Spec.Containers[0])
	for _, tr := range so.Spec.Triggers {
		md := tr.Metadata
		if tr.Type != "kafka" || md["consumerGroup"] != env["LEADSTREAM_GROUP"] ||
			md["topic"] != "leadstream.events.v1" ||
			md["bootstrapServers"] != env["LEADSTREAM_KAFKA_BROKERS"] {
			t.Errorf("trigger %v does not watch the scorers' group %s on the events topic at %s",
				md, env["LEADSTREAM_GROUP"], env["LEADSTREAM_KAFKA_BROKERS"])
		}
		if tr.AuthenticationRef != nil && m.auths[tr.AuthenticationRef.Name] == nil {
			t.Errorf("trigger names missing TriggerAuthentication %s", tr.AuthenticationRef.Name)
		}
	}
}

// TestRulesCopy keeps the rules in the base ConfigMap the same as the
// example rules, which the demo and the tests exercise.
func TestRulesCopy(t *testing.T) {
	a, errA := os.ReadFile(filepath.Join(Root, "deploy/k8s/base/config/rules.yaml"))
	b, errB := os.ReadFile(filepath.Join(Root, "deploy/rules/example.yaml"))
	if errA != nil || errB != nil {
		t.Fatalf("read rules: %v, %v", errA, errB)
	}
	if string(a) != string(b) {
		t.Error("deploy/k8s/base/config/rules.yaml differs from deploy/rules/example.yaml; copy it")
	}
}
