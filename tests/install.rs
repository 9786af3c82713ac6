//! `make install` / `make uninstall` (deploy/install.sh): the plugin lands where the `wasmedge` CLI
//! loads it without `WASMEDGE_PLUGIN_PATH`, a guest then exports through it, and uninstalling
//! removes it. Nothing here touches the machine's own plugin directories or `~/.wasmedge`:
//!
//! * a WasmEdge laid out as its official installer does (`$HOME/.wasmedge/{bin,lib}`) is built in a
//!   temporary home from symlinks to the installed one, and `HOME` points there;
//! * the Debian package's system directory (`/usr/lib/<multiarch>/wasmedge`) is tested inside a
//!   private mount namespace, with an overlay over the library directory that vanishes with it
//!   (root only; skipped with a message otherwise);
//! * `DESTDIR` staging installs into a temporary directory.
//!
//! WasmEdge 0.14 on Linux searches `WASMEDGE_PLUGIN_PATH`, then one directory derived from where
//! `libwasmedge.so` was loaded from: `<libdir>/wasmedge` under /usr or /lib, else
//! `<libdir>/../plugin`. `$HOME` plays no part (docs/deployment.md).

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasmedge_otel_tests::*;

const SO: &str = "libwasmedge_otel.so";
const LISTED: &str = "(plugin \"wasmedge_otel\")";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The plugin to install: the debug build the other end-to-end tests use (nothing is built here).
fn plugin_so() -> PathBuf {
    plugin_dir().join(SO)
}

/// A fresh directory of this test process.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test directory");
    dir
}

/// The `wasmedge` executable on PATH.
fn wasmedge_on_path() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("wasmedge"))
        .find(|p| p.is_file())
        .expect("wasmedge on PATH (run `make setup`)")
}

/// `..` and `.` removed without resolving symlinks, as WasmEdge's `lexically_normal`.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The libwasmedge.so the dynamic linker gives `wasmedge` (with `env`), as ldd prints it.
fn libwasmedge(wasmedge: &Path, env: &[(&str, OsString)]) -> PathBuf {
    let out =
        Command::new("ldd").arg(wasmedge).envs(env.iter().map(|(k, v)| (k, v))).output().expect("run ldd");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("libwasmedge.so"))
        .expect("wasmedge links libwasmedge");
    PathBuf::from(line.split("=>").nth(1).unwrap().split_whitespace().next().unwrap())
}

/// Runs `make -s -C <repo> <args>` with `env`, without inheriting make's own variables.
fn make(args: &[&str], env: &[(&str, OsString)]) -> Output {
    let mut cmd = Command::new("make");
    for var in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR", "PREFIX", "PLUGINDIR", "WASMEDGE", "PLUGIN_SO"]
    {
        cmd.env_remove(var);
    }
    cmd.env_remove("WASMEDGE_PLUGIN_PATH")
        .arg("-s")
        .arg("-C")
        .arg(repo())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run make")
}

