//! A command line as an operator typed it, reduced to the command whose output follows.
//!
//! `sudo -i`, `env X=1`, `timeout 10`, `nsenter -t 1 -m --`, `kubectl exec -n ns pod -- ...`,
//! `crictl exec ID ...`, `ssh node ...`, `sh -c '...'`, `watch -n1 ...` and variable assignments are
//! peeled off; of a pipeline the first stage is the command and the others filter it (`| grep qemu`
//! keeps ps rows, `| wc -l` does not); of a list (`date; multipath -ll`) the last command that prints
//! is the one read, and a leading `date` is remembered. The file name sos gives a command's output
//! (`sos_commands/<plugin>/[<subdir>/]<command with every run of other characters than
//! `[A-Za-z0-9_./-]` as `_`, `/` as `.`>`) is turned back into a command line.
//!
//! See: sos `sos/report/plugins/__init__.py` (`_mangle_command`), sudo(8), env(1), timeout(1),
//! nsenter(1), watch(1), ssh(1), kubectl exec, crictl exec.

/// The command whose output a section holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Command {
    /// Program and arguments, wrappers removed (`["multipath", "-ll"]`).
    pub argv: Vec<String>,
    /// Pipeline stages after the first (`[["grep", "qemu"]]`).
    pub filters: Vec<Vec<String>>,
    /// The host an `ssh host cmd` ran the command on.
    pub remote: Option<String>,
    /// `watch` reruns the command and prints a title line with the time before each run.
    pub watch: bool,
    /// A `date` ran first in the same line (`date; multipath -ll`): its output comes first.
    pub date_first: bool,
    /// Standard output went to a file: nothing is expected on the terminal.
    pub redirected: bool,
}

impl Command {
    /// The program's base name (`/usr/sbin/multipath` -> `multipath`).
    pub fn bin(&self) -> &str {
        self.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)).unwrap_or("")
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }

    /// True when a filter changes what the lines are (`wc`, `awk`, `cut`, `sed`, `jq`, `column`).
    pub fn reshaped(&self) -> bool {
        self.filters.iter().any(|f| {
            let b = f.first().map(|a| a.rsplit('/').next().unwrap_or(a)).unwrap_or("");
            !matches!(
                b,
                "grep" | "egrep" | "fgrep" | "head" | "tail" | "sort" | "uniq" | "less" | "more" | "cat" | "tee"
            )
        })
    }

    /// The command line joined back with single spaces.
    pub fn line(&self) -> String {
        self.argv.join(" ")
    }
}

/// A word or an operator of a shell command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Pipe,
    /// `;`, `&&`, `||`, `&`.
    List,
    /// `>`, `>>`, `2>`, `&>`, `<` (the file name follows as a word), or `2>&1` (complete).
    Redirect {
        stdout: bool,
        complete: bool,
    },
}

/// Splits a command line into words and operators (quotes and backslashes as the shell reads them;
/// no expansion). Unterminated quotes end the word.
fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut it = s.chars().peekable();
    let flush = |cur: &mut String, have: &mut bool, out: &mut Vec<Tok>| {
        if *have {
            out.push(Tok::Word(std::mem::take(cur)));
            *have = false;
        }
    };
    while let Some(c) = it.next() {
        match c {
            '\'' => {
                have = true;
                for d in it.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                have = true;
                while let Some(d) = it.next() {
                    match d {
                        '"' => break,
                        '\\' if matches!(it.peek(), Some('"' | '\\' | '$' | '`')) => cur.extend(it.next()),
                        d => cur.push(d),
                    }
                }
            }
            '\\' => {
                have = true;
                cur.extend(it.next());
            }
            ' ' | '\t' => flush(&mut cur, &mut have, &mut out),
            '|' => {
                flush(&mut cur, &mut have, &mut out);
                if it.peek() == Some(&'|') {
                    it.next();
                    out.push(Tok::List);
                } else {
                    out.push(Tok::Pipe);
                }
            }
            ';' => {
                flush(&mut cur, &mut have, &mut out);
                out.push(Tok::List);
            }
            '&' => {
                flush(&mut cur, &mut have, &mut out);
                match it.peek() {
                    Some('&') => {
                        it.next();
                        out.push(Tok::List);
                    }
                    Some('>') => {
                        it.next();
                        if it.peek() == Some(&'>') {
                            it.next();
                        }
                        out.push(Tok::Redirect { stdout: true, complete: false });
                    }
                    _ => out.push(Tok::List),
                }
            }
            '>' | '<' => {
                // `2>` and `2>&1`: a digit right before belongs to the operator.
                let fd = if have && cur.len() == 1 && cur.chars().all(|d| d.is_ascii_digit()) {
                    have = false;
                    std::mem::take(&mut cur).parse::<u8>().ok()
                } else {
                    flush(&mut cur, &mut have, &mut out);
                    None
                };
                if it.peek() == Some(&'>') {
                    it.next();
                }
                let stdout = c == '>' && fd.unwrap_or(1) == 1;
                if it.peek() == Some(&'&') {
                    it.next();
                    while it.peek().is_some_and(|d| d.is_ascii_digit() || *d == '-') {
                        it.next();
                    }
                    out.push(Tok::Redirect { stdout: false, complete: true });
                } else {
                    out.push(Tok::Redirect { stdout, complete: false });
                }
            }
            '#' if !have => break, // a comment
            c => {
                have = true;
                cur.push(c);
            }
        }
    }
    flush(&mut cur, &mut have, &mut out);
    out
}

