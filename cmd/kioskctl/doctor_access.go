package main

// The doctor checks file and device access as the user the kiosk's program runs as, not as
// itself: run as root it could read anything, and would pass a hall key that the daemon cannot
// open. Run as root, it starts itself again (the hidden command accessHelperArg) with the daemon
// user's uid, gid and groups, and that process asks the kernel, with access(2), whether it may
// open each file: the kernel's own answer, mode bits, ACLs and read-only mounts included, rather
// than a re-implementation of the rules. Only the explanation of a refusal (whose group, which
// bit) is worked out from the file's owner and mode, by the doctor.
//
// Whom to check as: -user NAME, else the User= (with Group= and SupplementaryGroups=) of the
// installed unit, kioskd.service or citizenhome-kiosk.service, read with its drop-ins; else the
// current user. A non-root doctor that is not that user checks as itself and says so.

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// accessHelperArg is the hidden command the doctor runs itself as, under the daemon's user.
const accessHelperArg = "__doctor-access"

// systemdDirs are where unit files live, most important first (as systemd reads them).
var systemdDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
	"/lib/systemd/system", "/usr/lib/systemd/system"}

// daemonUnits are the units of the two programs, with the program each runs.
var daemonUnits = []struct{ unit, program string }{
	{"kioskd.service", "kioskd"}, {"citizenhome-kiosk.service", "kiosk"},
}

// unitInfo is what a unit file says about the user its program runs as.
type unitInfo struct {
	Name, Path, Program string
	User, Group         string   // empty: root, and the user's primary group
	Supplementary       []string // SupplementaryGroups=, added to the user's own groups
	// The sandbox, which refuses what file modes allow: ProtectSystem= makes the file system
	// read-only but for StateDirectory= (under /var/lib) and ReadWritePaths=; DevicePolicy=
	// closed or strict allows only the devices DeviceAllow= lists.
	ProtectSystem, DevicePolicy                      string
	StateDirectory, RuntimeDirectory, ReadWritePaths []string
	DeviceAllow                                      []string // "spec [rwm]": a path, or char-DRIVER (a glob)
}

// findUnit reads the unit name from dirs with its drop-ins (name.d/*.conf, a drop-in of the same
// file name in a more important directory hiding the other). ok is false when it is not
// installed or masked.
func findUnit(dirs []string, name string) (u unitInfo, ok bool) {
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if t, _ := filepath.EvalSymlinks(p); t == os.DevNull {
			return unitInfo{}, false // masked: it cannot run
		}
		u.Path = p
		break
	}
	if u.Path == "" {
		return unitInfo{}, false
	}
	u.Name = name
	dropIns := map[string]string{}
	for _, dir := range slices.Backward(dirs) {
		matches, _ := filepath.Glob(filepath.Join(dir, name+".d", "*.conf"))
		for _, m := range matches {
			dropIns[filepath.Base(m)] = m // a more important directory, read later, wins
		}
	}
	files := []string{u.Path}
	for _, base := range slices.Sorted(maps.Keys(dropIns)) {
		files = append(files, dropIns[base])
	}
	for _, f := range files {
		readUnitFile(f, &u)
	}
	return u, true
}

// readUnitFile applies the [Service] settings of one file to u: a later User= or Group= replaces
// an earlier one, SupplementaryGroups= adds to the list and an empty one clears it.
func readUnitFile(path string, u *unitInfo) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	section := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "[Service]" {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "User":
			u.User = v
		case "Group":
			u.Group = v
		case "SupplementaryGroups":
			u.Supplementary = appendList(u.Supplementary, v, strings.Fields(v)...)
		case "ProtectSystem":
			u.ProtectSystem = v
		case "DevicePolicy":
			u.DevicePolicy = v
		case "StateDirectory":
			u.StateDirectory = appendList(u.StateDirectory, v, strings.Fields(v)...)
		case "RuntimeDirectory":
			u.RuntimeDirectory = appendList(u.RuntimeDirectory, v, strings.Fields(v)...)
		case "ReadWritePaths":
			var paths []string
			for _, f := range strings.Fields(v) {
				paths = append(paths, strings.TrimLeft(f, "-+"))
			}
			u.ReadWritePaths = appendList(u.ReadWritePaths, v, paths...)
		case "DeviceAllow":
			u.DeviceAllow = appendList(u.DeviceAllow, v, v)
		}
	}
}

