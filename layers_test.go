package citizenhome_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layers of docs/architecture.md, checked on what each package imports and links. Tests are
// left out: a test may drive a simulator or a real device that its package never touches.

// A rule: the packages under one of pkgs may not reach a package under one of forbid, through
// their own imports (direct) or anything they link (transitive), unless it is under one of allow.
// Paths name a package and the tree below it. With noKits, the test kits under pkgs (see isKit)
// are not checked: they are linked by tests only.
type rule struct {
	why    string
	pkgs   []string
	direct bool
	forbid []string
	allow  []string
	noKits bool
}

var (
	hardware = []string{"go.bug.st/serial", "github.com/ebfe/scard"}
	mqtt     = []string{"github.com/eclipse/paho.mqtt.golang"}
	screen   = []string{"fyne.io", "github.com/fyne-io", "github.com/go-gl"}
	// Everything above the core: what uses it, and what only wires it.
	aboveCore = []string{"citizenhome/cmd", "citizenhome/ui", "citizenhome/internal", "citizenhome/telemetry", "citizenhome/hall"}
	// The contract's Go types, a leaf (a rule below): the core takes from it the names of the
	// events it writes to the outbox, so that each name is declared once, with the contract.
	contractTypes = "citizenhome/telemetry/wire"
	// The device simulators: the demo's rig wires them, tests reach them; no product code links them.
	simulators = []string{"citizenhome/devices/citycard/cardsim", "citizenhome/devices/citycard/psamsim",
		"citizenhome/devices/citycard/internal/sim", "citizenhome/devices/idcard/samsim",
		"citizenhome/devices/escpos/emulator", "citizenhome/devices/pcsc/vpcd"}
)

var rules = []rule{
	{why: "the core and its packages link no device, MQTT or UI library, and nothing that uses the core (but the contract's types)",
		pkgs: []string{"citizenhome/kiosk"}, forbid: concat(hardware, mqtt, screen, aboveCore), allow: []string{contractTypes}},
	{why: "the core speaks through a speaker cmd/kiosk wires: it links no audio device library",
		pkgs: []string{"citizenhome/kiosk"}, forbid: []string{"citizenhome/devices/speaker"}},
	{why: "the core ships no simulator: the demo's are wired in internal/rig, and tests reach them through kits (kiosk/payment/paymenttest)",
		pkgs: []string{"citizenhome/kiosk"}, forbid: simulators, noKits: true},
	{why: "the screens render the core's state and never touch a device",
		pkgs: []string{"citizenhome/ui"}, direct: true, forbid: []string{"citizenhome/devices"}},
	{why: "kioskd runs on window PCs and kiosks without a screen stack",
		pkgs: []string{"citizenhome/cmd/kioskd"}, forbid: screen},
	{why: "the device libraries know nothing of the kiosk",
		pkgs: []string{"citizenhome/devices"}, forbid: concat(aboveCore, []string{"citizenhome/kiosk"})},
	{why: "the MQTT contract is shared by the kiosk's agent and the hall: it knows neither the kiosk nor devices",
		pkgs:   []string{"citizenhome/telemetry/wire", "citizenhome/telemetry/link", "citizenhome/telemetry/broker", "citizenhome/telemetry/mqtttest"},
		forbid: []string{"citizenhome/kiosk", "citizenhome/devices", "citizenhome/ui", "citizenhome/internal", "citizenhome/hall", "citizenhome/telemetry/agent"}},
	{why: "the contract's types, which the core uses, are a leaf: they import nothing of the module and link no MQTT library",
		pkgs: []string{contractTypes}, forbid: concat([]string{"citizenhome"}, hardware, mqtt, screen)},
	{why: "the masking rules are a leaf that every layer, devices included, may use: they know nothing of the module",
		pkgs: []string{"citizenhome/mask"}, forbid: []string{"citizenhome"}},
	{why: "the strict TOML decoder is a leaf that every layer may use: it knows nothing of the module",
		pkgs: []string{"citizenhome/tomlfile"}, forbid: []string{"citizenhome"}},
	{why: "the clip machinery is a leaf that halld's announcements and the kiosk's prompts share: it knows nothing of the module",
		pkgs: []string{"citizenhome/speech"}, forbid: []string{"citizenhome"}, noKits: true},
	{why: "the event streams' hub and frames are a leaf that halld's web server and kioskd's API share: they know nothing of the module",
		pkgs: []string{"citizenhome/sse"}, forbid: []string{"citizenhome"}},
	{why: "the sealing of personal data at rest is a leaf that the kiosk's complaints and the hall's work orders share: it knows nothing of the module",
		pkgs: []string{"citizenhome/seal"}, forbid: []string{"citizenhome"}},
	{why: "the hall's side reads the kiosks through the MQTT contract only",
		pkgs:   []string{"citizenhome/hall"},
		forbid: concat([]string{"citizenhome/kiosk", "citizenhome/devices", "citizenhome/ui", "citizenhome/internal", "citizenhome/telemetry/agent"}, screen)},
}