fn ok(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A command with no `OTEL_*`, `TRACEPARENT` or `WASMEDGE_PLUGIN_PATH` from the caller's environment.
fn clean(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("OTEL_") || k == "TRACEPARENT" || k == "WASMEDGE_PLUGIN_PATH" {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Runs `cmd` to completion, killed after [`RUN_TIMEOUT`].
fn bounded(mut cmd: Command) -> Output {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = fresh_dir(&format!("run-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    let (out_path, err_path) = (dir.join("out"), dir.join("err"));
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = cmd.spawn().expect("spawn");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} ran over {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output { status, stdout: std::fs::read(out_path).unwrap(), stderr: std::fs::read(err_path).unwrap() }
}

/// `wasmedge --version` without WASMEDGE_PLUGIN_PATH.
fn version(wasmedge: &Path, env: &[(&str, OsString)]) -> String {
    let out = bounded({
        let mut cmd = clean(wasmedge);
        cmd.arg("--version").envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    });
    ok("wasmedge --version", &out)
}

/// Runs examples/hello-world with `wasmedge` (no WASMEDGE_PLUGIN_PATH) and checks its span arrives.
fn hello_world_exports(wasmedge: &Path, env: &[(&str, OsString)]) {
    let c = collector();
    let out = bounded({
        let mut cmd = clean(wasmedge);
        cmd.arg(example("hello-world"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", c.endpoint());
        cmd
    });
    assert_exit(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello, world\n");
    let spans = c.wait_for_spans(1, ARRIVAL_TIMEOUT).expect("the span of hello-world arrives");
    assert_eq!(typed_attrs(&span(&spans, "main").span.attributes), ["greeting=s:\"hello\""]);
}

fn same_file_contents(a: &Path, b: &Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(x == y, "{} is a copy of {}", a.display(), b.display());
}

#[test]
fn install_into_a_home_wasmedge_installation_is_found_without_plugin_path_and_uninstall_removes_it() {
    // The caller's own ~/.wasmedge, which nothing here may change.
    let real_home_plugin = std::env::var_os("HOME").map(|h| Path::new(&h).join(".wasmedge/plugin").join(SO));
    let real_before = real_home_plugin.as_ref().map(|p| p.exists());

    // $HOME/.wasmedge as WasmEdge's installer lays it out: bin/wasmedge and lib/libwasmedge.so.0
    // (here symlinks to the installed ones; the library is found through LD_LIBRARY_PATH, as the
    // installer's env script sets it).
    let home = fresh_dir("install-home");
    let root = home.join(".wasmedge");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("lib")).unwrap();
    let system_wasmedge = wasmedge_on_path();
    std::os::unix::fs::symlink(&system_wasmedge, root.join("bin/wasmedge")).unwrap();
    std::os::unix::fs::symlink(libwasmedge(&system_wasmedge, &[]), root.join("lib/libwasmedge.so.0"))
        .unwrap();
    let path = std::env::join_paths(
        std::iter::once(root.join("bin"))
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let env: Vec<(&str, OsString)> =
        vec![("HOME", home.clone().into()), ("PATH", path), ("LD_LIBRARY_PATH", root.join("lib").into())];
    let wasmedge = root.join("bin/wasmedge");
    assert_eq!(
        libwasmedge(&wasmedge, &env),
        root.join("lib/libwasmedge.so.0"),
        "the home installation's library"
    );
    assert!(!version(&wasmedge, &env).contains(LISTED), "not installed yet");

    let so = plugin_so().display().to_string();
    let out = ok("make install", &make(&["install", &format!("PLUGIN_SO={so}")], &env));
    let installed = root.join("plugin").join(SO);
    let header = root.join("include/wasmedge_otel.h");
    assert!(installed.is_file(), "plugin installed in ~/.wasmedge/plugin: {out}");
    same_file_contents(&installed, &plugin_so());
    same_file_contents(&header, &repo().join("include/wasmedge_otel.h"));
    assert!(out.contains("wasmedge --version lists the plugin"), "install checks the result: {out}");

    let listing = version(&wasmedge, &env);
    let line =
        listing.lines().find(|l| l.contains(LISTED)).unwrap_or_else(|| panic!("plugin listed: {listing}"));
    assert!(line.contains(&root.display().to_string()), "loaded from the home installation: {line}");
    hello_world_exports(&wasmedge, &env);

    let out = ok("make uninstall", &make(&["uninstall"], &env));
    assert!(!installed.exists() && !header.exists(), "uninstall removes the plugin and the header: {out}");
    assert!(!version(&wasmedge, &env).contains(LISTED), "no longer listed");

    let real_after = real_home_plugin.as_ref().map(|p| p.exists());
    assert_eq!(real_before, real_after, "the real ~/.wasmedge is untouched");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn install_into_the_system_plugin_directory_of_the_debian_package_in_a_private_mount_namespace() {
    let system_wasmedge = wasmedge_on_path();
    let libdir = lexical(libwasmedge(&system_wasmedge, &[]).parent().unwrap());
    if !libdir.starts_with("/usr") && !libdir.starts_with("/lib") {
        eprintln!("skipped: this wasmedge's library is in {}, not a system directory", libdir.display());
        return;
    }
    let unshare_works = is_root()
        && Command::new("unshare").args(["-m", "true"]).status().map(|s| s.success()).unwrap_or(false);
    if !unshare_works {
        eprintln!(
            "skipped: needs root and `unshare -m` (a private mount namespace) to leave the real {} alone",
            libdir.display()
        );
        return;
    }
    let t = fresh_dir("install-system");
    for d in ["upper", "work", "prefix", "home"] {
        std::fs::create_dir_all(t.join(d)).unwrap();
    }
    let c = collector();
    // Inside the namespace the library directory is an overlay whose writes land in t/upper: the
    // real directory never changes, and the mount disappears with the namespace.
    let script = r#"
set -euo pipefail
mount -t overlay overlay -o "lowerdir=$LIBDIR,upperdir=$T/upper,workdir=$T/work" "$LIBDIR"
make -s -C "$REPO" install "PLUGIN_SO=$SO" "PREFIX=$T/prefix"
echo "== listed"
wasmedge --version
echo "== run"
OTEL_EXPORTER_OTLP_ENDPOINT="$ENDPOINT" timeout 60 wasmedge "$GUEST"
echo "== uninstall"
make -s -C "$REPO" uninstall "PREFIX=$T/prefix"
echo "== after"
wasmedge --version
"#;
    let out = bounded({
        let mut cmd = clean(Path::new("unshare"));
        for var in
            ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR", "PREFIX", "PLUGINDIR", "WASMEDGE", "PLUGIN_SO"]
        {
            cmd.env_remove(var);
        }
        cmd.args(["-m", "--propagation", "private", "bash", "-c", script])
            .env("LIBDIR", &libdir)
            .env("T", &t)
            .env("REPO", repo())
            .env("SO", plugin_so())
            .env("ENDPOINT", c.endpoint())
            .env("GUEST", example("hello-world"))
            .env("HOME", t.join("home"));
        cmd
    });
    let stdout = ok("install in a private mount namespace", &out);
    let section = |name: &str| {
        let start =
            stdout.find(&format!("== {name}\n")).unwrap_or_else(|| panic!("section {name}: {stdout}"));
        let rest = &stdout[start + name.len() + 4..];
        rest[..rest.find("\n== ").map_or(rest.len(), |e| e + 1)].to_owned()
    };
    let plugin_path = libdir.join("wasmedge").join(SO);
    assert!(stdout.contains(&format!("installed {}", plugin_path.display())), "{stdout}");
    assert!(stdout.contains("wasmedge --version lists the plugin"), "{stdout}");
    assert!(
        section("listed").contains(&format!("{} {LISTED}", plugin_path.display())),
        "the Debian package's wasmedge loads {} without WASMEDGE_PLUGIN_PATH: {stdout}",
        plugin_path.display()
    );
    assert!(section("run").contains("hello, world"), "{stdout}");
    let spans = c.wait_for_spans(1, ARRIVAL_TIMEOUT).expect("the span of hello-world arrives");
    span(&spans, "main");
    assert!(!section("after").contains(LISTED), "uninstalled: {stdout}");
    assert!(!t.join("prefix/include/wasmedge_otel.h").exists(), "header uninstalled");
}

#[test]
fn destdir_stages_the_plugin_and_header_and_the_default_plugin_dir_is_wasmedges_own() {
    let t = fresh_dir("install-destdir");
    let so = format!("PLUGIN_SO={}", plugin_so().display());

    // Explicit directories, staged.
    let stage = t.join("stage");
    let vars = [
        format!("DESTDIR={}", stage.display()),
        "PREFIX=/opt/otel".to_owned(),
        "PLUGINDIR=/opt/otel/plugin".to_owned(),
    ];
    let args: Vec<&str> = vars.iter().map(String::as_str).collect();
    let out = ok("make install DESTDIR=...", &make(&[&["install", so.as_str()], &args[..]].concat(), &[]));
    assert!(stage.join("opt/otel/plugin").join(SO).is_file(), "{out}");
    same_file_contents(
        &stage.join("opt/otel/include/wasmedge_otel.h"),
        &repo().join("include/wasmedge_otel.h"),
    );
    assert!(
        !out.contains("lists the plugin"),
        "a staged installation is not checked against wasmedge: {out}"
    );
    ok("make uninstall DESTDIR=...", &make(&[&["uninstall"], &args[..]].concat(), &[]));
    assert!(
        !stage.join("opt/otel/plugin").join(SO).exists()
            && !stage.join("opt/otel/include/wasmedge_otel.h").exists()
    );

    // Default plugin directory: the one the installed wasmedge searches.
    let system_wasmedge = wasmedge_on_path();
    let libdir = lexical(libwasmedge(&system_wasmedge, &[]).parent().unwrap());
    let expected = if libdir.starts_with("/usr") || libdir.starts_with("/lib") {
        libdir.join("wasmedge")
    } else {
        lexical(&libdir.join("../plugin"))
    };
    let dirs = Command::new("bash")
        .arg(repo().join("deploy/install.sh"))
        .arg("dirs")
        .env_remove("PLUGINDIR")
        .env_remove("PREFIX")
        .output()
        .unwrap();
    let dirs = ok("install.sh dirs", &dirs);
    assert!(dirs.contains(&format!("PLUGINDIR={}\n", expected.display())), "{dirs}");
    let stage2 = t.join("stage2");
    let destdir = format!("DESTDIR={}", stage2.display());
    ok("make install (default PLUGINDIR)", &make(&["install", &so, &destdir, "PREFIX=/usr/local"], &[]));
    assert!(
        stage2.join(expected.strip_prefix("/").unwrap()).join(SO).is_file(),
        "staged in {}",
        expected.display()
    );
    assert!(stage2.join("usr/local/include/wasmedge_otel.h").is_file());
}

#[test]
fn install_fails_clearly_without_a_plugin_or_a_wasmedge() {
    let t = fresh_dir("install-errors");
    let destdir = format!("DESTDIR={}", t.display());
    let out = make(&["install", "PLUGIN_SO=/nonexistent/libwasmedge_otel.so", &destdir], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found: build it first"), "{out:?}");

    let so = format!("PLUGIN_SO={}", plugin_so().display());
    let out = make(&["install", &so, &destdir, "WASMEDGE=/nonexistent/wasmedge"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no wasmedge executable found"), "{out:?}");
    assert!(std::fs::read_dir(&t).unwrap().next().is_none(), "nothing installed");
}