// appendList is how systemd reads a list setting: each assignment adds, an empty one clears.
func appendList(list []string, v string, items ...string) []string {
	if v == "" {
		return nil
	}
	return append(list, items...)
}

// readOnly says why the unit's program may not write in dir ("" when it may): ProtectSystem=.
func (u unitInfo) readOnly(dir string) string {
	under := func(roots ...string) bool {
		for _, r := range roots {
			if r = filepath.Clean(r); dir == r || strings.HasPrefix(dir, strings.TrimSuffix(r, "/")+"/") {
				return true
			}
		}
		return false
	}
	switch u.ProtectSystem {
	case "strict":
		allowed := []string{"/dev", "/proc", "/sys"}
		for _, s := range u.StateDirectory {
			allowed = append(allowed, filepath.Join("/var/lib", s))
		}
		for _, s := range u.RuntimeDirectory {
			allowed = append(allowed, filepath.Join("/run", s))
		}
		allowed = append(allowed, u.ReadWritePaths...)
		if under(allowed...) {
			return ""
		}
		but := cmp.Or(strings.Join(allowed[3:], ", "), "nothing")
		return fmt.Sprintf("%s makes the whole file system read-only for %s but %s (ProtectSystem=strict): it cannot write in %s",
			u.Name, u.Program, but, dir)
	case "full", "yes", "true", "on", "1":
		ro := []string{"/usr", "/boot", "/efi"}
		if u.ProtectSystem == "full" {
			ro = append(ro, "/etc")
		}
		if under(ro...) && !under(u.ReadWritePaths...) {
			return fmt.Sprintf("%s makes %s read-only for %s (ProtectSystem=%s): it cannot write in %s", u.Name, strings.Join(ro, ", "), u.Program, u.ProtectSystem, dir)
		}
	}
	return ""
}

// readOnlyFix is how to let the program write in dir.
func (u unitInfo) readOnlyFix(dir string) string {
	unit := strings.TrimSuffix(u.Name, ".service")
	return fmt.Sprintf("keep the kiosk's files under /var/lib/citizenhome (kiosk.store, privacy.key_file, api.token_file), or allow the directory: systemctl edit %s, add [Service] ReadWritePaths=%s, then systemctl restart %s", unit, dir, unit)
}

// deviceRefused says why the unit's program may not open the character device at path
// (resolved: where its links lead; major: its driver's number) for reading and writing, "" when
// it may. drivers are /proc/devices' character drivers by major number.
func (u unitInfo) deviceRefused(path, resolved string, major uint32, drivers map[uint32][]string) string {
	if u.DevicePolicy != "closed" && u.DevicePolicy != "strict" {
		return ""
	}
	for _, entry := range u.DeviceAllow {
		f := strings.Fields(entry)
		if len(f) == 0 {
			continue
		}
		perms := "rwm"
		if len(f) > 1 {
			perms = f[1]
		}
		if !strings.Contains(perms, "r") || !strings.Contains(perms, "w") {
			continue
		}
		spec := f[0]
		if name, ok := strings.CutPrefix(spec, "char-"); ok {
			for _, drv := range drivers[major] {
				if m, _ := filepath.Match(name, drv); m {
					return ""
				}
			}
			continue
		}
		// A path is resolved when the unit starts, to the device it names then.
		if t, err := filepath.EvalSymlinks(spec); spec == path || err == nil && t == cmp.Or(resolved, path) {
			return ""
		}
	}
	drv := strings.Join(drivers[major], "/")
	return fmt.Sprintf("%s lets %s open only the devices it allows (DevicePolicy=%s; DeviceAllow=%s): %s (driver %s) is not among them",
		u.Name, u.Program, u.DevicePolicy, strings.Join(u.DeviceAllow, ", "), shown(path, resolved), cmp.Or(drv, "unknown"))
}