// Each forbidden library is really linked (or imported, direct) by the package named here: if
// the listing or the matching were broken, these would fail instead of every rule passing unseen.
var controls = []struct {
	pkg, reaches string
	direct       bool
}{
	{pkg: "citizenhome/devices/escpos/driver", reaches: "go.bug.st/serial"},
	{pkg: "citizenhome/devices/idcard/tty", reaches: "go.bug.st/serial"},
	{pkg: "citizenhome/devices/pcsc", reaches: "github.com/ebfe/scard"},
	{pkg: "citizenhome/telemetry/link", reaches: "github.com/eclipse/paho.mqtt.golang"},
	{pkg: "citizenhome/ui", reaches: "fyne.io"},
	{pkg: "citizenhome/cmd/kiosk", reaches: "github.com/go-gl"},
	{pkg: "citizenhome/internal/rig", reaches: "citizenhome/devices", direct: true},
	{pkg: "citizenhome/cmd/kioskd", reaches: "citizenhome/kiosk"},
	{pkg: "citizenhome/telemetry/agent", reaches: "citizenhome/kiosk"},
	{pkg: "citizenhome/hall/fleet/fleetsim", reaches: "citizenhome/hall/fleet", direct: true},
	{pkg: "citizenhome/devices/idcard", reaches: "citizenhome", direct: true},
	{pkg: "citizenhome/kiosk", reaches: contractTypes, direct: true},
	{pkg: "citizenhome/kiosk/payment/paymenttest", reaches: "citizenhome/devices/citycard/cardsim", direct: true},
	{pkg: "citizenhome/internal/rig", reaches: "citizenhome/devices/citycard/psamsim", direct: true},
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// isKit reports whether pkg is a test kit by the layout's naming (docs/architecture.md): its last
// element ends in "test" or "sim", or is "emulator".
func isKit(pkg string) bool {
	last := pkg[strings.LastIndex(pkg, "/")+1:]
	return strings.HasSuffix(last, "test") || strings.HasSuffix(last, "sim") || last == "emulator"
}

// under reports whether pkg is root or below it.
func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

type listed struct{ imports, deps []string }

// list runs go list over the module: every package with its imports and everything it links.
func list(t *testing.T) map[string]listed {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", "./...").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	pkgs := map[string]listed{}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 3 {
			t.Fatalf("go list: odd line %q", line)
		}
		pkgs[f[0]] = listed{imports: strings.Fields(f[1]), deps: strings.Fields(f[2])}
	}
	return pkgs
}

func TestLayers(t *testing.T) {
	pkgs := list(t)
	names := slices.Sorted(maps.Keys(pkgs))
	for _, c := range controls {
		p, ok := pkgs[c.pkg]
		if !ok {
			t.Errorf("control: %s is not in the module", c.pkg)
			continue
		}
		seen, how := p.deps, "link"
		if c.direct {
			seen, how = p.imports, "import"
		}
		if !reaches(seen, c.reaches) {
			t.Errorf("control: %s should %s %s, and does not: the rules cannot be trusted", c.pkg, how, c.reaches)
		}
	}
	for _, r := range rules {
		checked, seenAny := 0, false
		for _, name := range names {
			p := pkgs[name]
			if !reaches([]string{name}, r.pkgs...) || r.noKits && isKit(name) {
				continue
			}
			checked++
			seen := p.deps
			how := "links"
			if r.direct {
				seen, how = p.imports, "imports"
			}
			seenAny = seenAny || len(seen) > 0
			for _, dep := range seen {
				if reaches([]string{dep}, r.forbid...) && !reaches([]string{dep}, r.allow...) {
					t.Errorf("%s %s %s: %s", name, how, dep, r.why)
				}
			}
		}
		if checked == 0 || !seenAny {
			t.Errorf("%d packages under %v, importing nothing: the rule %q checks nothing", checked, r.pkgs, r.why)
		}
	}
}

// reaches reports whether a package in list is under one of roots.
func reaches(list []string, roots ...string) bool {
	for _, p := range list {
		for _, r := range roots {
			if under(p, r) {
				return true
			}
		}
	}
	return false
}