/// Options of wrappers that take a value (`sudo -u root`), so the value is not taken for the command.
fn takes_value(wrapper: &str, opt: &str) -> bool {
    let with_value: &[&str] = match wrapper {
        "sudo" => &["-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "--user", "--group"],
        "env" => &["-u", "--unset", "-C", "--chdir", "-S"],
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "stdbuf" => &["-i", "-o", "-e"],
        "nsenter" => &["-t", "-S", "-G", "--target", "--setuid", "--setgid"],
        "watch" => &["-n", "--interval", "-q", "--equexit"],
        "ssh" => &[
            "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o", "-p", "-Q", "-R", "-S",
            "-W", "-w",
        ],
        "exec" => &["-c", "--container", "-n", "--namespace", "-u", "--user", "-e", "--env", "-w", "--workdir"],
        "su" => &["-s", "--shell", "-g", "-G", "-w"],
        _ => &[],
    };
    with_value.contains(&opt)
}

/// Removes wrappers from the front of `words`; returns the remote host an `ssh` named and whether
/// `watch` ran the command.
fn unwrap(mut words: Vec<String>, remote: &mut Option<String>, watch: &mut bool) -> Vec<String> {
    for _ in 0..16 {
        let Some(first) = words.first() else { return words };
        let bin = first.rsplit('/').next().unwrap_or(first).to_string();
        // `X=1 cmd`: assignments before the command.
        if first.contains('=') && !first.starts_with('-') && first.split('=').next().is_some_and(is_name) {
            words.remove(0);
            continue;
        }
        let skip_opts = |words: &[String], from: usize, wrapper: &str, until_dashdash: bool| -> usize {
            let mut i = from;
            while i < words.len() {
                let w = &words[i];
                if w == "--" {
                    return i + 1;
                }
                if !w.starts_with('-') || w == "-" {
                    if until_dashdash {
                        i += 1;
                        continue;
                    }
                    return i;
                }
                i += if takes_value(wrapper, w) { 2 } else { 1 };
            }
            i
        };
        let next = match bin.as_str() {
            "sudo" | "doas" | "nice" | "ionice" | "stdbuf" | "nohup" | "time" | "command" | "exec" | "builtin"
            | "unbuffer" => skip_opts(&words, 1, &bin, false),
            "env" => {
                let mut i = skip_opts(&words, 1, "env", false);
                while words.get(i).is_some_and(|w| w.contains('=')) {
                    i += 1;
                }
                i
            }
            "timeout" => skip_opts(&words, 1, "timeout", false) + 1,
            "nsenter" => skip_opts(&words, 1, "nsenter", false),
            "chroot" => skip_opts(&words, 1, "chroot", false) + 1,
            "watch" => {
                *watch = true;
                skip_opts(&words, 1, "watch", false)
            }
            "ssh" => {
                let i = skip_opts(&words, 1, "ssh", false);
                if let Some(h) = words.get(i) {
                    *remote = Some(h.rsplit('@').next().unwrap_or(h).to_string());
                }
                i + 1
            }
            "kubectl" | "oc" if words.get(1).is_some_and(|w| w == "exec") => {
                match words.iter().position(|w| w == "--") {
                    Some(i) => i + 1,
                    // Old form: `kubectl exec POD cmd` (deprecated without `--`).
                    None => skip_opts(&words, 2, "exec", false) + 1,
                }
            }
            "crictl" | "docker" | "podman" | "nerdctl" if words.get(1).is_some_and(|w| w == "exec") => {
                skip_opts(&words, 2, "exec", false) + 1
            }
            "su" => match words.iter().position(|w| w == "-c" || w == "--command") {
                Some(i) => {
                    let inner = words.get(i + 1).cloned().unwrap_or_default();
                    return first_stage(&inner, remote, watch);
                }
                None => return words,
            },
            "sh" | "bash" | "zsh" | "dash" | "ksh" | "busybox" if words.get(1).is_some_and(|w| w == "-c") => {
                let inner = words.get(2).cloned().unwrap_or_default();
                return first_stage(&inner, remote, watch);
            }
            "busybox" if words.len() > 1 => 1,
            _ => return words,
        };
        words.drain(..next.min(words.len()));
        // `watch 'multipath -ll'` and `ssh host 'cmd ...'`: one quoted word holding a command line.
        if words.len() == 1 && words[0].contains(' ') {
            let inner = words.remove(0);
            return first_stage(&inner, remote, watch);
        }
    }
    words
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') && !s.as_bytes()[0].is_ascii_digit()
}

/// The first stage's words of the command that prints, for a nested command line (`sh -c '...'`).
fn first_stage(line: &str, remote: &mut Option<String>, watch: &mut bool) -> Vec<String> {
    let c = parse_inner(line, remote, watch);
    c.argv
}

/// Commands that print nothing worth reading when listed before the one that does.
fn quiet(argv: &[String]) -> bool {
    matches!(
        argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)),
        Some(
            "cd" | "export"
                | "set"
                | "unset"
                | "sleep"
                | "clear"
                | "true"
                | "sync"
                | "echo"
                | "printf"
                | "date"
                | "hostname"
        )
    )
}