// deviceFix is how to let the program open a device of driver.
func (u unitInfo) deviceFix(drivers []string) string {
	unit := strings.TrimSuffix(u.Name, ".service")
	allow := "char-DRIVER"
	if len(drivers) > 0 {
		allow = "char-" + drivers[len(drivers)-1]
	}
	return fmt.Sprintf("name the device by its udev link (/dev/citizenhome-printer, /dev/citizenhome-idreader: /lib/udev/rules.d/70-citizenhome.rules), or allow its driver: systemctl edit %s, add [Service] DeviceAllow=%s rw, then systemctl restart %s", unit, allow, unit)
}

// charDrivers reads the character device drivers by major number from /proc/devices.
func charDrivers(proc string) map[uint32][]string {
	b, err := os.ReadFile(filepath.Join(proc, "devices"))
	if err != nil {
		return nil
	}
	out := map[uint32][]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "Block") {
			break
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if n, err := strconv.ParseUint(f[0], 10, 32); err == nil {
			out[uint32(n)] = append(out[uint32(n)], f[1])
		}
	}
	return out
}

// identity is a user with every group its processes carry.
type identity struct {
	Name     string
	UID, GID uint32   // GID: the primary group
	Groups   []uint32 // every group, the primary one first
}

func (id identity) in(gid uint32) bool { return slices.Contains(id.Groups, gid) }

// groupList is "citizenhome, dialout".
func (id identity) groupList() string {
	names := make([]string, len(id.Groups))
	for i, g := range id.Groups {
		names[i] = groupName(g)
	}
	return strings.Join(names, ", ")
}

// preferredGroup is the group to give a file to so that id may use it: citizenhome when id is in
// it (the packages' group for shared files), else id's primary group.
func (id identity) preferredGroup() string {
	if g, err := user.LookupGroup("citizenhome"); err == nil {
		if n, err := strconv.ParseUint(g.Gid, 10, 32); err == nil && id.in(uint32(n)) {
			return "citizenhome"
		}
	}
	return groupName(id.GID)
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	return strconv.FormatUint(uint64(gid), 10)
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// lookupIdentity gives the user name with its groups from the group database, the primary one
// replaced by group when set, and supplementary added, as systemd sets them for User=.
func lookupIdentity(name, group string, supplementary []string) (identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return identity{}, err
	}
	id := identity{Name: u.Username}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := cmp.Or(err1, err2); err != nil {
		return identity{}, err
	}
	id.UID, id.GID = uint32(uid), uint32(gid)
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return identity{}, fmt.Errorf("group %s (Group=): %w", group, err)
		}
		n, _ := strconv.ParseUint(g.Gid, 10, 32)
		id.GID = uint32(n)
	}
	id.Groups = []uint32{id.GID}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil && !id.in(uint32(n)) {
			id.Groups = append(id.Groups, uint32(n))
		}
	}
	for _, s := range supplementary {
		g, err := user.LookupGroup(s)
		if err != nil {
			return identity{}, fmt.Errorf("group %s (SupplementaryGroups=): %w", s, err)
		}
		if n, _ := strconv.ParseUint(g.Gid, 10, 32); !id.in(uint32(n)) {
			id.Groups = append(id.Groups, uint32(n))
		}
	}
	return id, nil
}

// currentIdentity is the doctor's own user and groups.
func currentIdentity() identity {
	id := identity{UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}
	id.Name = userName(id.UID)
	id.Groups = []uint32{id.GID}
	gs, _ := os.Getgroups()
	for _, g := range gs {
		if !id.in(uint32(g)) {
			id.Groups = append(id.Groups, uint32(g))
		}
	}
	return id
}

// accessPlan says whom the doctor checks access as, and how.
type accessPlan struct {
	target  identity // the daemon's user
	checked identity // whom the probes run as: target, or the doctor's own user when it cannot become target
	helper  bool     // probes run in a child process with target's credentials
	unit    unitInfo // the unit target comes from; zero when from -user or the current user
	from    string   // how target was chosen, for the config line
	// fail: target cannot be known or cannot run (a unit's user that does not exist); warn: the
	// check is not of the daemon's user.
	fail, warn, fix string
}

// restartHint is how to make the daemon take new groups or files.
func (p *accessPlan) restartHint() string {
	if p.unit.Name != "" {
		return "systemctl restart " + strings.TrimSuffix(p.unit.Name, ".service")
	}
	return "restart the kiosk's program"
}

// program is "kioskd", "kiosk", or "" when no unit tells.
func (p *accessPlan) program() string { return p.unit.Program }

