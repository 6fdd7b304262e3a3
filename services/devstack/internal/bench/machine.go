package bench

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Machine describes the computer a run measured.
type Machine struct {
	// CPU is the processor model.
	CPU string `json:"cpu"`
	// Cores is the number of logical CPUs.
	Cores int `json:"cores"`
	// OS is the operating system and architecture.
	OS string `json:"os"`
	// Go is the Go version of the harness.
	Go string `json:"go"`
	// Redis is the redis-server version line.
	Redis string `json:"redis,omitempty"`
}

// ThisMachine describes the running machine.
func ThisMachine() Machine {
	return Machine{CPU: cpuModel(), Cores: runtime.NumCPU(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(), Redis: redisVersion()}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown cpu"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
			return strings.TrimSpace(strings.TrimLeft(name, "\t :"))
		}
	}
	return "unknown cpu"
}

func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