fn parse_inner(line: &str, remote: &mut Option<String>, watch: &mut bool) -> Command {
    // Split into list elements, each into pipeline stages.
    let mut lists: Vec<(Vec<Vec<String>>, bool)> = vec![(vec![Vec::new()], false)];
    let mut redirect_next = false;
    for t in tokenize(line) {
        let (stages, redirected) = lists.last_mut().expect("one list element");
        match t {
            Tok::Word(w) if redirect_next => {
                redirect_next = false;
                let _ = w;
            }
            Tok::Word(w) => stages.last_mut().expect("one stage").push(w),
            Tok::Pipe => stages.push(Vec::new()),
            Tok::List => lists.push((vec![Vec::new()], false)),
            Tok::Redirect { stdout, complete } => {
                if stdout && !complete {
                    *redirected = true;
                }
                redirect_next = !complete;
            }
        }
    }
    lists.retain(|(s, _)| s.iter().any(|st| !st.is_empty()));
    let date_first = lists.len() > 1
        && lists[0].0.len() == 1
        && lists[0].0[0].first().is_some_and(|w| w.rsplit('/').next() == Some("date"));
    // The last element that prints something worth reading, else the last one.
    let pick = lists.iter().rposition(|(s, _)| !quiet(&s[0])).or(lists.len().checked_sub(1));
    let Some(pick) = pick else { return Command::default() };
    let (mut stages, redirected) = lists.swap_remove(pick);
    stages.retain(|s| !s.is_empty());
    if stages.is_empty() {
        return Command::default();
    }
    let first = stages.remove(0);
    let argv = unwrap(first, remote, watch);
    Command { argv, filters: stages, remote: None, watch: false, date_first, redirected }
}

/// Parses a command line as typed at a prompt or written in a command log header.
pub(crate) fn parse(line: &str) -> Command {
    let mut remote = None;
    let mut watch = false;
    let mut c = parse_inner(line, &mut remote, &mut watch);
    c.remote = remote;
    c.watch = watch;
    c
}