// whom decides whom to check as (see the comment at the top of this file).
func (d *doctor) whom() *accessPlan { return d.decide(currentIdentity()) }

// decide is whom for a doctor running as me.
func (d *doctor) decide(me identity) *accessPlan {
	p := &accessPlan{}
	var err error
	switch {
	case d.user != "":
		p.from = "-user"
		p.target, err = lookupIdentity(d.user, "", nil)
		if err != nil {
			p.fail, p.fix = fmt.Sprintf("-user %s: %v", d.user, err), "name a user of this machine (getent passwd)"
			return p
		}
	default:
		var found []unitInfo
		for _, c := range daemonUnits {
			if u, ok := findUnit(d.unitDirs, c.unit); ok {
				u.Program = c.program
				found = append(found, u)
			}
		}
		if len(found) == 0 {
			p.target, p.checked = me, me
			p.from = "no kioskd.service or citizenhome-kiosk.service installed; -user NAME checks as another user"
			return p
		}
		p.unit = found[0]
		if len(found) > 1 {
			p.warn = fmt.Sprintf("both %s and %s are installed: checked for %s's user", found[0].Name, found[1].Name, found[0].Name)
			p.fix = "keep one of citizenhome-kiosk and citizenhome-kioskd on a machine; remove the unit file left by the other"
		}
		name := cmp.Or(p.unit.User, "root")
		p.from = "User= of " + p.unit.Path
		p.target, err = lookupIdentity(name, p.unit.Group, p.unit.Supplementary)
		if err != nil {
			p.fail = fmt.Sprintf("%s runs as %s, but: %v", p.unit.Name, name, err)
			p.fix = "reinstall citizenhome-common (its postinst creates the citizenhome user and group), or fix the unit (systemctl cat " + p.unit.Name + ")"
			return p
		}
	}
	switch {
	case me.UID == p.target.UID:
		p.checked = me
		if p.unit.Name != "" || d.user != "" {
			// The doctor's own groups are what its login gave it; the daemon's are the unit's.
			p.checked = p.target
			p.helper = me.UID == 0 || !sameGroups(me, p.target)
		}
	case me.UID == 0:
		p.checked, p.helper = p.target, true
	default:
		p.checked = me
		whose := "the user -user names"
		if p.unit.Name != "" {
			whose = "the user " + p.unit.Name + " runs as"
		}
		p.warn = joinNote(p.warn, fmt.Sprintf("checked as %s, not as %s (%s): a file %s may open proves nothing for %s",
			me.Name, p.target.Name, whose, me.Name, p.target.Name))
		p.fix = joinNote(p.fix, fmt.Sprintf("run it as root, which checks as %s by itself (su -c 'kioskctl doctor'), or as root: runuser -u %s -- kioskctl doctor",
			p.target.Name, p.target.Name))
	}
	// A helper that cannot set groups (not root) would check with the wrong ones.
	if p.helper && me.UID != 0 {
		p.helper, p.checked = false, me
		p.warn = joinNote(p.warn, fmt.Sprintf("checked with this login's groups (%s), not with those %s gives %s (%s)",
			me.groupList(), cmp.Or(p.unit.Name, "the group database"), p.target.Name, p.target.groupList()))
		p.fix = joinNote(p.fix, "run it as root: it then checks with the unit's groups")
	}
	return p
}

func sameGroups(a, b identity) bool {
	x, y := slices.Clone(a.Groups), slices.Clone(b.Groups)
	slices.Sort(x)
	slices.Sort(y)
	return a.GID == b.GID && slices.Equal(x, y)
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// What a probe asks for.
const (
	wantRead   = "r"   // open for reading
	wantWrite  = "rw"  // open for reading and writing
	wantCreate = "dir" // create files in this directory (write and search it)
)

// accessProbe is one question to the helper.
type accessProbe struct {
	Path     string `json:"path"`
	Resolved string `json:"resolved,omitempty"` // Path with its symbolic links resolved (by the doctor, who can)
	Want     string `json:"want"`
}

type probeKey struct{ path, want string }

// accessAnswer is the kernel's answer: Errno empty means allowed. Blocker is where a refusal
// happens: a directory on the way that may not be entered (BlockerDir), or the file itself.
type accessAnswer struct {
	Errno      string `json:"errno,omitempty"`
	Blocker    string `json:"blocker,omitempty"`
	BlockerDir bool   `json:"blocker_dir,omitempty"`
	// The blocker's owner, group and mode when the refusal happened (Stat: they were read), so
	// that the explanation is of the file that refused and not of one changed since.
	Stat bool   `json:"stat,omitempty"`
	UID  uint32 `json:"uid,omitempty"`
	GID  uint32 `json:"gid,omitempty"`
	Mode uint32 `json:"mode,omitempty"`
}

func (a accessAnswer) ok() bool { return a.Errno == "" }

type helperReply struct {
	UID     uint32         `json:"uid"`
	Groups  []uint32       `json:"groups"`
	Answers []accessAnswer `json:"answers"`
}

// runAccessHelper is the hidden command: probes as JSON on stdin, answers on stdout, asked as
// whoever runs it.
func runAccessHelper(stdin io.Reader, stdout io.Writer) int {
	var probes []accessProbe
	if err := json.NewDecoder(io.LimitReader(stdin, 1<<20)).Decode(&probes); err != nil {
		fmt.Fprintln(stdout, err)
		return 2
	}
	r := helperReply{UID: uint32(os.Getuid())}
	gs, _ := os.Getgroups()
	for _, g := range gs {
		r.Groups = append(r.Groups, uint32(g))
	}
	for _, p := range probes {
		r.Answers = append(r.Answers, probeAccess(p))
	}
	_ = json.NewEncoder(stdout).Encode(r)
	return 0
}

// probeAccess asks the kernel as the calling process's real user and groups (access(2) checks
// with the real ids, which the helper has set like the effective ones).
func probeAccess(p accessProbe) accessAnswer {
	mode := uint32(unix.R_OK)
	switch p.Want {
	case wantWrite:
		mode |= unix.W_OK
	case wantCreate:
		mode = unix.W_OK | unix.X_OK
	}
	err := unix.Access(p.Path, mode)
	if err == nil {
		return accessAnswer{}
	}
	a := accessAnswer{Errno: errnoName(err), Blocker: cmp.Or(p.Resolved, p.Path)}
	if errors.Is(err, unix.EACCES) {
	walk:
		for _, path := range []string{p.Path, p.Resolved} {
			for _, dir := range ancestors(path) {
				if unix.Access(dir, unix.X_OK) != nil {
					a.Blocker, a.BlockerDir = dir, true
					break walk
				}
			}
		}
	}
	// The directories above the blocker may be entered, so it can be looked at.
	var st unix.Stat_t
	if unix.Stat(a.Blocker, &st) == nil {
		a.Stat, a.UID, a.GID, a.Mode = true, st.Uid, st.Gid, st.Mode
	}
	return a
}

// ancestors lists the directories from / down to path's parent.
func ancestors(path string) []string {
	if path == "" || !filepath.IsAbs(path) {
		return nil
	}
	var out []string
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		out = append(out, dir)
		if dir == "/" {
			break
		}
	}
	slices.Reverse(out)
	return out
}

func errnoName(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		if n := unix.ErrnoName(en); n != "" {
			return n
		}
	}
	return err.Error()
}

// runProbes answers every probe as plan.checked: in a child process with those credentials when
// plan.helper, else in this process.
func (d *doctor) runProbes(ctx context.Context, p *accessPlan, probes []accessProbe) (map[probeKey]accessAnswer, error) {
	// The helper runs in / (the doctor's directory may be closed to the user): paths go to it
	// absolute, answers come back under the paths the configuration wrote.
	keys := make([]probeKey, len(probes))
	for i := range probes {
		keys[i] = probeKey{probes[i].Path, probes[i].Want}
		if abs, err := filepath.Abs(probes[i].Path); err == nil {
			probes[i].Path = abs
		}
		if t, err := filepath.EvalSymlinks(probes[i].Path); err == nil && t != probes[i].Path {
			probes[i].Resolved = t
		}
	}
	out := map[probeKey]accessAnswer{}
	if !p.helper {
		for i, pr := range probes {
			out[keys[i]] = probeAccess(pr)
		}
		return out, nil
	}
	reply, err := d.helper(ctx, p.target, probes)
	if err != nil {
		return nil, err
	}
	// The helper says who it ran as: an answer given as anybody else would be worthless.
	if reply.UID != p.target.UID || len(reply.Answers) != len(probes) {
		return nil, fmt.Errorf("the access check ran as uid %d with %d answers, not as %s (uid %d) with %d", reply.UID, len(reply.Answers), p.target.Name, p.target.UID, len(probes))
	}
	for i := range probes {
		out[keys[i]] = reply.Answers[i]
	}
	return out, nil
}