/// The command a sosreport (`sos_commands/<plugin>/[<subdir>/]multipath_-ll`, a top-level `ps` or
/// `df` symlink) or a rootline bundle (`commands/multipath_-ll.txt`) path names. Member names may
/// start with `./`.
pub(crate) fn command_from_path(path: &str) -> Option<String> {
    let p = path.rsplit('!').next().unwrap_or(path);
    let p = p.trim_start_matches("./");
    let mut parts = p.rsplit('/');
    let base = parts.next()?;
    let parent = parts.next();
    let base = base.strip_suffix(".txt").unwrap_or(base);
    if p.contains("sos_commands/") || parent == Some("commands") {
        // sos adds `.1`, `.2` to a name it already used.
        let base = match base.rsplit_once('.') {
            Some((b, n)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => b,
            _ => base,
        };
        return Some(base.replace('_', " "));
    }
    // sosreport's top-level symlinks to the process and filesys plugins' outputs.
    let in_sos_root = parent.is_some_and(|d| d.starts_with("sosreport") || d.starts_with("sos_"));
    match base {
        "ps" if in_sos_root => Some("ps auxwwwm".into()),
        "df" if in_sos_root => Some("df -al -x autofs".into()),
        "mount" if in_sos_root => Some("mount -l".into()),
        "lsof" if in_sos_root => Some("lsof".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        parse(line).argv
    }

    #[test]
    fn wrappers_are_peeled() {
        assert_eq!(argv("sudo multipath -ll"), ["multipath", "-ll"]);
        assert_eq!(argv("sudo -u root -E ps auxww"), ["ps", "auxww"]);
        assert_eq!(argv("LANG=C sudo env TERM=dumb timeout -s KILL 10 virsh list --all"), ["virsh", "list", "--all"]);
        assert_eq!(argv("nsenter -t 1 -m -u -- /usr/sbin/multipath -ll"), ["/usr/sbin/multipath", "-ll"]);
        assert_eq!(argv("kubectl exec -n openstack libvirt-x -c libvirt -- virsh list"), ["virsh", "list"]);
        assert_eq!(argv("timeout 10 crictl exec 753ac7cfab3c virsh list"), ["virsh", "list"]);
        assert_eq!(argv("crictl exec -it 753ac7cfab3c virsh list"), ["virsh", "list"]);
        assert_eq!(argv("sudo sh -c 'cat /proc/4242/stack'"), ["cat", "/proc/4242/stack"]);
        assert_eq!(argv("su - root -c \"dmsetup ls --tree\""), ["dmsetup", "ls", "--tree"]);
        let c = parse("watch -n1 'multipath -ll'");
        assert!(c.watch);
        assert_eq!(c.argv, ["multipath", "-ll"]);
        let c = parse("ssh -p 22 root@node37 sudo iscsiadm -m session -P 3");
        assert_eq!(c.remote.as_deref(), Some("node37"));
        assert_eq!(c.argv, ["iscsiadm", "-m", "session", "-P", "3"]);
    }

    #[test]
    fn pipelines_lists_and_redirections() {
        let c = parse("sudo ps auxww | grep [q]emu | grep -v grep");
        assert_eq!(c.argv, ["ps", "auxww"]);
        assert_eq!(c.filters.len(), 2);
        assert!(!c.filters.is_empty() && !c.reshaped());
        assert!(parse("ps aux | wc -l").reshaped());
        let c = parse("date; sudo multipath -ll");
        assert!(c.date_first);
        assert_eq!(c.argv, ["multipath", "-ll"]);
        assert_eq!(argv("cd /tmp && ls -l /dev/disk/by-id"), ["ls", "-l", "/dev/disk/by-id"]);
        let c = parse("multipath -ll > /tmp/mp.txt 2>&1");
        assert!(c.redirected);
        assert_eq!(c.argv, ["multipath", "-ll"]);
        assert!(!parse("multipath -ll 2>&1").redirected);
        assert!(!parse("multipath -ll 2>/dev/null").redirected);
        assert_eq!(argv("ps -eo 'pid,stat,wchan:32,cmd'"), ["ps", "-eo", "pid,stat,wchan:32,cmd"]);
        assert_eq!(argv("echo \"a b\" # comment"), ["echo", "a b"]);
        assert_eq!(argv(""), Vec::<String>::new());
        assert_eq!(argv("sudo"), Vec::<String>::new());
        assert_eq!(argv("'unterminated"), ["unterminated"]);
    }

    #[test]
    fn paths_name_commands() {
        assert_eq!(
            command_from_path("sosreport-x/sos_commands/multipath/multipath_-ll").as_deref(),
            Some("multipath -ll")
        );
        assert_eq!(
            command_from_path("./sosreport-x/sos_commands/iscsi/iscsiadm_-m_session_-P_3").as_deref(),
            Some("iscsiadm -m session -P 3")
        );
        assert_eq!(
            command_from_path("x.tar.xz!./sos_commands/crio/containers/crictl_inspect_4f2f0c1d9e8b").as_deref(),
            Some("crictl inspect 4f2f0c1d9e8b")
        );
        assert_eq!(
            command_from_path("s/sos_commands/devicemapper/dmsetup_info_-c.1").as_deref(),
            Some("dmsetup info -c")
        );
        assert_eq!(command_from_path("rootline-h/commands/lsblk_-J.txt").as_deref(), Some("lsblk -J"));
        assert_eq!(command_from_path("sosreport-node37-2025-03-11/ps").as_deref(), Some("ps auxwwwm"));
        assert_eq!(command_from_path("var/log/ps"), None);
        assert_eq!(command_from_path("var/log/messages"), None);
    }
}