// helper runs this program as id. The program is started through /proc/self/fd: it is opened
// here, as root, so that id need not be able to reach its directory (a kioskctl in /root/bin,
// a test binary in a private build directory), only to execute the file.
func (d *doctor) helper(ctx context.Context, id identity, probes []accessProbe) (helperReply, error) {
	exe, err := os.Open(d.exe)
	if err != nil {
		return helperReply{}, err
	}
	defer exe.Close()
	in, err := json.Marshal(probes)
	if err != nil {
		return helperReply{}, err
	}
	cmd := exec.CommandContext(ctx, "/proc/self/fd/3", accessHelperArg)
	cmd.ExtraFiles = []*os.File{exe}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: id.UID, Gid: id.GID, Groups: id.Groups}}
	out, err := cmd.Output()
	if err != nil {
		return helperReply{}, fmt.Errorf("checking as %s: %v %s", id.Name, err, strings.TrimSpace(stderr.String()))
	}
	var r helperReply
	if err := json.Unmarshal(out, &r); err != nil {
		return helperReply{}, fmt.Errorf("checking as %s: %v", id.Name, err)
	}
	return r, nil
}

// fileKind picks the advice for a file the daemon may not use.
type fileKind int

const (
	kindShared fileKind = iota // configuration, catalog, certificates: group-readable is fine
	kindSecret                 // hall key, API token, MQTT credentials and key: the daemon's user only
	kindState                  // the store and its directory: the daemon's user owns them
	kindDevice                 // serial devices: a group the daemon's user is in (udev)
)

// denied words a refusal: which file, whose, and what to do. what names the file ("the hall
// key"); verb is "read", "read and write" or "create files in".
func denied(p *accessPlan, path, want string, a accessAnswer, kind fileKind) (msg, fix string) {
	who := p.checked
	verb := map[string]string{wantRead: "read", wantWrite: "read and write", wantCreate: "create files in"}[want]
	if a.Errno == "EROFS" {
		return fmt.Sprintf("%s may not %s %s: it is on a read-only file system", who.Name, verb, path),
			"keep the kiosk's files under /var/lib/citizenhome (a writable file system)"
	}
	if a.Errno != "EACCES" && a.Errno != "EPERM" {
		return fmt.Sprintf("%s may not %s %s: %s", who.Name, verb, path, a.Errno), ""
	}
	target := a.Blocker
	if !a.Stat {
		return fmt.Sprintf("%s may not %s %s (permission denied)", who.Name, verb, path), ""
	}
	st := struct{ Uid, Gid, Mode uint32 }{a.UID, a.GID, a.Mode}
	desc := fmt.Sprintf("%s:%s %s", userName(st.Uid), groupName(st.Gid), modeString(st.Mode))
	if a.BlockerDir {
		fix := fmt.Sprintf("chgrp %s %s && chmod g+x %s (or chmod o+x %s)", who.preferredGroup(), target, target, target)
		if who.in(st.Gid) {
			fix = "chmod g+x " + target
		}
		return fmt.Sprintf("%s may not enter the directory %s (%s), so it cannot %s %s", who.Name, target, desc, verb, path), fix
	}
	shown := path
	if target != path {
		shown = path + " → " + target
	}
	need := map[string]uint32{wantRead: 4, wantWrite: 6, wantCreate: 3}[want]
	class, bits := "others", st.Mode&7
	switch {
	case st.Uid == who.UID:
		class, bits = "its owner", st.Mode>>6&7
	case who.in(st.Gid):
		class, bits = "group "+groupName(st.Gid), st.Mode>>3&7
	}
	owned := fmt.Sprintf("chown %s:%s %s", who.Name, groupName(who.GID), target)
	secret := owned + " && chmod 600 " + target
	if bits&need == need {
		return fmt.Sprintf("%s may not %s %s (%s) although its mode allows it: an ACL or a security module refuses", who.Name, verb, shown, desc),
			"getfacl " + target + " shows the ACL; setfacl -b " + target + " removes it"
	}
	switch {
	case class == "its owner":
		msg = fmt.Sprintf("%s owns %s (%s) but the mode does not let its owner %s it", who.Name, shown, desc, verb)
		fix = "chmod u+rw " + target
		if want == wantRead {
			fix = "chmod u+r " + target
		}
	case strings.HasPrefix(class, "group"):
		msg = fmt.Sprintf("%s is in %s of %s (%s), but the mode does not let the group %s it", who.Name, class, shown, desc, verb)
		fix = "chmod g+r " + target
		if want != wantRead {
			fix = "chmod g+rw " + target
		}
	case (st.Mode>>3&7)&need == need:
		msg = fmt.Sprintf("%s is not in group %s, which may %s %s (%s)", who.Name, groupName(st.Gid), verb, shown, desc)
		fix = fmt.Sprintf("adduser %s %s, then %s (a service takes its groups when it starts)", who.Name, groupName(st.Gid), p.restartHint())
	default:
		msg = fmt.Sprintf("only its owner %s may %s %s (%s); %s is neither the owner nor in a group that may", userName(st.Uid), verb, shown, desc, who.Name)
		fix = fmt.Sprintf("chgrp %s %s && chmod g+r %s", who.preferredGroup(), target, target)
	}
	switch kind {
	case kindSecret:
		fix = secret + " (only the daemon's user may read it)"
	case kindState:
		fix = owned
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			// A directory may be shared (the packages make /var/lib/citizenhome root:citizenhome
			// 0770): give it to a group, never take it from its owner.
			fix = fmt.Sprintf("chgrp %s %s && chmod g+rwx %s", who.preferredGroup(), target, target)
			if who.in(st.Gid) {
				fix = "chmod g+rwx " + target
			}
		}
	case kindDevice:
		if !strings.HasPrefix(fix, "adduser") {
			fix = fmt.Sprintf("the udev rule (/lib/udev/rules.d/70-citizenhome.rules) gives the device GROUP=\"citizenhome\", MODE=\"0660\": check it matches the adapter (udevadm info --attribute-walk --name=%s), then udevadm trigger --subsystem-match=tty; %s must be in group citizenhome", target, who.Name)
		}
	}
	return msg, fix
}

// modeString is the mode as ls shows it: "crw-rw----".
func modeString(m uint32) string {
	b := []byte("?rwxrwxrwx")
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		b[0] = '-'
	case unix.S_IFDIR:
		b[0] = 'd'
	case unix.S_IFCHR:
		b[0] = 'c'
	case unix.S_IFBLK:
		b[0] = 'b'
	case unix.S_IFLNK:
		b[0] = 'l'
	case unix.S_IFSOCK:
		b[0] = 's'
	case unix.S_IFIFO:
		b[0] = 'p'
	}
	for i := range 9 {
		if m&(1<<(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	return string(b)
}

// probes lists what the daemon's user must be able to do with the files and devices the
// configuration names.
func (d *doctor) probes() []accessProbe {
	var out []accessProbe
	add := func(path, want string) {
		if path != "" && !slices.Contains(out, accessProbe{Path: path, Want: want}) {
			out = append(out, accessProbe{Path: path, Want: want})
		}
	}
	exists := func(path string) bool { _, err := os.Lstat(path); return err == nil }
	// A file that does not exist yet is created by the daemon: it needs to create files in the
	// nearest directory that exists.
	readOrCreate := func(path, want string) {
		if path == "" {
			return
		}
		if exists(path) {
			add(path, want)
			return
		}
		add(nearestDir(path), wantCreate)
	}
	c := d.cfg
	add(d.configPath, wantRead)
	add(c.Kiosk.Catalog, wantRead)
	readOrCreate(c.Privacy.KeyFile, wantRead)
	readOrCreate(c.Kiosk.Store, wantWrite)
	if exists(c.Kiosk.Store) {
		add(filepath.Dir(c.Kiosk.Store), wantCreate) // the -wal and -shm files, a rollback journal
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if exists(c.Kiosk.Store + suffix) {
				add(c.Kiosk.Store+suffix, wantWrite)
			}
		}
	}
	if d.tokenApplies() {
		readOrCreate(c.API.TokenFile, wantRead)
	}
	if c.MQTT.Enabled {
		for _, f := range []string{c.MQTT.CredentialsFile, c.MQTT.CAFile, c.MQTT.CertFile, c.MQTT.KeyFile} {
			add(f, wantRead)
		}
	}
	add(c.Devices.Printer, wantWrite)
	add(c.Devices.IDReader, wantWrite)
	return out
}

// nearestDir is the closest directory above path that exists.
func nearestDir(path string) string {
	dir := filepath.Dir(path)
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() || dir == "/" || dir == "." {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

// sandboxWrite says why the daemon may not write in dir because of its unit's sandbox, with
// the fix; "" when it may (or no unit is known).
func (d *doctor) sandboxWrite(dir string) (msg, fix string) {
	if d.plan == nil || d.plan.unit.Name == "" {
		return "", ""
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if msg := d.plan.unit.readOnly(dir); msg != "" {
		return msg, d.plan.unit.readOnlyFix(dir)
	}
	return "", ""
}

// sandboxDevice says why the daemon may not open the device at path because of its unit's
// DevicePolicy=, with the fix; "" when it may.
func (d *doctor) sandboxDevice(path, resolved string) (msg, fix string) {
	if d.plan == nil || d.plan.unit.Name == "" {
		return "", ""
	}
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return "", ""
	}
	drivers := charDrivers(d.proc)
	major := unix.Major(st.Rdev)
	if msg := d.plan.unit.deviceRefused(path, resolved, major, drivers); msg != "" {
		return msg, d.plan.unit.deviceFix(drivers[major])
	}
	return "", ""
}

// tokenApplies: the API token matters to kioskd only, so it is checked where kioskd.service is
// installed.
func (d *doctor) tokenApplies() bool {
	return d.plan != nil && d.plan.program() == "kioskd" && d.cfg.API.TokenFile != ""
}

// refused says why the daemon's user may not use path as want (bad true), from prepare's
// answers. A path that was not asked about, or an access check that could not run (the config
// line says so), is not refused.
func (d *doctor) refused(path, want string, kind fileKind) (msg, fix string, bad bool) {
	if want != wantCreate {
		if _, err := os.Lstat(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", "", false
			}
		} else if a, ok := d.access[probeKey{path, want}]; ok && !a.ok() {
			msg, fix = denied(d.plan, path, want, a, kind)
			return msg, fix, true
		}
		return "", "", false
	}
	dir := nearestDir(path)
	if a, ok := d.access[probeKey{dir, wantCreate}]; ok && !a.ok() {
		msg, fix = denied(d.plan, dir, wantCreate, a, kind)
		return msg, fix, true
	}
	return "", "", false
}

// staleGroups finds the running daemon (its program's name, run by its user) and the groups its
// user has now that the process lacks: a service takes its groups when it starts, so a user
// added to dialout since is still refused the serial ports until the service restarts.
func (d *doctor) staleGroups(p *accessPlan) (pid int, missing []uint32) {
	if p.program() == "" || p.fail != "" {
		return 0, nil
	}
	procs, _ := os.ReadDir(d.proc)
	for _, e := range procs {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(d.proc, e.Name(), "comm"))
		if strings.TrimSpace(string(comm)) != p.program() {
			continue
		}
		status, err := os.ReadFile(filepath.Join(d.proc, e.Name(), "status"))
		if err != nil {
			continue
		}
		var uid uint32
		have := map[uint32]bool{}
		for line := range strings.SplitSeq(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			switch {
			case k == "Uid" && len(f) > 0:
				u, _ := strconv.ParseUint(f[0], 10, 32)
				uid = uint32(u)
			case k == "Gid" && len(f) > 0, k == "Groups":
				if k == "Gid" {
					f = f[:1]
				}
				for _, g := range f {
					if x, err := strconv.ParseUint(g, 10, 32); err == nil {
						have[uint32(x)] = true
					}
				}
			}
		}
		if uid != p.target.UID {
			continue
		}
		for _, g := range p.target.Groups {
			if !have[g] {
				missing = append(missing, g)
			}
		}
		return n, missing
	}
	return 0, nil
}
